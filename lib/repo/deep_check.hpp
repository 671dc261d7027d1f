// Deep checks of repositories: every object read and its hash checked, every object that an
// object or a ref names present, as git fsck does. The checksum (checksum.hpp) reads only the
// refs and their tips; a pack damaged after that still checksums the same.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>

namespace geo_ssf {

struct DeepCheckResult {
    enum class Verdict {
        passed,
        corrupt,    // an object unreadable, damaged or missing, no repository to open, or a FIFO, a socket
                    // or a device where a file of it is read (special_files.hpp)
        unchecked,  // the check itself could not run to its end (not the repository's fault)
    };
    Verdict verdict = Verdict::passed;
    std::string problem;  // corrupt or unchecked: why, in one line
    const char* method = "";  // "git fsck" or "libgit2"
};

// Checks the repository at GITDIR with git fsck --no-dangling when the git program is installed
// (its run bounded by TIMEOUT, named TIMEOUT_NAME), else with libgit2: every object read (its
// hash checked as it is read), every object a commit, tree or tag names present, every ref's
// object present. Throws GitProgramInterrupted when a stop or the timeout ended git.
DeepCheckResult deep_check(const std::filesystem::path& gitdir, std::chrono::seconds timeout,
                           const char* timeout_name);

// The same with libgit2 alone.
DeepCheckResult deep_check_with_libgit2(const std::filesystem::path& gitdir);

// What git fsck's OUT and ERR say is wrong, in one line: its first error ("missing blob 1a2b...",
// "error: inflate: data stream error ...") and how many more it reported.
std::string fsck_problem(std::string_view out, std::string_view err);

}  // namespace geo_ssf
