#include "repo/git_program.hpp"

#include "common/redact.hpp"
#include "common/stop.hpp"
#include "common/subprocess.hpp"
#include "site/secrets.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <string_view>
#include <system_error>

#include <spdlog/spdlog.h>

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
    ProcessSpec spec;
    spec.argv = {git.string(), "--version"};
    spec.environment = git_environment({});  // GIT_TRACE and its kind are not for this run either
    spec.out = ProcessOutput::capture();
    spec.err = ProcessOutput::discard();
    ProcessResult result;
    try {
        result = run_process(spec);
    } catch (const std::system_error&) {
        return false;
    }
    int major = 0, minor = 0;
    bool read = std::sscanf(result.out.c_str(), "git version %d.%d", &major, &minor) == 2;
    if (read && (major > 2 || (major == 2 && minor >= 32)))
        return true;
    spdlog::warn("{} is older than git 2.32; libgit2 fetches from every primary instead", git.string());
    return false;
}

}  // namespace

// Without GEO_SSF_GIT_* too: those git_transport passes are SETUP's to give.
std::vector<std::string> git_environment(const GitSetup& setup) {
    std::vector<std::string> env;
    for (std::string& entry : environment_without(k_secret_variables))
        if (!entry.starts_with("GIT_") && !entry.starts_with("GEO_SSF_GIT_") && !entry.starts_with("LC_ALL="))
            env.push_back(std::move(entry));
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

GitOutput run_git_in(const std::filesystem::path& git, const std::filesystem::path& gitdir,
                     const std::vector<std::string>& args, std::chrono::seconds timeout, std::string_view timeout_name,
                     std::string_view what) {
    ProcessSpec spec;
    spec.argv = {git.string(), "--git-dir=" + gitdir.string()};
    spec.argv.insert(spec.argv.end(), args.begin(), args.end());
    spec.environment = git_environment({});
    spec.input = ProcessInput::null();
    spec.out = ProcessOutput::capture();
    spec.err = ProcessOutput::capture();
    spec.capture_limit = 16384;
    spec.own_process_group = true;
    ProcessLimits limits;
    limits.stop = stop_requested;
    limits.timeout = timeout;
    ProcessResult result;
    try {
        result = run_process(spec, limits);
    } catch (const std::system_error& e) {
        throw GitError(std::string(what) + ": " + e.what());
    }
    if (result.end == ProcessEnd::stopped)
        throw GitProgramInterrupted(std::string(what) + ": stopped on request");
    if (result.end != ProcessEnd::exited)
        throw GitProgramInterrupted(std::string(what) + ": it took longer than " + std::string(timeout_name) + " (" +
                                    std::to_string(timeout.count()) + "s)");
    return {result.exit, std::move(result.out), std::move(result.err)};
}

std::optional<std::filesystem::path> git_program() {
    static const std::optional<std::filesystem::path> found = [] {
        auto git = find_on_path("git");
        return git && recent_enough(*git) ? git : std::nullopt;
    }();
    return found;
}

ProcessResult run_transfer(const ProcessSpec& spec, const TransportSettings& transport, std::string_view what,
                           std::function<void(std::string_view)> on_output) {
    ProcessLimits limits;
    limits.stop = stop_requested;
    limits.timeout = transport.fetch_timeout;
    limits.quiet_timeout = transport.fetch_stall_timeout;
    limits.on_output = std::move(on_output);
    ProcessResult result;
    try {
        result = run_process(spec, limits);
    } catch (const std::system_error& e) {
        throw GitError(std::string(what) + ": " + e.what());
    }
    switch (result.end) {
    case ProcessEnd::exited:
        break;
    case ProcessEnd::stopped:
        throw GitProgramInterrupted(std::string(what) + ": stopped on request");
    case ProcessEnd::timed_out:
        throw GitProgramInterrupted(std::string(what) + ": the fetch took longer than storage.fetch_timeout (" +
                                    std::to_string(transport.fetch_timeout.count()) + "s)");
    case ProcessEnd::quiet:
        throw GitProgramInterrupted(std::string(what) + ": no data from the primary for " +
                                    std::to_string(transport.fetch_stall_timeout.count()) +
                                    "s (storage.fetch_stall_timeout)");
    }
    if (!result.exit.succeeded())
        throw GitError(std::string(what) + ": " + redact_url_credentials(last_message(result.err)));
    return result;
}

ProcessSpec git_transfer_spec(const std::filesystem::path& git, const std::vector<std::string>& args,
                              const GitSetup& setup) {
    ProcessSpec spec;
    spec.argv = {git.string()};
    spec.argv.insert(spec.argv.end(), args.begin(), args.end());
    spec.environment = git_environment(setup);
    spec.input = ProcessInput::null();
    spec.out = ProcessOutput::discard();
    spec.err = ProcessOutput::capture();
    spec.capture_limit = 16384;  // the end is what explains a failure
    // A group of its own, so that a stop reaches the programs git starts (upload-pack,
    // pack-objects, index-pack).
    spec.own_process_group = true;
    return spec;
}

void run_git(const std::filesystem::path& git, const std::vector<std::string>& args, const TransportSettings& transport,
             std::string_view what, const GitSetup& setup) {
    run_transfer(git_transfer_spec(git, args, setup), transport, what);
}

void run_git_task(const std::filesystem::path& git, const std::filesystem::path& gitdir, const char* task,
                  const std::vector<std::string>& args, std::chrono::seconds timeout, const char* timeout_name) {
    const std::string what = std::string(task) + " failed";
    GitOutput output = run_git_in(git, gitdir, args, timeout, timeout_name, what);
    if (output.exit.succeeded())
        return;
    std::string message = output.err.empty() ? output.out : output.err;
    while (!message.empty() && (message.back() == '\n' || message.back() == ' '))
        message.pop_back();
    auto last_line = message.rfind('\n');
    if (last_line != std::string::npos)
        message = message.substr(last_line + 1);
    if (message.empty())
        message = "git exited with status " + std::to_string(output.exit.status());
    throw GitError(what + ": " + message);
}

}  // namespace geo_ssf
