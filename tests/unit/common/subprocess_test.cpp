#include "common/subprocess.hpp"

#include "test_support.hpp"

#include <signal.h>

#include <doctest/doctest.h>

#include <chrono>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>

using namespace geo_ssf;
using namespace std::chrono_literals;

namespace {

// sh -c SCRIPT, its output captured.
ProcessSpec shell_spec(const std::string& script) {
    ProcessSpec spec;
    spec.argv = {"/bin/sh", "-c", script};
    spec.out = ProcessOutput::capture();
    spec.err = ProcessOutput::capture();
    return spec;
}

// Whether PID is a process that has not ended (a zombie has).
bool running(pid_t pid) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(stat, line))
        return false;
    auto paren = line.rfind(')');
    return paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] != 'Z';
}

// Whether PID ends within a minute: a signal takes a moment to end a process that is not ours.
bool ends(pid_t pid) {
    auto until = std::chrono::steady_clock::now() + 60s;
    while (running(pid) && std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(10ms);
    return !running(pid);
}

}  // namespace

TEST_SUITE("subprocess") {

TEST_CASE("subprocess::run_process gives the exit code and what it wrote, each stream apart") {
    ProcessResult result = run_process(shell_spec("echo out; echo err >&2; exit 3"));
    CHECK(result.end == ProcessEnd::exited);
    CHECK(result.exit.code == 3);
    CHECK(result.exit.signal == 0);
    CHECK(result.exit.status() == 3);
    CHECK_FALSE(result.exit.succeeded());
    CHECK(result.out == "out\n");
    CHECK(result.err == "err\n");
    CHECK(run_process(shell_spec("true")).exit.succeeded());
}

TEST_CASE("subprocess::run_process: a program ended by a signal") {
    ProcessResult result = run_process(shell_spec("kill -TERM $$"));
    CHECK(result.exit.code == -1);
    CHECK(result.exit.signal == SIGTERM);
    CHECK(result.exit.status() == 128 + SIGTERM);
}

TEST_CASE("subprocess::run_process feeds a text to its input, and reads more than a pipe holds") {
    std::string input(1 << 20, 'x');
    ProcessSpec spec = shell_spec("cat; cat >&2 </dev/null");
    spec.input = ProcessInput::from_text(input);
    ProcessResult result = run_process(spec);
    CHECK(result.exit.succeeded());
    CHECK(result.out.size() == input.size());
    CHECK(result.out == input);

    // A program that reads none of its input neither blocks nor kills this one.
    ProcessSpec closes = shell_spec("exec <&-; echo done");
    closes.input = ProcessInput::from_text(input);
    ProcessResult closed = run_process(closes);
    CHECK(closed.exit.succeeded());
    CHECK(closed.out == "done\n");
}

TEST_CASE("subprocess::run_process: environment, folder, PATH lookup, and a program that cannot run") {
    geo_ssf::test::TempDir dir;
    ProcessSpec spec = shell_spec("echo \"$GREETING\"; pwd");
    spec.environment = std::vector<std::string>{"GREETING=hello", "PATH=/usr/bin:/bin"};
    spec.cwd = dir.path();
    ProcessResult result = run_process(spec);
    CHECK(result.out == "hello\n" + std::filesystem::canonical(dir.path()).string() + "\n");

    ProcessSpec by_name;
    by_name.argv = {"echo", "found"};
    by_name.out = ProcessOutput::capture();
    CHECK(run_process(by_name).out == "found\n");

    ProcessSpec missing;
    missing.argv = {(dir.path() / "no-such-program").string()};
    CHECK_THROWS_AS(run_process(missing), std::system_error);
    missing.argv = {"geo-ssf-no-such-program"};
    CHECK_THROWS_AS(run_process(missing), std::system_error);
}

TEST_CASE("subprocess::run_process sends output to a file, or nowhere") {
    geo_ssf::test::TempDir dir;
    auto log = dir.path() / "log";
    geo_ssf::test::write_file(log, "before\n");
    ProcessSpec spec = shell_spec("echo out; echo err >&2");
    spec.out = ProcessOutput::to_file(log);
    spec.err = ProcessOutput::to_file(log);
    ProcessResult result = run_process(spec);
    CHECK(result.out.empty());
    CHECK(geo_ssf::test::read_file(log) == "before\nout\nerr\n");
    spec.out = ProcessOutput::discard();
    spec.err = ProcessOutput::discard();
    CHECK(run_process(spec).exit.succeeded());
    CHECK(geo_ssf::test::read_file(log) == "before\nout\nerr\n");
}

TEST_CASE("subprocess::run_process keeps the end of a long output") {
    ProcessSpec spec = shell_spec("i=0; while [ $i -lt 2000 ]; do echo line $i; i=$((i+1)); done >&2");
    spec.capture_limit = 100;
    ProcessResult result = run_process(spec);
    CHECK(result.err.size() >= 100);
    CHECK(result.err.size() <= 200);
    CHECK(result.err.ends_with("line 1999\n"));
}

TEST_CASE("subprocess::run_process stops a program at its bounds, and its whole group with it") {
    // The shell starts sleep, which would outlive it if only the shell were signalled.
    ProcessSpec spec = shell_spec("sleep 600 & echo $!; wait");
    spec.own_process_group = true;
    ProcessLimits limits;

    SUBCASE("timeout") {
        limits.timeout = 1s;
        ProcessResult result = run_process(spec, limits);
        CHECK(result.end == ProcessEnd::timed_out);
        CHECK(result.exit.signal == SIGTERM);
        CHECK(ends(std::stoi(result.out)));
    }
    SUBCASE("no output for too long") {
        limits.quiet_timeout = 1s;
        ProcessResult result = run_process(spec, limits);
        CHECK(result.end == ProcessEnd::quiet);
        CHECK(ends(std::stoi(result.out)));
    }
    SUBCASE("a stop request") {
        auto asked = std::chrono::steady_clock::now() + 500ms;
        limits.stop = [&] { return std::chrono::steady_clock::now() >= asked; };
        ProcessResult result = run_process(spec, limits);
        CHECK(result.end == ProcessEnd::stopped);
        CHECK(ends(std::stoi(result.out)));
    }
    SUBCASE("SIGKILL after the grace period when SIGTERM is ignored") {
        spec = shell_spec("trap '' TERM; echo $$; while :; do sleep 1; done");
        spec.own_process_group = true;
        limits.timeout = 500ms;
        limits.grace = 1s;
        ProcessResult result = run_process(spec, limits);
        CHECK(result.end == ProcessEnd::timed_out);
        CHECK(result.exit.signal == SIGKILL);
    }
}

TEST_CASE("subprocess::run_process shows the output as it arrives, and what on_output throws ends the program") {
    // The program writes a line, then waits for ever: only a call while it runs can end it.
    ProcessSpec spec = shell_spec("echo $$; exec sleep 600");
    ProcessLimits limits;
    std::string seen;
    limits.on_output = [&](std::string_view arrived) {
        seen += arrived;
        if (seen.ends_with('\n'))
            throw std::runtime_error("seen enough");
    };
    CHECK_THROWS_WITH(run_process(spec, limits), "seen enough");
    REQUIRE(seen.ends_with('\n'));
    CHECK(ends(std::stoi(seen)));  // killed and reaped as the Process went
}

TEST_CASE("subprocess::run_process: output captured from another descriptor arrives whole, in order, past the capture "
          "limit") {
    // 200,000 bytes on descriptor 3, numbered lines; the program's standard output is discarded.
    ProcessSpec spec = shell_spec("echo on-stdout; i=0; while [ $i -lt 20000 ]; do printf '%09d\\n' $i; i=$((i+1)); "
                                  "done >&3");
    spec.out_fd = 3;
    spec.capture_limit = 1000;
    ProcessLimits limits;
    std::string seen;
    limits.on_output = [&](std::string_view arrived) { seen += arrived; };
    ProcessResult result = run_process(spec, limits);
    CHECK(result.exit.succeeded());
    REQUIRE(seen.size() == 200000);
    CHECK(seen.find("on-stdout") == std::string::npos);
    bool in_order = true;
    for (int i = 0; i < 20000; ++i)
        in_order = in_order && std::stoi(seen.substr(static_cast<size_t>(i) * 10, 9)) == i;
    CHECK(in_order);
    CHECK(result.out.size() < 20000);  // only the end is kept
}

TEST_CASE("subprocess::Process kills and reaps what is still running when it goes") {
    pid_t pid = 0;
    {
        ProcessSpec spec = shell_spec("sleep 600");
        Process process(spec);
        pid = process.pid();
        CHECK(running(pid));
        CHECK_FALSE(process.exit_if_ended());
    }
    CHECK(::kill(pid, 0) != 0);  // killed, and reaped: not even a zombie is left
}

TEST_CASE("subprocess::Process: a signal, then its exit") {
    ProcessSpec spec;
    spec.argv = {"sleep", "600"};
    Process process(spec);
    process.signal(SIGINT);
    ProcessExit exit = process.wait();
    CHECK(exit.signal == SIGINT);
    CHECK(process.exit_if_ended());
    process.signal(SIGKILL);  // reaped: nothing is sent
}

}  // TEST_SUITE
