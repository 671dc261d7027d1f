#include "repo/git.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

namespace geo_ssf::git {

std::string last_error_message() {
    const git_error* error = git_error_last();
    if (!error || !error->message || !*error->message)
        return "unknown libgit2 error";
    std::string message = error->message;
    while (!message.empty() && (message.back() == '\n' || message.back() == ' ' || message.back() == '.'))
        message.pop_back();
    return message;
}

int check(int rc, std::string_view what) {
    if (rc < 0)
        throw GitError(std::string(what) + ": " + last_error_message());
    return rc;
}

namespace {

// libgit2 reports an unreadable folder as "not a repository"; find the real reason, so that
// nobody goes looking for a repository that is there all along.
void throw_if_unreadable(const std::filesystem::path& path) {
    for (const char* entry : {"", "HEAD", "objects", "refs"}) {
        struct stat st;
        if (::stat((*entry ? path / entry : path).c_str(), &st) != 0 && errno == EACCES)
            throw GitError("cannot read the repository: " + std::string(std::strerror(EACCES)));
    }
}

// Turns a failed open of PATH into the error users should see.
[[noreturn]] void throw_open_error(int rc, const std::filesystem::path& path) {
    throw_if_unreadable(path);
    struct stat st;
    if (rc == GIT_ENOTFOUND && ::stat((path / ".git").c_str(), &st) == 0)
        throw GitError("not a bare repository: a work tree, whose repository is in .git");
    if (rc == GIT_ENOTFOUND)
        throw GitError("repository does not exist");
    throw GitError("cannot open the repository: " + last_error_message());
}

}  // namespace

Repository open_repository(const std::filesystem::path& path) {
    git_repository* raw = nullptr;
    int rc = git_repository_open_ext(&raw, path.c_str(), GIT_REPOSITORY_OPEN_NO_SEARCH, nullptr);
    if (rc < 0)
        throw_open_error(rc, path);
    return Repository(raw);
}

Repository open_bare_repository(const std::filesystem::path& path) {
    git_repository* raw = nullptr;
    int rc = git_repository_open_bare(&raw, path.c_str());
    if (rc < 0)
        throw_open_error(rc, path);
    return Repository(raw);
}

Odb repository_odb(git_repository* repository) {
    return make<Odb>(git_repository_odb, "cannot open the object database", repository);
}

Odb open_odb(const std::filesystem::path& objects_dir) {
    return make<Odb>(git_odb_open, "cannot open the object database", objects_dir.c_str());
}

std::string oid_hex(const git_oid& oid) {
    std::string hex(GIT_OID_HEXSZ, '0');
    git_oid_fmt(hex.data(), &oid);
    return hex;
}

}  // namespace geo_ssf::git
