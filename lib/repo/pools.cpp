#include "repo/pools.hpp"

#include "common/atomic_file.hpp"
#include "common/error.hpp"
#include "repo/git_program.hpp"
#include "repo/housekeeping.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <string>
#include <system_error>

namespace geo_ssf {

namespace {

std::filesystem::path alternates_file(const std::filesystem::path& copy) {
    return copy / "objects" / "info" / "alternates";
}

}  // namespace

std::vector<std::filesystem::path> borrowed_object_folders(const std::filesystem::path& copy) {
    std::vector<std::filesystem::path> out;
    std::ifstream in(alternates_file(copy));
    for (std::string line; std::getline(in, line);)
        if (!line.empty() && line.front() != '#')
            out.emplace_back(line);
    return out;
}

void borrow_pool_objects(const std::filesystem::path& copy, const std::filesystem::path& pool) {
    std::filesystem::path objects = std::filesystem::absolute(pool / "objects").lexically_normal();
    auto borrowed = borrowed_object_folders(copy);
    if (borrowed.size() == 1 && borrowed.front() == objects)
        return;
    std::error_code ec;
    std::filesystem::create_directories(alternates_file(copy).parent_path(), ec);
    if (ec)
        throw GitError("cannot create " + alternates_file(copy).parent_path().string() + ": " + ec.message());
    write_file_atomically(alternates_file(copy), objects.string() + "\n");
}

void stop_borrowing(const std::filesystem::path& copy, std::chrono::seconds timeout, const char* timeout_name) {
    if (borrowed_object_folders(copy).empty())
        return;
    auto git = git_program();
    if (!git)
        throw GitError("its copy borrows objects from a pool it no longer belongs to, and only git can copy them into "
                       "it (install git)");
    run_git_task(*git, copy, "copy of the pool's objects", {"repack", "-a", "-d", "-q"}, timeout, timeout_name);
    std::error_code ec;
    std::filesystem::remove(alternates_file(copy), ec);
    if (ec)
        throw GitError("cannot remove " + alternates_file(copy).string() + ": " + ec.message());
}

void housekeep_pool(const std::filesystem::path& pool, std::chrono::seconds timeout, const char* timeout_name) {
    HousekeepingPlan plan = plan_pool_housekeeping(inspect_copy(pool, std::chrono::system_clock::now()));
    if (auto git = git_program())
        run_housekeeping(*git, pool, plan, timeout, timeout_name);
    else
        pack_copy_refs(pool, plan);
}

namespace {

int open_folder(const std::filesystem::path& folder) {
    std::error_code ec;
    std::filesystem::create_directories(folder, ec);
    return open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
}

}  // namespace

PoolFolderLock::PoolFolderLock(const std::filesystem::path& pool) : m_fd(open_folder(pool.parent_path())) {
    std::filesystem::path folder = pool.parent_path();
    if (m_fd.get() < 0)
        throw GitError("cannot open " + folder.string() + ": " + errno_text(errno));
    while (flock(m_fd.get(), LOCK_EX) != 0)
        if (errno != EINTR)
            throw GitError("cannot lock " + folder.string() + ": " + errno_text(errno));
}

}  // namespace geo_ssf
