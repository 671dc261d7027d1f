#include "repo/staging.hpp"

#include "common/error.hpp"
#include "common/stop.hpp"
#include "repo/storage.hpp"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <random>
#include <string>
#include <system_error>

namespace geo_ssf {

namespace {

const char* k_staging_folder = ".geo-ssf-tmp";

// STORAGE_ROOT/.geo-ssf-tmp, made when missing and CREATE; empty when missing and not CREATE.
std::filesystem::path staging_folder(const std::filesystem::path& storage_root, bool create) {
    return own_folder(storage_root / k_staging_folder, create);
}

// Whether NAME is one new_staging_folder makes: <pid>-<counter>-<random>, digits only.
bool is_staging_name(const std::string& name) {
    int dashes = 0;
    bool digit_before = false;
    for (char c : name) {
        if (c == '-') {
            if (!digit_before)
                return false;
            ++dashes;
            digit_before = false;
        } else if (c >= '0' && c <= '9') {
            digit_before = true;
        } else {
            return false;
        }
    }
    return dashes == 2 && digit_before;
}

// A repository, or what a clone or a removal interrupted early leaves: an empty folder, or one
// with at least one of a repository's own entries.
bool is_partial_repository(const std::filesystem::path& path) {
    if (!is_folder_not_link(path))
        return false;
    std::error_code ec;
    if (std::filesystem::is_empty(path, ec))
        return !ec;
    for (const char* entry : {"HEAD", "objects", "refs", "config"})
        if (std::filesystem::exists(std::filesystem::symlink_status(path / entry, ec)))
            return true;
    return false;
}

}  // namespace

std::filesystem::path new_staging_folder(const std::filesystem::path& storage_root) {
    static std::atomic<unsigned> counter{0};
    thread_local std::mt19937 random{std::random_device{}()};
    auto dir = staging_folder(storage_root, true);
    return dir / (std::to_string(getpid()) + "-" + std::to_string(counter++) + "-" + std::to_string(random() % 1000000));
}

void install_staged_copy(const std::filesystem::path& staged, const std::filesystem::path& target,
                         const std::filesystem::path& storage_root) {
    std::filesystem::create_directories(target.parent_path());
    std::error_code ec;
    if (std::filesystem::exists(target, ec)) {
        // Swap: the old copy goes aside first, so TARGET is always one whole repository or none.
        auto old = new_staging_folder(storage_root);
        std::filesystem::rename(target, old);
        std::filesystem::rename(staged, target);
        std::filesystem::remove_all(old, ec);
    } else {
        std::filesystem::rename(staged, target);
    }
}

void copy_into_place(const std::filesystem::path& source, const std::filesystem::path& target,
                     const std::filesystem::path& storage_root) {
    namespace fs = std::filesystem;
    if (!is_bare_repository(source))
        throw RuntimeError(source.string() + " is not a bare repository (HEAD, objects/, refs/)");
    std::error_code ec;
    if (fs::exists(fs::symlink_status(target, ec)))
        throw RuntimeError(target.string() + " already exists");
    auto staged = new_staging_folder(storage_root);
    try {
        fs::create_directory(staged, source);
        for (fs::recursive_directory_iterator it(source), end; it != end; ++it) {
            if (stop_requested())
                throw RuntimeError("stopped before " + source.string() + " was copied whole");
            auto to = staged / fs::relative(it->path(), source);
            auto status = it->symlink_status();
            if (fs::is_directory(status))
                fs::create_directory(to, it->path());
            else if (fs::is_regular_file(status))
                fs::copy_file(it->path(), to);
            else
                throw RuntimeError(it->path().string() + " is neither a folder nor a regular file");
        }
    } catch (const fs::filesystem_error& e) {
        fs::remove_all(staged, ec);
        throw RuntimeError("cannot copy " + source.string() + ": " + e.code().message() + ": " + e.path1().string());
    } catch (...) {
        fs::remove_all(staged, ec);
        throw;
    }
    install_staged_copy(staged, target, storage_root);
}

int remove_abandoned_mirror_folders(const std::filesystem::path& storage_root) {
    auto dir = staging_folder(storage_root, false);
    if (dir.empty())
        return 0;
    std::error_code ec;
    int removed = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
        std::string name = entry.path().filename().string();
        if (!is_staging_name(name) || !is_partial_repository(entry.path()))
            continue;  // not made by geo-ssf: left alone
        long pid = std::atol(name.c_str());
        if (pid > 0 && (kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM))
            continue;  // its process is still working on it
        std::filesystem::remove_all(entry.path(), ec);
        ++removed;
    }
    return removed;
}

void remove_repository(const std::filesystem::path& target, const std::filesystem::path& storage_root) {
    std::error_code ec;
    if (!std::filesystem::exists(std::filesystem::symlink_status(target, ec)))
        return;
    if (!is_bare_repository(target))
        throw RuntimeError(target.string() + " is not a bare repository (HEAD, objects/, refs/); it is left in place");
    // Renamed aside first, so a crash mid-removal leaves no half-deleted repository in place.
    try {
        auto aside = new_staging_folder(storage_root);
        std::filesystem::rename(target, aside);
        std::filesystem::remove_all(aside, ec);
    } catch (const std::filesystem::filesystem_error& e) {
        throw RuntimeError("cannot remove " + target.string() + ": " + e.code().message());
    }
}

}  // namespace geo_ssf
