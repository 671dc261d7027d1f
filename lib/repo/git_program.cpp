#include "repo/git_program.hpp"

#include "common/stop.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <spdlog/spdlog.h>

extern char** environ;

namespace geo_ssf {

namespace {

std::optional<std::filesystem::path> find_on_path(const std::string& program) {
    const char* path = std::getenv("PATH");
    std::string_view folders = path ? path : "";
    while (!folders.empty()) {
        auto colon = folders.find(':');
        std::string_view folder = folders.substr(0, colon);
        folders = colon == std::string_view::npos ? std::string_view() : folders.substr(colon + 1);
        auto candidate = std::filesystem::path(folder.empty() ? "." : std::string(folder)) / program;
        if (::access(candidate.c_str(), X_OK) == 0 && !std::filesystem::is_directory(candidate))
            return candidate;
    }
    return std::nullopt;
}

// This process's environment without git's variables (GIT_DIR, GIT_CONFIG_*, ...) and those
// git_transport passes (GEO_SSF_GIT_*), then git told to read neither the system's nor the
// user's configuration and never to prompt.
// SETUP's variables and configuration come last.
std::vector<std::string> git_environment(const GitSetup& setup) {
    std::vector<std::string> env;
    for (char** entry = environ; *entry; ++entry)
        if (std::strncmp(*entry, "GIT_", 4) != 0 && std::strncmp(*entry, "GEO_SSF_GIT_", 12) != 0 &&
            std::strncmp(*entry, "LC_ALL=", 7) != 0)
            env.emplace_back(*entry);
    // GIT_ASKPASS empty: no program is asked for a password, not even SSH_ASKPASS. A variable of
    // SETUP's takes the place of the one here of the same name.
    for (std::string_view setting : {"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_TERMINAL_PROMPT=0",
                                     "GIT_ASKPASS=", "LC_ALL=C"}) {  // messages in English, as libgit2's
        std::string_view name = setting.substr(0, setting.find('=') + 1);
        if (std::none_of(setup.environment.begin(), setup.environment.end(),
                         [&](const std::string& set) { return set.starts_with(name); }))
            env.emplace_back(setting);
    }
    env.insert(env.end(), setup.environment.begin(), setup.environment.end());
    // No automatic gc or maintenance: git would detach it (setsid), beyond fetch_timeout and a
    // stop, repacking a copy that geo-ssf packs, checksums and moves itself.
    std::vector<std::pair<std::string, std::string>> config = {{"gc.auto", "0"}, {"maintenance.auto", "false"}};
    config.insert(config.end(), setup.config.begin(), setup.config.end());
    for (size_t i = 0; i < config.size(); ++i) {
        env.push_back("GIT_CONFIG_KEY_" + std::to_string(i) + "=" + config[i].first);
        env.push_back("GIT_CONFIG_VALUE_" + std::to_string(i) + "=" + config[i].second);
    }
    env.push_back("GIT_CONFIG_COUNT=" + std::to_string(config.size()));
    return env;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
    std::vector<char*> out;
    for (auto& s : strings)
        out.push_back(s.data());
    out.push_back(nullptr);
    return out;
}

// What git said last on its standard error, without "fatal: " or "error: ". Its advice after a
// failed ssh connection ("Please make sure you have the correct access rights / and the
// repository exists.") and the "Could not read from remote repository." before it give way to
// the line that says why (ssh's own).
std::string last_message(const std::string& output) {
    std::vector<std::string_view> lines;
    std::string_view text = output;
    while (!text.empty()) {
        auto end = text.find_first_of("\r\n");
        std::string_view line = text.substr(0, end);
        text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
        while (!line.empty() && line.back() == ' ')
            line.remove_suffix(1);
        if (!line.empty() && line != "Please make sure you have the correct access rights" &&
            line != "and the repository exists.")
            lines.push_back(line);
    }
    if (lines.size() > 1 && lines.back() == "fatal: Could not read from remote repository.")
        lines.pop_back();
    if (lines.empty())
        return "git failed without a message";
    std::string_view last = lines.back();
    for (std::string_view prefix : {"fatal: ", "error: "})
        if (last.starts_with(prefix))
            last.remove_prefix(prefix.size());
    return std::string(last);
}

// Whether GIT is 2.32 or later, the first to read GIT_CONFIG_GLOBAL (and GIT_CONFIG_COUNT,
// --no-write-fetch-head): an older one would read the user's configuration or refuse options.
bool recent_enough(const std::filesystem::path& git) {
    if (git.string().find('\'') != std::string::npos)
        return false;
    FILE* version = popen(("'" + git.string() + "' --version 2>/dev/null").c_str(), "r");
    if (!version)
        return false;
    int major = 0, minor = 0;
    bool read = std::fscanf(version, "git version %d.%d", &major, &minor) == 2;
    pclose(version);
    if (read && (major > 2 || (major == 2 && minor >= 32)))
        return true;
    spdlog::warn("{} is older than git 2.32; libgit2 fetches from every primary instead", git.string());
    return false;
}

}  // namespace

std::optional<std::filesystem::path> git_program() {
    static const std::optional<std::filesystem::path> found = [] {
        auto git = find_on_path("git");
        return git && recent_enough(*git) ? git : std::nullopt;
    }();
    return found;
}

void run_git(const std::filesystem::path& git, const std::vector<std::string>& args, const TransportSettings& transport,
             std::string_view what, const GitSetup& setup) {
    std::vector<std::string> argv{git.string()};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<std::string> env = git_environment(setup);
    int pipe_fds[2];
    if (pipe2(pipe_fds, O_CLOEXEC) != 0)
        throw GitError(std::string(what) + ": cannot make a pipe: " + std::strerror(errno));
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], 2);
    // A group of its own, so that a stop reaches the programs git starts (upload-pack,
    // pack-objects, index-pack); default signal handling and no blocked signals.
    posix_spawnattr_t attributes;
    posix_spawnattr_init(&attributes);
    sigset_t none, defaults;
    sigemptyset(&none);
    sigemptyset(&defaults);
    for (int signal_number : {SIGPIPE, SIGTERM, SIGINT, SIGHUP})
        sigaddset(&defaults, signal_number);
    posix_spawnattr_setsigmask(&attributes, &none);
    posix_spawnattr_setsigdefault(&attributes, &defaults);
    posix_spawnattr_setpgroup(&attributes, 0);
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    pid_t pid = 0;
    auto argv_pointers = pointers(argv);
    auto env_pointers = pointers(env);
    int spawned = posix_spawn(&pid, argv[0].c_str(), &actions, &attributes, argv_pointers.data(), env_pointers.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    ::close(pipe_fds[1]);
    if (spawned != 0) {
        ::close(pipe_fds[0]);
        throw GitError(std::string(what) + ": cannot run " + git.string() + ": " + std::strerror(spawned));
    }

    // Whatever happens below, git and the programs it started end with this call.
    struct Reaper {
        pid_t pid;
        int fd;
        bool done = false;
        ~Reaper() {
            if (done)
                return;
            ::kill(-pid, SIGKILL);
            ::close(fd);
            while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
            }
        }
    } reaper{pid, pipe_fds[0]};
    auto started = std::chrono::steady_clock::now(), last_output = started;
    std::string output, interrupted;
    std::chrono::steady_clock::time_point terminated;
    bool open = true;
    while (open) {
        pollfd p{pipe_fds[0], POLLIN, 0};
        if (poll(&p, 1, 200) > 0) {
            char buffer[4096];
            ssize_t n = ::read(pipe_fds[0], buffer, sizeof buffer);
            if (n > 0) {
                output.append(buffer, static_cast<size_t>(n));
                last_output = std::chrono::steady_clock::now();
            } else if (n == 0 || errno != EINTR)
                open = false;
            if (output.size() > 65536)
                output.erase(0, output.size() - 16384);  // the end is what explains a failure
        }
        auto now = std::chrono::steady_clock::now();
        if (interrupted.empty()) {
            if (stop_requested())
                interrupted = "stopped on request";
            else if (now - started >= transport.fetch_timeout)
                interrupted = "the fetch took longer than storage.fetch_timeout (" +
                              std::to_string(transport.fetch_timeout.count()) + "s)";
            else if (now - last_output >= transport.fetch_stall_timeout)
                interrupted = "no data from the primary for " + std::to_string(transport.fetch_stall_timeout.count()) +
                              "s (storage.fetch_stall_timeout)";
            if (interrupted.empty())
                continue;
            ::kill(-pid, SIGTERM);
            terminated = now;
        } else if (now - terminated > std::chrono::seconds(10)) {
            ::kill(-pid, SIGKILL);  // git ignored SIGTERM: its lock files may stay
            terminated = now;
        }
    }
    reaper.done = true;
    ::close(pipe_fds[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!interrupted.empty())
        throw GitProgramInterrupted(std::string(what) + ": " + interrupted);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        throw GitError(std::string(what) + ": " + redact_url_credentials(last_message(output)));
}

}  // namespace geo_ssf
