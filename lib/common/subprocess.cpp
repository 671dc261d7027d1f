#include "common/subprocess.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

extern char** environ;

namespace geo_ssf {

namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void throw_errno(int error, const std::string& what) {
    throw std::system_error(error, std::generic_category(), what);
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
    std::vector<char*> out;
    out.reserve(strings.size() + 1);
    for (auto& s : strings)
        out.push_back(s.data());
    out.push_back(nullptr);
    return out;
}

// The file actions and attributes of one posix_spawn, released whatever happens.
struct SpawnSetup {
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attributes;
    SpawnSetup() {
        posix_spawn_file_actions_init(&actions);
        posix_spawnattr_init(&attributes);
    }
    ~SpawnSetup() {
        posix_spawn_file_actions_destroy(&actions);
        posix_spawnattr_destroy(&attributes);
    }
    SpawnSetup(const SpawnSetup&) = delete;
    SpawnSetup& operator=(const SpawnSetup&) = delete;
};

// Both ends of a pipe, closed unless taken.
struct Pipe {
    int fds[2] = {-1, -1};
    Pipe() {
        if (pipe2(fds, O_CLOEXEC) != 0)
            throw_errno(errno, "cannot make a pipe");
    }
    ~Pipe() {
        for (int fd : fds)
            if (fd >= 0)
                ::close(fd);
    }
    Pipe(const Pipe&) = delete;
    Pipe& operator=(const Pipe&) = delete;
    int take(int end) {
        int fd = fds[end];
        fds[end] = -1;
        return fd;
    }
};

void redirect_output(SpawnSetup& setup, const ProcessOutput& output, int target, std::optional<Pipe>& pipe) {
    switch (output.kind) {
    case ProcessOutput::Kind::inherit:
        break;
    case ProcessOutput::Kind::discard:
        posix_spawn_file_actions_addopen(&setup.actions, target, "/dev/null", O_WRONLY, 0);
        break;
    case ProcessOutput::Kind::capture:
        pipe.emplace();
        posix_spawn_file_actions_adddup2(&setup.actions, pipe->fds[1], target);
        break;
    case ProcessOutput::Kind::file:
        posix_spawn_file_actions_addopen(&setup.actions, target, output.file.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                         0644);
        break;
    }
}

ProcessExit exit_of(int wait_status) {
    ProcessExit exit;
    if (WIFEXITED(wait_status))
        exit.code = WEXITSTATUS(wait_status);
    else if (WIFSIGNALED(wait_status))
        exit.signal = WTERMSIG(wait_status);
    return exit;
}

// write() without SIGPIPE: a program that closed its input must not kill this one. SIGPIPE is
// blocked on this thread for the call, and one it raised is taken back before unblocking.
ssize_t write_without_sigpipe(int fd, const char* data, size_t size) {
    sigset_t pipe_only, old;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_only, &old);
    ssize_t n = ::write(fd, data, size);
    int error = errno;
    if (n < 0 && error == EPIPE) {
        const timespec none{0, 0};
        sigtimedwait(&pipe_only, nullptr, &none);
    }
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    errno = error;
    return n;
}

}  // namespace

Process::Process(const ProcessSpec& spec) : m_own_group(spec.own_process_group), m_capture_limit(spec.capture_limit) {
    if (spec.argv.empty())
        throw std::system_error(std::make_error_code(std::errc::invalid_argument), "no program to run");
    if (spec.out_fd != STDOUT_FILENO && spec.out_fd <= STDERR_FILENO)
        throw std::system_error(std::make_error_code(std::errc::invalid_argument), "out_fd is a standard stream");
    SpawnSetup setup;
    std::optional<Pipe> input_pipe, out_pipe, err_pipe;
    switch (spec.input.kind) {
    case ProcessInput::Kind::null:
        posix_spawn_file_actions_addopen(&setup.actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
        break;
    case ProcessInput::Kind::inherit:
        break;
    case ProcessInput::Kind::file:
        posix_spawn_file_actions_addopen(&setup.actions, STDIN_FILENO, spec.input.file.c_str(), O_RDONLY, 0);
        break;
    case ProcessInput::Kind::text:
        input_pipe.emplace();
        posix_spawn_file_actions_adddup2(&setup.actions, input_pipe->fds[0], STDIN_FILENO);
        break;
    }
    redirect_output(setup, spec.out, spec.out_fd, out_pipe);
    if (spec.out_fd != STDOUT_FILENO)
        posix_spawn_file_actions_addopen(&setup.actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    redirect_output(setup, spec.err, STDERR_FILENO, err_pipe);
    if (spec.cwd)
        posix_spawn_file_actions_addchdir_np(&setup.actions, spec.cwd->c_str());

    // Default dispositions and no blocked signal, whatever this process set for itself.
    sigset_t none, defaults;
    sigemptyset(&none);
    sigemptyset(&defaults);
    for (int signal_number : {SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGCHLD})
        sigaddset(&defaults, signal_number);
    posix_spawnattr_setsigmask(&setup.attributes, &none);
    posix_spawnattr_setsigdefault(&setup.attributes, &defaults);
    short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
    if (m_own_group) {
        posix_spawnattr_setpgroup(&setup.attributes, 0);
        flags |= POSIX_SPAWN_SETPGROUP;
    }
    posix_spawnattr_setflags(&setup.attributes, flags);

    std::vector<std::string> argv = spec.argv;
    std::vector<std::string> environment;
    std::vector<char*> argv_pointers = pointers(argv);
    std::vector<char*> environment_pointers;
    char** envp = environ;
    if (spec.environment) {
        environment = *spec.environment;
        environment_pointers = pointers(environment);
        envp = environment_pointers.data();
    }
    bool search = argv[0].find('/') == std::string::npos;
    int spawned = search ? posix_spawnp(&m_pid, argv[0].c_str(), &setup.actions, &setup.attributes,
                                        argv_pointers.data(), envp)
                         : posix_spawn(&m_pid, argv[0].c_str(), &setup.actions, &setup.attributes,
                                       argv_pointers.data(), envp);
    if (spawned != 0)
        throw_errno(spawned, "cannot run " + argv[0]);

    m_last_output = Clock::now();
    if (input_pipe) {
        m_input_fd = input_pipe->take(1);
        m_input = spec.input.text;
        fcntl(m_input_fd, F_SETFL, fcntl(m_input_fd, F_GETFL) | O_NONBLOCK);
        if (m_input.empty())
            close_fd(m_input_fd);
    }
    if (out_pipe)
        m_out.fd = out_pipe->take(0);
    if (err_pipe)
        m_err.fd = err_pipe->take(0);
}

Process::~Process() {
    if (!m_exit)
        signal(SIGKILL);
    close_fd(m_input_fd);
    close_fd(m_out.fd);
    close_fd(m_err.fd);
    if (!m_exit) {
        while (waitpid(m_pid, nullptr, 0) < 0 && errno == EINTR) {
        }
    }
}

void Process::close_fd(int& fd) {
    if (fd >= 0)
        ::close(fd);
    fd = -1;
}

void Process::signal(int signal_number) {
    if (!m_exit)
        ::kill(m_own_group ? -m_pid : m_pid, signal_number);
}

bool Process::read_from(Capture& capture) {
    char buffer[16384];
    ssize_t n = ::read(capture.fd, buffer, sizeof buffer);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return true;
    if (n <= 0) {
        close_fd(capture.fd);
        return false;
    }
    capture.text.append(buffer, static_cast<size_t>(n));
    size_t keep = m_capture_limit;  // the end is what explains a failure
    if (&capture == &m_out) {
        m_out_received += static_cast<size_t>(n);
        keep = std::max(keep, static_cast<size_t>(n));  // what this read brought, for run_process's on_output
    }
    if (m_capture_limit && capture.text.size() > 2 * m_capture_limit)
        capture.text.erase(0, capture.text.size() - keep);
    m_last_output = Clock::now();
    return true;
}

void Process::write_input() {
    ssize_t n = write_without_sigpipe(m_input_fd, m_input.data() + m_input_written, m_input.size() - m_input_written);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (n < 0) {  // it closed its input: the rest is not for it
        close_fd(m_input_fd);
        return;
    }
    m_input_written += static_cast<size_t>(n);
    if (m_input_written == m_input.size())
        close_fd(m_input_fd);
}

bool Process::pump(std::chrono::milliseconds wait) {
    pollfd fds[3];
    nfds_t count = 0;
    for (int fd : {m_out.fd, m_err.fd})
        if (fd >= 0)
            fds[count++] = {fd, POLLIN, 0};
    if (m_input_fd >= 0)
        fds[count++] = {m_input_fd, POLLOUT, 0};
    if (count == 0) {
        // Nothing to read or write: only its end to wait for, checked every few milliseconds.
        if (exit_if_ended())
            return false;
        ::poll(nullptr, 0, static_cast<int>(std::min<long long>(wait.count(), 20)));
        return !exit_if_ended();
    }
    int ready = ::poll(fds, count, static_cast<int>(wait.count()));
    if (ready <= 0)
        return true;
    for (nfds_t i = 0; i < count; ++i) {
        if (!fds[i].revents)
            continue;
        if (fds[i].fd == m_input_fd)
            write_input();
        else
            read_from(fds[i].fd == m_out.fd ? m_out : m_err);
    }
    return m_out.fd >= 0 || m_err.fd >= 0 || m_input_fd >= 0 || !exit_if_ended();
}

std::optional<ProcessExit> Process::exit_if_ended() {
    if (m_exit)
        return m_exit;
    int wait_status = 0;
    pid_t done;
    while ((done = waitpid(m_pid, &wait_status, WNOHANG)) < 0 && errno == EINTR) {
    }
    if (done == m_pid)
        m_exit = exit_of(wait_status);
    return m_exit;
}

ProcessExit Process::wait() {
    while (pump(std::chrono::milliseconds(1000))) {
    }
    close_fd(m_input_fd);
    if (!m_exit) {
        int wait_status = 0;
        while (waitpid(m_pid, &wait_status, 0) < 0 && errno == EINTR) {
        }
        m_exit = exit_of(wait_status);
    }
    return *m_exit;
}

std::vector<std::string> environment_without(std::span<const std::string_view> names) {
    std::vector<std::string> out;
    for (char** entry = environ; *entry; ++entry) {
        std::string_view variable = *entry;
        std::string_view name = variable.substr(0, variable.find('='));
        if (std::find(names.begin(), names.end(), name) == names.end())
            out.emplace_back(variable);
    }
    return out;
}

ProcessResult run_process(const ProcessSpec& spec, const ProcessLimits& limits) {
    Process process(spec);
    ProcessResult result;
    auto started = Clock::now();
    std::optional<Clock::time_point> terminated;
    size_t output_seen = 0;
    auto report_output = [&] {
        if (limits.on_output && process.out_received() != output_seen) {
            size_t arrived = std::min(process.out_received() - output_seen, process.out().size());
            output_seen = process.out_received();
            limits.on_output(std::string_view(process.out()).substr(process.out().size() - arrived));
        }
    };
    while (process.pump(std::chrono::milliseconds(200))) {
        report_output();
        auto now = Clock::now();
        if (!terminated) {
            if (limits.stop && limits.stop())
                result.end = ProcessEnd::stopped;
            else if (limits.timeout && now - started >= *limits.timeout)
                result.end = ProcessEnd::timed_out;
            else if (limits.quiet_timeout && now - process.last_output() >= *limits.quiet_timeout)
                result.end = ProcessEnd::quiet;
            else
                continue;
            process.signal(SIGTERM);  // so that it can remove its lock files
            terminated = now;
        } else if (now - *terminated >= limits.grace) {
            process.signal(SIGKILL);  // it ignored SIGTERM
            terminated = now;
        }
    }
    report_output();
    result.exit = process.wait();
    result.out = process.out();
    result.err = process.err();
    return result;
}

}  // namespace geo_ssf
