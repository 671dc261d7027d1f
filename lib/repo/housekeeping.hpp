// Housekeeping of a secondary's copies, as Gitaly decides it: look at the copy (its loose objects,
// packs, loose refs and commit-graph, counted from its files), then run the cheapest tasks that
// keep it within the thresholds below, which geo-ssf-sync(1), HOUSEKEEPING, documents. Objects are
// repacked by the git program; without it only the refs are packed.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>

namespace geo_ssf {

// A copy's loose objects are packed once there are this many (git fetches fewer than 100
// objects as loose files, a block of disk each).
inline constexpr long long k_loose_objects_limit = 64;
// More packs than this are rolled up, so that an object is looked up in a few indexes.
inline constexpr long long k_packs_limit = 16;
// A copy of several packs is packed whole at most this often (dropping the objects its pruned
// refs left behind), and whatever its age when it has more packs than this.
inline constexpr std::chrono::hours k_full_repack_interval{24 * 7};
inline constexpr long long k_packs_for_full_repack = 32;
// Loose objects older than this that no ref reaches are pruned (git gc's default).
inline constexpr std::chrono::hours k_prune_grace{24 * 14};

// What housekeeping sees of a copy.
struct CopyShape {
    long long loose_objects = 0;
    long long loose_bytes = 0;  // the disk they take
    long long old_loose_objects = 0;  // older than k_prune_grace
    long long packs = 0;
    long long pack_bytes = 0;
    long long loose_refs = 0;
    long long loose_refs_allowed = 0;  // packed_refs.hpp's bound for this copy
    bool commit_graph = false;
    // It borrows objects from a pool (pools.hpp): git reads the pool's commit-graph then, and
    // a graph of the copy's own would hold the whole network's history again.
    bool borrows_objects = false;
};

// The shape of the copy at GITDIR, from its files, at NOW (for the age of loose objects).
CopyShape inspect_copy(const std::filesystem::path& gitdir, std::chrono::system_clock::time_point now);

// The tasks to run, in this order.
struct HousekeepingPlan {
    bool pack_refs = false;           // the loose refs into packed-refs
    bool prune = false;               // unreachable loose objects older than k_prune_grace
    bool full_repack = false;         // every object into one pack, unreachable ones dropped
    bool incremental_repack = false;  // loose objects and small packs rolled up (git repack --geometric=2)
    bool commit_graph = false;        // a commit-graph written (a new one after a full repack, a layer otherwise)

    bool nothing() const { return !pack_refs && !prune && !full_repack && !incremental_repack && !commit_graph; }
    // "full repack, commit-graph", or "nothing to do".
    std::string describe() const;
};

// The cheapest tasks that keep the copy of SHAPE within the thresholds. A FRESH_COPY (cloned
// since its last housekeeping) is packed whole (a clone of one pack only gets its commit-graph);
// SECONDS_SINCE_FULL_REPACK is nullopt when geo-ssf never packed it whole.
HousekeepingPlan plan_housekeeping(const CopyShape& shape, bool fresh_copy,
                                   std::optional<double> seconds_since_full_repack);

// The tasks for a pool copy (pools.hpp) of SHAPE after a fetch: its refs packed past the bound,
// loose objects and small packs rolled up as for a copy (a geometric repack keeps every object of
// the packs it rolls up, reachable or not), and a commit-graph layer for what the fetch brought,
// which the pool's members read as theirs. Never a prune nor a full repack: either could drop an
// object that a member reaches and the pool does not.
HousekeepingPlan plan_pool_housekeeping(const CopyShape& shape);

// Runs PLAN on the copy at GITDIR: the refs with libgit2, the rest with the git program GIT (each
// run bounded by TIMEOUT, named TIMEOUT_NAME). Throws GitError naming the task that failed, and
// GitProgramInterrupted when a stop or the timeout ended one; a task that failed leaves the copy
// as valid as before (git replaces packs only once the new ones are whole).
void run_housekeeping(const std::filesystem::path& git, const std::filesystem::path& gitdir,
                      const HousekeepingPlan& plan, std::chrono::seconds timeout, const char* timeout_name);

// Packs the loose refs of the copy at GITDIR, when PLAN says so, without the git program; a
// GitError naming a FIFO, a socket or a device among its refs (special_files.hpp) opens nothing.
void pack_copy_refs(const std::filesystem::path& gitdir, const HousekeepingPlan& plan);

}  // namespace geo_ssf
