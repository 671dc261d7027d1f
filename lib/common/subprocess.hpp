// Running another program: its standard streams inherited, discarded, captured through pipes
// (read while it runs, so it never blocks on a full pipe) or sent to a file; its standard input
// empty, inherited, a file or a text it is fed; in a process group of its own on request, so
// that a signal reaches the programs it starts. A running program is killed and reaped when its
// Process goes, whatever happened meanwhile; run_process bounds it in time and stops it on
// request (SIGTERM, then SIGKILL after a grace period).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace geo_ssf {

// Where a program's standard input comes from.
struct ProcessInput {
    enum class Kind { null, inherit, file, text } kind = Kind::null;
    std::filesystem::path file;
    std::string text;

    static ProcessInput null() { return {}; }
    static ProcessInput inherit() { return {Kind::inherit, {}, {}}; }
    static ProcessInput from_file(const std::filesystem::path& file) { return {Kind::file, file, {}}; }
    static ProcessInput from_text(std::string text) { return {Kind::text, {}, std::move(text)}; }
};

// Where a program's standard output or error goes.
struct ProcessOutput {
    enum class Kind { inherit, discard, capture, file } kind = Kind::inherit;
    std::filesystem::path file;  // appended to, created when missing

    static ProcessOutput inherit() { return {}; }
    static ProcessOutput discard() { return {Kind::discard, {}}; }
    static ProcessOutput capture() { return {Kind::capture, {}}; }
    static ProcessOutput to_file(const std::filesystem::path& file) { return {Kind::file, file}; }
};

struct ProcessSpec {
    std::vector<std::string> argv;                        // argv[0]: a path, or a name looked up on PATH
    std::optional<std::vector<std::string>> environment;  // "NAME=value", all of it; nullopt: this process's
    std::optional<std::filesystem::path> cwd;
    ProcessInput input;
    ProcessOutput out;
    ProcessOutput err;
    // The descriptor OUT is given to: 1, or another past 2 for a program that writes what is
    // wanted there (git's packet trace), its standard output then discarded.
    int out_fd = 1;
    bool own_process_group = false;
    size_t capture_limit = 0;  // >0: of a captured stream, at least the last this many bytes are kept
};

struct ProcessExit {
    int code = -1;   // its exit code, -1 when a signal ended it
    int signal = 0;  // the signal that ended it, 0 when it exited
    bool succeeded() const { return code == 0; }
    // The shell's $?: the exit code, or 128 + the signal's number.
    int status() const { return signal ? 128 + signal : code; }
};

// A program started by the constructor (std::system_error when it cannot be) and, if it is
// still running when the object goes, killed (SIGKILL, to its group when it has one) and reaped.
class Process {
public:
    explicit Process(const ProcessSpec& spec);
    ~Process();
    Process(const Process&) = delete;
    Process& operator=(const Process&) = delete;

    pid_t pid() const { return m_pid; }

    // Sends SIGNAL_NUMBER to the program (and its group when it has one), unless it is reaped.
    void signal(int signal_number);

    // Feeds its input and reads its captured output for at most WAIT; returns false once there
    // is nothing left to do: every captured stream closed and, when none is captured, the
    // program ended.
    bool pump(std::chrono::milliseconds wait);

    // Waits for its captured streams to close, then for it to end; its exit.
    ProcessExit wait();

    // Its exit when it has ended (reaping it), else nullopt. Does not read its output.
    std::optional<ProcessExit> exit_if_ended();

    const std::string& out() const { return m_out.text; }
    // How many bytes it has written to a captured standard output, kept or not.
    size_t out_received() const { return m_out_received; }
    const std::string& err() const { return m_err.text; }
    // When it last wrote to a captured stream (or started).
    std::chrono::steady_clock::time_point last_output() const { return m_last_output; }

private:
    struct Capture {
        int fd = -1;
        std::string text;
    };
    bool read_from(Capture& capture);
    void write_input();
    void close_fd(int& fd);

    pid_t m_pid = -1;
    bool m_own_group = false;
    std::optional<ProcessExit> m_exit;
    size_t m_capture_limit = 0;
    Capture m_out, m_err;
    size_t m_out_received = 0;
    int m_input_fd = -1;
    std::string m_input;
    size_t m_input_written = 0;
    std::chrono::steady_clock::time_point m_last_output;
};

// This process's environment ("NAME=value") without the variables NAMES: for a program that
// must not see a secret this process was given.
std::vector<std::string> environment_without(std::span<const std::string_view> names);

// Bounds for run_process, each optional.
struct ProcessLimits {
    std::optional<std::chrono::milliseconds> timeout;        // from its start
    std::optional<std::chrono::milliseconds> quiet_timeout;  // since it last wrote to a captured stream
    std::function<bool()> stop;                              // asked a few times a second: true stops it
    std::chrono::milliseconds grace = std::chrono::seconds(10);  // after SIGTERM, before SIGKILL
    // Called with what has arrived on its captured standard output since the last call, whatever
    // its capture_limit; what it throws kills the program and reaches run_process's caller.
    std::function<void(std::string_view arrived)> on_output;
};

// Why run_process's program ended: by itself, or stopped by one of the limits.
enum class ProcessEnd { exited, stopped, timed_out, quiet };

struct ProcessResult {
    ProcessExit exit;
    ProcessEnd end = ProcessEnd::exited;
    std::string out;  // what it wrote to captured streams
    std::string err;
};

// Runs SPEC to its end within LIMITS (stopped with SIGTERM, then SIGKILL after the grace
// period). Throws std::system_error when it cannot start.
ProcessResult run_process(const ProcessSpec& spec, const ProcessLimits& limits = {});

}  // namespace geo_ssf
