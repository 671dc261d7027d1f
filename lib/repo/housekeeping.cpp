#include "repo/housekeeping.hpp"

#include "repo/git.hpp"
#include "repo/git_program.hpp"
#include "repo/packed_refs.hpp"
#include "repo/pools.hpp"
#include "repo/special_files.hpp"

#include <sys/stat.h>

#include <string_view>
#include <vector>

namespace geo_ssf {

namespace fs = std::filesystem;

namespace {

bool is_hex(std::string_view text) {
    for (char c : text)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
    return !text.empty();
}

// Loose objects live in objects/XX/ with the 38 other hex digits of their id as their name.
void count_loose_objects(const fs::path& objects, std::chrono::system_clock::time_point now, CopyShape& shape) {
    auto old = std::chrono::system_clock::to_time_t(now - k_prune_grace);
    std::error_code ec;
    for (const auto& folder : fs::directory_iterator(objects, ec)) {
        std::string name = folder.path().filename().string();
        if (name.size() != 2 || !is_hex(name))
            continue;
        std::error_code inner;
        for (const auto& entry : fs::directory_iterator(folder.path(), inner)) {
            std::string file = entry.path().filename().string();
            struct stat st {};
            if (file.size() != 38 || !is_hex(file) || ::lstat(entry.path().c_str(), &st) != 0 || !S_ISREG(st.st_mode))
                continue;
            ++shape.loose_objects;
            shape.loose_bytes += static_cast<long long>(st.st_blocks) * 512;
            if (st.st_mtime < old)
                ++shape.old_loose_objects;
        }
    }
}

void count_packs(const fs::path& pack_folder, CopyShape& shape) {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(pack_folder, ec)) {
        if (entry.path().extension() != ".pack")
            continue;
        ++shape.packs;
        std::error_code size_ec;
        auto size = fs::file_size(entry.path(), size_ec);
        if (!size_ec)
            shape.pack_bytes += static_cast<long long>(size);
    }
}

long long count_loose_refs(const fs::path& refs) {
    long long files = 0;
    std::error_code ec;
    for (fs::recursive_directory_iterator it(refs, ec), end; !ec && it != end; it.increment(ec))
        if (it->is_regular_file(ec))
            ++files;
    return files;
}

}  // namespace

std::string HousekeepingPlan::describe() const {
    std::string out;
    auto add = [&](bool done, const char* task) {
        if (done)
            out += (out.empty() ? "" : ", ") + std::string(task);
    };
    add(pack_refs, "refs packed");
    add(prune, "old unreachable objects pruned");
    add(full_repack, "full repack");
    add(incremental_repack, "incremental repack");
    add(commit_graph, "commit-graph");
    return out.empty() ? "nothing to do" : out;
}

CopyShape inspect_copy(const fs::path& gitdir, std::chrono::system_clock::time_point now) {
    CopyShape shape;
    count_loose_objects(gitdir / "objects", now, shape);
    count_packs(gitdir / "objects" / "pack", shape);
    shape.loose_refs = count_loose_refs(gitdir / "refs");
    shape.loose_refs_allowed = static_cast<long long>(loose_refs_allowed(gitdir));
    std::error_code ec;
    shape.commit_graph = fs::exists(gitdir / "objects" / "info" / "commit-graph", ec) ||
                         fs::exists(gitdir / "objects" / "info" / "commit-graphs" / "commit-graph-chain", ec);
    shape.borrows_objects = !borrowed_object_folders(gitdir).empty();
    return shape;
}

HousekeepingPlan plan_housekeeping(const CopyShape& shape, bool fresh_copy,
                                   std::optional<double> seconds_since_full_repack) {
    HousekeepingPlan plan;
    plan.pack_refs = shape.loose_refs > shape.loose_refs_allowed;
    bool several_packs = shape.packs > 1;
    if (fresh_copy) {
        // A clone is usually one pack already: then it only needs its commit-graph.
        plan.full_repack = several_packs || shape.loose_objects > 0;
    } else {
        bool full_repack_due = !seconds_since_full_repack ||
                               *seconds_since_full_repack >= static_cast<double>(
                                                                 std::chrono::seconds(k_full_repack_interval).count());
        plan.full_repack = shape.packs > k_packs_for_full_repack || (several_packs && full_repack_due);
        plan.incremental_repack =
            !plan.full_repack && (shape.loose_objects >= k_loose_objects_limit || shape.packs > k_packs_limit);
    }
    bool repack = plan.full_repack || plan.incremental_repack;
    // Before a repack, which would pack them for good; on their own once there are many.
    plan.prune = shape.old_loose_objects > 0 && (repack || shape.old_loose_objects >= k_loose_objects_limit);
    plan.commit_graph = !shape.borrows_objects && (repack || fresh_copy || !shape.commit_graph);
    return plan;
}

HousekeepingPlan plan_pool_housekeeping(const CopyShape& shape) {
    HousekeepingPlan plan;
    plan.pack_refs = shape.loose_refs > shape.loose_refs_allowed;
    plan.incremental_repack = shape.loose_objects >= k_loose_objects_limit || shape.packs > k_packs_limit;
    plan.commit_graph = true;
    return plan;
}

void pack_copy_refs(const fs::path& gitdir, const HousekeepingPlan& plan) {
    if (!plan.pack_refs)
        return;
    refuse_special_files(gitdir);
    refuse_special_files_under(gitdir, "refs");
    git::Repository repository = git::open_repository(gitdir);
    keep_refs_packed(repository.get(), gitdir);
}

void run_housekeeping(const fs::path& git, const fs::path& gitdir, const HousekeepingPlan& plan,
                      std::chrono::seconds timeout, const char* timeout_name) {
    pack_copy_refs(gitdir, plan);
    if (plan.prune) {
        auto days = std::chrono::duration_cast<std::chrono::hours>(k_prune_grace).count() / 24;
        run_git_task(git, gitdir, "prune", {"prune", "--expire=" + std::to_string(days) + ".days.ago"}, timeout,
                     timeout_name);
    }
    // -l: the objects a copy borrows from its pool stay in the pool (pools.hpp).
    if (plan.full_repack)
        run_git_task(git, gitdir, "full repack", {"repack", "-a", "-d", "-l", "-q"}, timeout, timeout_name);
    if (plan.incremental_repack)
        run_git_task(git, gitdir, "incremental repack", {"repack", "-d", "-l", "-q", "--geometric=2"}, timeout,
                     timeout_name);
    if (plan.commit_graph)
        run_git_task(git, gitdir, "commit-graph",
                     {"commit-graph", "write", "--reachable", "--no-progress",
                      plan.full_repack ? "--split=replace" : "--split"},
                     timeout, timeout_name);
}

}  // namespace geo_ssf
