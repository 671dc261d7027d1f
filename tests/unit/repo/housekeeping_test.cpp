#include "repo/housekeeping.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <string>

using namespace geo_ssf;
using geo_ssf::test::TempDir;
using geo_ssf::test::write_file;

namespace {

constexpr double k_day = 24 * 3600;

// A copy as a clone leaves it: one pack, its refs packed, a commit-graph.
CopyShape tidy_copy() {
    CopyShape shape;
    shape.packs = 1;
    shape.pack_bytes = 3 << 20;
    shape.loose_refs_allowed = 16;
    shape.commit_graph = true;
    return shape;
}

}  // namespace

TEST_SUITE("housekeeping") {

TEST_CASE("housekeeping::a tidy copy needs nothing") {
    HousekeepingPlan plan = plan_housekeeping(tidy_copy(), false, 3 * k_day);
    CHECK(plan.nothing());
    CHECK(plan.describe() == "nothing to do");
    // Nor when geo-ssf never packed it whole: a copy of one pack is whole.
    CHECK(plan_housekeeping(tidy_copy(), false, std::nullopt).nothing());
}

TEST_CASE("housekeeping::a fresh copy is packed whole, or, when a clone left one pack, given its commit-graph") {
    CopyShape clone = tidy_copy();
    clone.commit_graph = false;
    HousekeepingPlan plan = plan_housekeeping(clone, true, std::nullopt);
    CHECK_FALSE(plan.full_repack);
    CHECK_FALSE(plan.incremental_repack);
    CHECK(plan.commit_graph);
    CHECK(plan.describe() == "commit-graph");

    CopyShape fetched = clone;
    fetched.packs = 3;
    plan = plan_housekeeping(fetched, true, std::nullopt);
    CHECK(plan.full_repack);
    CHECK(plan.commit_graph);
    CHECK(plan.describe() == "full repack, commit-graph");

    CopyShape loose = clone;
    loose.loose_objects = 2;
    CHECK(plan_housekeeping(loose, true, std::nullopt).full_repack);
}

TEST_CASE("housekeeping::loose objects are rolled up from the limit on, with a commit-graph layer") {
    CopyShape shape = tidy_copy();
    shape.packs = 2;
    shape.loose_objects = k_loose_objects_limit - 1;
    CHECK(plan_housekeeping(shape, false, 1 * k_day).nothing());
    shape.loose_objects = k_loose_objects_limit;
    HousekeepingPlan plan = plan_housekeeping(shape, false, 1 * k_day);
    CHECK(plan.incremental_repack);
    CHECK_FALSE(plan.full_repack);
    CHECK(plan.commit_graph);
    CHECK(plan.describe() == "incremental repack, commit-graph");
}

TEST_CASE("housekeeping::packs are rolled up past their limit, and packed whole past the second one") {
    CopyShape shape = tidy_copy();
    shape.packs = k_packs_limit;
    CHECK(plan_housekeeping(shape, false, 1 * k_day).nothing());
    shape.packs = k_packs_limit + 1;
    CHECK(plan_housekeeping(shape, false, 1 * k_day).incremental_repack);
    shape.packs = k_packs_for_full_repack + 1;
    HousekeepingPlan plan = plan_housekeeping(shape, false, 1 * k_day);
    CHECK(plan.full_repack);
    CHECK_FALSE(plan.incremental_repack);
}

TEST_CASE("housekeeping::a copy of several packs is packed whole once its last full repack is a week old") {
    CopyShape shape = tidy_copy();
    shape.packs = 2;
    double week = std::chrono::duration<double>(k_full_repack_interval).count();
    CHECK(plan_housekeeping(shape, false, week - 1).nothing());
    CHECK(plan_housekeeping(shape, false, week).full_repack);
    CHECK(plan_housekeeping(shape, false, std::nullopt).full_repack);
    // One pack is whole already, however old.
    shape.packs = 1;
    CHECK(plan_housekeeping(shape, false, 10 * week).nothing());
}

TEST_CASE("housekeeping::old unreachable loose objects are pruned before a repack packs them, or once there are many") {
    CopyShape shape = tidy_copy();
    shape.old_loose_objects = 3;
    shape.loose_objects = 3;
    CHECK(plan_housekeeping(shape, false, 1 * k_day).nothing());
    shape.loose_objects = k_loose_objects_limit;
    HousekeepingPlan plan = plan_housekeeping(shape, false, 1 * k_day);
    CHECK(plan.prune);
    CHECK(plan.incremental_repack);
    CHECK(plan.describe() == "old unreachable objects pruned, incremental repack, commit-graph");
    shape.old_loose_objects = k_loose_objects_limit;
    shape.packs = 1;
    CHECK(plan_housekeeping(shape, false, 1 * k_day).prune);
}

TEST_CASE("housekeeping::refs are packed past packed_refs' bound; a missing commit-graph is written") {
    CopyShape shape = tidy_copy();
    shape.loose_refs = shape.loose_refs_allowed;
    CHECK(plan_housekeeping(shape, false, 1 * k_day).nothing());
    shape.loose_refs = shape.loose_refs_allowed + 1;
    CHECK(plan_housekeeping(shape, false, 1 * k_day).describe() == "refs packed");
    shape = tidy_copy();
    shape.commit_graph = false;
    CHECK(plan_housekeeping(shape, false, 1 * k_day).describe() == "commit-graph");
}

TEST_CASE("housekeeping::inspect_copy counts loose objects (and the old ones), packs, loose refs and the commit-graph") {
    TempDir dir;
    auto copy = dir / "copy.git";
    std::string id(38, 'a');
    write_file(copy / "objects" / "12" / id, "x");
    write_file(copy / "objects" / "ab" / id, "x");
    write_file(copy / "objects" / "ab" / (id.substr(0, 37) + "b"), "x");
    write_file(copy / "objects" / "ab" / "tmp_obj_123", "x");         // not an object
    write_file(copy / "objects" / "info" / "commit-graph", "graph");  // not a folder of objects
    write_file(copy / "objects" / "pack" / "pack-1.pack", std::string(1000, 'p'));
    write_file(copy / "objects" / "pack" / "pack-1.idx", "idx");
    write_file(copy / "objects" / "pack" / "pack-2.pack", std::string(24, 'p'));
    write_file(copy / "refs" / "heads" / "main", "ref");
    write_file(copy / "refs" / "tags" / "v1", "ref");
    std::filesystem::create_directories(copy / "refs" / "keep");
    auto now = std::chrono::system_clock::now();
    std::filesystem::last_write_time(copy / "objects" / "12" / id,
                                     std::filesystem::file_time_type::clock::now() - k_prune_grace -
                                         std::chrono::hours(1));
    CopyShape shape = inspect_copy(copy, now);
    CHECK(shape.loose_objects == 3);
    CHECK(shape.old_loose_objects == 1);
    CHECK(shape.loose_bytes > 0);
    CHECK(shape.packs == 2);
    CHECK(shape.pack_bytes == 1024);
    CHECK(shape.loose_refs == 2);
    CHECK(shape.loose_refs_allowed == 16);
    CHECK(shape.commit_graph);
    CHECK_FALSE(shape.borrows_objects);
    write_file(copy / "objects" / "info" / "alternates", "/srv/@pools/1.git/objects\n");
    CHECK(inspect_copy(copy, now).borrows_objects);
}

TEST_CASE("housekeeping::a copy that borrows from a pool gets no commit-graph of its own: git reads the pool's") {
    CopyShape fork = tidy_copy();
    fork.commit_graph = false;
    fork.borrows_objects = true;
    CHECK(plan_housekeeping(fork, true, std::nullopt).nothing());
    fork.packs = 40;
    HousekeepingPlan plan = plan_housekeeping(fork, false, 1 * k_day);
    CHECK(plan.full_repack);
    CHECK_FALSE(plan.commit_graph);
}

TEST_CASE("housekeeping::a pool copy is rolled up past the thresholds, never pruned nor packed whole") {
    CopyShape pool = tidy_copy();
    HousekeepingPlan plan = plan_pool_housekeeping(pool);
    CHECK(plan.describe() == "commit-graph");  // a layer for what the fetch brought
    pool.packs = 40;
    pool.old_loose_objects = 100;
    pool.loose_objects = 100;
    plan = plan_pool_housekeeping(pool);
    CHECK(plan.incremental_repack);
    CHECK_FALSE(plan.full_repack);  // would drop what only members reach
    CHECK_FALSE(plan.prune);
    CHECK(plan.commit_graph);
}

}  // TEST_SUITE
