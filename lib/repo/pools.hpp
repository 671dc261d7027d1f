// Copies that borrow their objects from a pool repository (objects/info/alternates), as forks
// share theirs on the primary: a fork network takes its pool's objects once on a secondary too.
// A copy only ever borrows from a pool copy in its own storage, never from another site.
#pragma once

#include "common/fd.hpp"

#include <chrono>
#include <filesystem>
#include <optional>
#include <vector>

namespace geo_ssf {

// Makes COPY borrow the objects of POOL (a bare repository): its objects/info/alternates names
// POOL's objects folder, and nothing else. Written in place of the old file by rename, so that a
// reader sees one or the other. Nothing is written when it already says so.
void borrow_pool_objects(const std::filesystem::path& copy, const std::filesystem::path& pool);

// The object folders COPY borrows from (objects/info/alternates); empty when it borrows none.
std::vector<std::filesystem::path> borrowed_object_folders(const std::filesystem::path& copy);

// Makes COPY self-contained (a record that left its pool): every object it reaches through its
// alternates is copied into a pack of its own (git repack -a -d, without -l), then the
// alternates file goes. A GitError when git is not installed or the repack fails; the copy
// still borrows then, and stays whole.
void stop_borrowing(const std::filesystem::path& copy, std::chrono::seconds timeout, const char* timeout_name);

// Housekeeps the pool copy POOL after a fetch (plan_pool_housekeeping in housekeeping.hpp): its
// commit-graph, which the copies that borrow from it read as theirs, and a geometric repack past
// the thresholds; never a prune. Nothing without the git program but its refs packed.
void housekeep_pool(const std::filesystem::path& pool, std::chrono::seconds timeout, const char* timeout_name);

// An exclusive lock on the folder that holds the pool at POOL (created when missing), held until
// the end of its scope: one process at a time fetches into the pools of that folder, whichever
// host it runs on, as far as the file system's locks reach (flock).
class PoolFolderLock {
public:
    explicit PoolFolderLock(const std::filesystem::path& pool);

private:
    FileDescriptor m_fd;
};

}  // namespace geo_ssf
