// The git program, for the transfers it does far faster than libgit2 (bench/fetch measures
// both): from a local repository, where libgit2 builds the pack in-process on one thread
// (minutes for a 160,000-object repository) while git streams the primary's packs through
// pack-objects into a threaded index-pack; and see fetcher_for in fetcher.hpp.
#pragma once

#include "common/error.hpp"
#include "common/subprocess.hpp"
#include "repo/git.hpp"
#include "site/transport_settings.hpp"

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace geo_ssf {

// A git run ended early: a stop was requested or it outlived its time.
class GitProgramInterrupted : public GitError {
public:
    using GitError::GitError;
};

// What a git run needs besides its arguments: variables ("NAME=value") and configuration
// (name, value), both for this run only.
struct GitSetup {
    std::vector<std::string> environment;
    std::vector<std::pair<std::string, std::string>> config;
    std::string ssh_command;  // for an ssh:// primary, the command git runs ssh with (GIT_SSH_COMMAND)
};

// The git program on PATH; nullopt when it is not installed.
std::optional<std::filesystem::path> git_program();

// The environment git runs with: this process's without git's variables (GIT_DIR,
// GIT_CONFIG_*, GIT_TRACE, ...) and the secrets geo-ssf was given (site/secrets.hpp); git told to
// read neither the system's nor the user's configuration and never to prompt; then SETUP's.
std::vector<std::string> git_environment(const GitSetup& setup);

// Runs SPEC, a program that talks to the primary (git clone or fetch), and waits for
// it. It is stopped (SIGTERM, so that git removes its lock files) once a stop is requested,
// after TRANSPORT's fetch_timeout, or when it writes nothing for fetch_stall_timeout, throwing
// GitProgramInterrupted with the reason libgit2's fetches give. Throws GitError "WHAT: <its last
// message>" when it fails. ON_OUTPUT, when given, is run_process's on_output.
ProcessResult run_transfer(const ProcessSpec& spec, const TransportSettings& transport, std::string_view what,
                           std::function<void(std::string_view)> on_output = {});

// What run_git runs: GIT with ARGS in SETUP's environment (git_environment), no input, its
// standard output discarded, the end of its standard error kept, in a process group of its own.
ProcessSpec git_transfer_spec(const std::filesystem::path& git, const std::vector<std::string>& args,
                              const GitSetup& setup);

// Runs GIT with ARGS and waits for it, as run_transfer runs a program. Git reads no configuration but the repository's own (not
// the system's, not the user's) and never prompts. It is stopped (SIGTERM, so that it removes
// its lock files) once a stop is requested, after TRANSPORT's fetch_timeout, or when it writes
// nothing for fetch_stall_timeout (a fetch is run with --progress, which reports every second
// while data comes), throwing GitProgramInterrupted with the reason libgit2's fetches give.
// Throws GitError "WHAT: <git's last message>" when it fails.
// SETUP adds to that (git_transport.hpp).
// Git gets neither geo-ssf's secrets (site/secrets.hpp) nor git's variables of this process.
void run_git(const std::filesystem::path& git, const std::vector<std::string>& args, const TransportSettings& transport,
             std::string_view what, const GitSetup& setup = {});

// What a git run on a repository in place gives: how it ended, and the ends of what it wrote.
struct GitOutput {
    ProcessExit exit;
    std::string out;
    std::string err;
};

// Runs GIT with ARGS on the repository GITDIR (--git-dir) in place and waits for it, with
// run_git's configuration: for the work on a copy that reports nothing while it runs (repack,
// fsck), so it is bounded by TIMEOUT alone, not by a stall. It is stopped (SIGTERM) once a stop is
// requested or after TIMEOUT (named TIMEOUT_NAME in the message), throwing GitProgramInterrupted
// "WHAT: ...". A git that cannot be started is a GitError.
GitOutput run_git_in(const std::filesystem::path& git, const std::filesystem::path& gitdir,
                     const std::vector<std::string>& args, std::chrono::seconds timeout, std::string_view timeout_name,
                     std::string_view what);

// run_git_in for one task on a copy (a repack): a failure is a GitError "TASK failed: <git's
// last line of output>".
void run_git_task(const std::filesystem::path& git, const std::filesystem::path& gitdir, const char* task,
                  const std::vector<std::string>& args, std::chrono::seconds timeout, const char* timeout_name);

}  // namespace geo_ssf
