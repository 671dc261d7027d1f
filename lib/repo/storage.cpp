#include "repo/storage.hpp"

#include "common/error.hpp"
#include "common/users.hpp"
#include "site/replicable.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>
#include <string>
#include <system_error>
#include <vector>

namespace geo_ssf {

std::filesystem::path repository_location(const std::filesystem::path& root, const std::string& relative) {
    auto refuse = [&](const std::string& why) -> std::filesystem::path {
        throw RuntimeError("repository path \"" + printable(relative) + "\" is refused: " + why);
    };
    if (relative.empty())
        return refuse("it is empty");
    if (relative.find('\0') != std::string::npos)
        return refuse("it contains a NUL byte");
    if (relative.front() == '/')
        return refuse("it is absolute; it must be relative to the storage root");
    if (relative.back() == '/')
        return refuse("it ends with '/'");
    if (relative.find("//") != std::string::npos)
        return refuse("it has an empty segment");
    std::filesystem::path rel(relative);
    for (const auto& part : rel)
        if (part == ".." || part == ".")
            return refuse("it has a '" + part.string() + "' segment");
    if (is_reserved_storage_folder(rel.begin()->string()))
        return refuse("it lies in " + rel.begin()->string() + ", a folder of geo-ssf's own");

    std::filesystem::path location = root / rel;
    // Resolve the longest existing prefix: a symbolic link anywhere on the way must stay inside.
    std::error_code ec;
    std::filesystem::path real_root = std::filesystem::canonical(root, ec);
    if (ec)
        throw RuntimeError("storage root " + root.string() + " is not usable: " + ec.message());
    std::filesystem::path existing = location;
    while (!std::filesystem::exists(std::filesystem::symlink_status(existing, ec)) && existing != root)
        existing = existing.parent_path();
    std::filesystem::path real = std::filesystem::weakly_canonical(existing, ec);
    if (ec)
        return refuse(ec.message());
    auto inside = real.lexically_relative(real_root);
    if (inside.empty() || *inside.begin() == "..")
        return refuse("it leads outside the storage root through a symbolic link");
    return location;
}

std::optional<std::string> foreign_storage_root(const std::filesystem::path& root) {
    struct stat st {};
    if (::stat(root.c_str(), &st) != 0 || st.st_uid == ::geteuid())
        return std::nullopt;
    return "storage root " + root.string() + " belongs to " + user_name(st.st_uid) + ", not to " +
           user_name(::geteuid()) + ", which runs geo-ssf; run geo-ssf as that user: sudo -u " + sudo_user(st.st_uid) +
           " geo-ssf ...";
}

void require_own_storage_roots(const Config& config) {
    for (const auto& storage : config.storages)
        if (auto refusal = foreign_storage_root(storage.root))
            throw RuntimeError(*refusal);
}

std::filesystem::path own_folder(const std::filesystem::path& dir, bool create) {
    if (create && mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
        throw RuntimeError("cannot create " + dir.string() + ": " + std::strerror(errno));
    struct stat st {};
    if (lstat(dir.c_str(), &st) != 0) {
        if (errno == ENOENT && !create)
            return {};
        throw RuntimeError("cannot use " + dir.string() + ": " + std::strerror(errno));
    }
    if (S_ISLNK(st.st_mode) || !S_ISDIR(st.st_mode))
        throw RuntimeError(dir.string() + " is refused: it is " +
                           (S_ISLNK(st.st_mode) ? "a symbolic link" : "not a folder") +
                           "; remove it and geo-ssf makes a folder there");
    if (st.st_uid != geteuid())
        throw RuntimeError(dir.string() + " is refused: it is not owned by the user running geo-ssf");
    return dir;
}

std::optional<std::filesystem::path> repository_around(const std::filesystem::path& root,
                                                       const std::filesystem::path& location) {
    for (auto folder = location.parent_path(); folder != root && folder.has_relative_path() && folder != folder.parent_path();
         folder = folder.parent_path())
        if (is_bare_repository(folder))
            return folder;
    return std::nullopt;
}

std::optional<std::string> foreign_entry(const std::filesystem::path& folder) {
    // What git keeps in a bare repository, and lock files it may leave.
    static const std::set<std::string> k_repository_entries = {
        "HEAD",     "config",       "description", "hooks",       "info",     "objects", "refs",
        "packed-refs", "logs",      "branches",    "FETCH_HEAD",  "ORIG_HEAD", "shallow", "gc.log",
        "gc.pid",   "commondir",    "worktrees",   "modules",     "index",    "objects.lock"};
    std::error_code ec;
    if (std::filesystem::symlink_status(folder, ec).type() == std::filesystem::file_type::symlink)
        return std::string("itself, a symbolic link");
    for (const auto& entry : std::filesystem::directory_iterator(folder, ec)) {
        std::string name = entry.path().filename().string();
        bool lock = name.size() > 5 && name.compare(name.size() - 5, 5, ".lock") == 0;
        if (!k_repository_entries.count(name) && !lock)
            return name;
    }
    if (ec)
        return "what cannot be listed: " + ec.message();
    return std::nullopt;
}

bool is_folder_not_link(const std::filesystem::path& path) {
    std::error_code ec;
    return std::filesystem::symlink_status(path, ec).type() == std::filesystem::file_type::directory;
}

bool is_bare_repository(const std::filesystem::path& path) {
    std::error_code ec;
    return is_folder_not_link(path) &&
           std::filesystem::symlink_status(path / "HEAD", ec).type() == std::filesystem::file_type::regular &&
           is_folder_not_link(path / "objects") && is_folder_not_link(path / "refs");
}

std::vector<std::string> repositories_under(const std::filesystem::path& root) {
    namespace fs = std::filesystem;
    std::vector<std::string> out;
    std::error_code ec;
    auto it = fs::recursive_directory_iterator(root, fs::directory_options::none, ec);
    if (ec)
        throw RuntimeError("cannot read the storage root " + root.string() + ": " + ec.message());
    for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (ec)
            throw RuntimeError("cannot read the storage root " + root.string() + ": " + ec.message());
        const fs::path& path = it->path();
        if (it.depth() == 0 && path.filename().string().starts_with(k_reserved_folder_prefix)) {
            it.disable_recursion_pending();
            continue;
        }
        if (!is_folder_not_link(path))
            continue;  // a file, or a link the iterator does not follow
        if (is_bare_repository(path)) {
            out.push_back(path.lexically_relative(root).generic_string());
            it.disable_recursion_pending();
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace geo_ssf
