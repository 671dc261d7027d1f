// Forks that share their objects through a pool repository (pool_repository_path): on a
// secondary the pool is copied first, and each fork's copy borrows from that copy
// (objects/info/alternates), never from another site's; a push to a fork or to the pool, a fork
// deleted, a fork that leaves its pool, and a damaged pool copy.
#include "test_support.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>

using namespace geo_ssf::test;

namespace {

constexpr int k_forks = 20;

// A primary whose CoolWidgets 1..20 are forks in the pool @pools/1.git (pool_id 1), and 21 a
// repository of its own; a secondary over a file:// primary. Both migrated.
struct ForkNetwork {
    TempDir dir;
    TestDatabase main_db;
    TestDatabase geo_db;
    RepositoryFactory repositories{dir.path()};
    std::filesystem::path primary_root = dir / "primary-repositories";
    std::filesystem::path secondary_root = dir / "secondary-repositories";
    std::filesystem::path primary_config;
    std::filesystem::path secondary_config = dir / "secondary.yml";

    ForkNetwork() {
        std::filesystem::create_directories(primary_root);
        std::filesystem::create_directories(secondary_root);
        primary_config = dir / "primary.yml";
        write_file(primary_config, "site: {name: primary-site, role: primary}\n"
                                   "databases: {main: \"" + main_db.conninfo() + "\"}\n"
                                   "storage: {root: primary-repositories}\n");
        write_file(secondary_config, "site: {name: secondary-site, role: secondary}\n"
                                     "databases: {main: \"" + main_db.conninfo() + "\", geo: \"" + geo_db.conninfo() +
                                         "\"}\n"
                                     "storage: {root: secondary-repositories, primary_url: \"file://" +
                                         primary_root.string() + "\"}\n");
        REQUIRE(primary({"generate", "replicable", "CoolWidget"}).status == 0);
        auto definition = dir / "replicables" / "cool_widget.yml";
        write_file(definition, read_file(definition) + "pool_repository_path: \"@pools/{pool_id}.git\"\n");
        main_db.exec("CREATE TABLE cool_widgets (id bigserial PRIMARY KEY, pool_id bigint)");
        REQUIRE(primary({"migrate"}).status == 0);
        REQUIRE(secondary({"migrate"}).status == 0);

        // The pool holds the network's history; each fork borrows it and has a commit of its own.
        repositories.create(primary_root, "@pools/1.git", 0);
        for (int id = 1; id <= k_forks; ++id) {
            shell("git clone -q --bare --shared '" + pool_on_primary().string() + "' '" + fork_on_primary(id).string() +
                  "'");
            commit_on_main(fork_on_primary(id));
        }
        repositories.create(primary_root, "cool_widgets/21.git", 21);
        main_db.exec("INSERT INTO cool_widgets SELECT id, CASE WHEN id <= " + std::to_string(k_forks) +
                     " THEN 1 END FROM generate_series(1, 21) id");
    }

    std::filesystem::path pool_on_primary() const { return primary_root / "@pools" / "1.git"; }
    std::filesystem::path fork_on_primary(long long id) const {
        return primary_root / "cool_widgets" / (std::to_string(id) + ".git");
    }
    std::filesystem::path pool_copy() const { return secondary_root / "@pools" / "1.git"; }
    std::filesystem::path copy(long long id) const {
        return secondary_root / "cool_widgets" / (std::to_string(id) + ".git");
    }

    RunResult primary(std::vector<std::string> args) {
        args.insert(args.begin(), {"-c", primary_config.string()});
        return run_geo_ssf(args);
    }
    RunResult secondary(std::vector<std::string> args) {
        args.insert(args.begin(), {"-c", secondary_config.string()});
        return run_geo_ssf(args);
    }

    // Whether REPOSITORY has OBJECT in its own object folder, its alternates left out.
    static bool has_own_object(const std::filesystem::path& repository, const std::string& object) {
        auto alternates = repository / "objects" / "info" / "alternates";
        auto aside = repository / "objects" / "info" / "alternates.aside";
        bool borrowing = std::filesystem::exists(alternates);
        if (borrowing)
            std::filesystem::rename(alternates, aside);
        bool found = shell("git -C '" + repository.string() + "' cat-file -e " + object + " 2>/dev/null && echo yes || "
                           "echo no") == "yes\n";
        if (borrowing)
            std::filesystem::rename(aside, alternates);
        return found;
    }

    std::string alternates_of(const std::filesystem::path& repository) {
        auto file = repository / "objects" / "info" / "alternates";
        return std::filesystem::exists(file) ? read_file(file) : "";
    }

    long long verified() {
        return std::stoll(geo_db.scalar("SELECT count(*) FROM cool_widget_registry WHERE verification_state = 2"));
    }
};

}  // namespace

TEST_SUITE("pools") {

TEST_CASE("pools: 20 forks borrow from the secondary's copy of their pool; pushes, a deletion, a fork that leaves") {
    ForkNetwork network;
    RunResult verified = network.primary({"verify"});
    REQUIRE_MESSAGE(verified.status == 0, verified.err);
    RunResult synced = network.secondary({"sync"});
    REQUIRE_MESSAGE(synced.status == 0, synced.err);
    RunResult compared = network.secondary({"verify"});
    REQUIRE_MESSAGE(compared.status == 0, compared.err);
    CHECK(network.verified() == k_forks + 1);

    // Each fork's copy borrows from the secondary's pool copy, and holds none of the pool's history.
    REQUIRE(std::filesystem::exists(network.pool_copy() / "HEAD"));
    const std::string pool_head = network.repositories.head_commit();
    const std::string pool_objects = (network.pool_copy() / "objects").string() + "\n";
    for (int id = 1; id <= k_forks; ++id) {
        CHECK(network.alternates_of(network.copy(id)) == pool_objects);
        CHECK_FALSE(ForkNetwork::has_own_object(network.copy(id), pool_head));
    }
    // git reads the pool's commit-graph for its forks: they have none of their own.
    CHECK(std::filesystem::exists(network.pool_copy() / "objects" / "info" / "commit-graphs" / "commit-graph-chain"));
    CHECK_FALSE(std::filesystem::exists(network.copy(3) / "objects" / "info" / "commit-graphs"));
    CHECK(network.alternates_of(network.copy(21)).empty());
    CHECK(ForkNetwork::has_own_object(network.copy(21), pool_head));
    // A deep check of a fork's copy follows its alternates into the pool copy: every object is there.
    RunResult deep = network.secondary({"reverify", "cool_widget", "--all", "--deep"});
    REQUIRE_MESSAGE(deep.status == 0, deep.err);
    RunResult checked = network.secondary({"verify", "--format", "json"});
    REQUIRE_MESSAGE(checked.status == 0, checked.err);
    auto deep_checks = nlohmann::json::parse(checked.out)["deep_checks"];
    CHECK(deep_checks["succeeded"] == k_forks + 1);
    CHECK(deep_checks["failed"] == 0);
    // The pool is nobody's record: no registry row, and it is never quarantined.
    CHECK(network.geo_db.scalar("SELECT count(*) FROM geo_ssf_copies WHERE path LIKE '@pools/%'") == "0");

    // A push to a fork travels alone; a push to the pool reaches the pool's copy with the next sync.
    commit_on_main(network.fork_on_primary(5));
    commit_on_main(network.pool_on_primary());
    const std::string new_pool_head = shell("git -C '" + network.pool_on_primary().string() + "' rev-parse main");
    REQUIRE(network.primary({"event", "cool_widget", "updated", "5"}).status == 0);
    REQUIRE(network.primary({"verify"}).status == 0);
    synced = network.secondary({"sync"});
    REQUIRE_MESSAGE(synced.status == 0, synced.err);
    CHECK(shell("git -C '" + network.pool_copy().string() + "' rev-parse main") == new_pool_head);
    CHECK(shell("git -C '" + network.copy(5).string() + "' rev-parse main") ==
          shell("git -C '" + network.fork_on_primary(5).string() + "' rev-parse main"));
    compared = network.secondary({"verify"});
    REQUIRE_MESSAGE(compared.status == 0, compared.err);
    CHECK(network.verified() == k_forks + 1);

    // A fork deleted: its copy goes, the pool's stays for the others.
    REQUIRE(network.primary({"event", "cool_widget", "deleted", "7"}).status == 0);
    network.main_db.exec("DELETE FROM cool_widgets WHERE id = 7");
    synced = network.secondary({"sync"});
    REQUIRE_MESSAGE(synced.status == 0, synced.err);
    CHECK_FALSE(std::filesystem::exists(network.copy(7)));
    CHECK(std::filesystem::exists(network.pool_copy() / "HEAD"));
    CHECK(shell("git -C '" + network.copy(8).string() + "' fsck --no-progress 2>&1 && echo whole").find("whole") !=
          std::string::npos);

    // A fork that leaves its pool on the primary gets a self-contained copy.
    shell("git -C '" + network.fork_on_primary(9).string() + "' repack -a -d -q && rm '" +
          (network.fork_on_primary(9) / "objects" / "info" / "alternates").string() + "'");
    network.main_db.exec("UPDATE cool_widgets SET pool_id = NULL WHERE id = 9");
    REQUIRE(network.primary({"event", "cool_widget", "updated", "9"}).status == 0);
    synced = network.secondary({"sync"});
    REQUIRE_MESSAGE(synced.status == 0, synced.err);
    CHECK(network.alternates_of(network.copy(9)).empty());
    CHECK(ForkNetwork::has_own_object(network.copy(9), pool_head));
}

TEST_CASE("pools: a damaged pool copy is copied again before the next fork that needs it; its packs are rolled up, "
          "nothing pruned") {
    ForkNetwork network;
    REQUIRE(network.primary({"verify"}).status == 0);
    RunResult synced = network.secondary({"sync"});
    REQUIRE_MESSAGE(synced.status == 0, synced.err);

    // The pool copy loses its objects: every fork's copy is broken.
    shell("find '" + (network.pool_copy() / "objects").string() + "' -type f -not -path '*/info/*' -delete");
    CHECK(shell("git -C '" + network.copy(3).string() + "' fsck --no-progress >/dev/null 2>&1 && echo whole || "
                "echo broken") == "broken\n");

    RunResult resynced = network.secondary({"resync", "cool_widget", "3", "--now"});
    REQUIRE_MESSAGE(resynced.status == 0, resynced.err);
    for (long long id : {3, 4})
        CHECK(shell("git -C '" + network.copy(id).string() + "' fsck --no-progress >/dev/null 2>&1 && echo whole || "
                    "echo broken") == "whole\n");

    // Packs pile up in the pool copy (20 of one object each, one of them reached by no ref of the
    // pool's: a member's): the next sync rolls them up and keeps every object.
    const std::string pool = network.pool_copy().string();
    std::string unreachable = shell("cd '" + pool + "' && for i in $(seq 1 20); do o=$(echo object $i | git hash-object "
                                    "-w --stdin) && echo $o | git pack-objects -q objects/pack/pack >/dev/null && "
                                    "rm objects/$(echo $o | cut -c1-2)/$(echo $o | cut -c3-) || exit 1; done; echo $o");
    unreachable.pop_back();
    auto packs = [&] { return std::stoi(shell("ls '" + pool + "'/objects/pack/*.pack | wc -l")); };
    REQUIRE(packs() > 16);
    resynced = network.secondary({"resync", "cool_widget", "4", "--now"});
    REQUIRE_MESSAGE(resynced.status == 0, resynced.err);
    CHECK(packs() <= 2);
    CHECK(shell("git -C '" + pool + "' cat-file -t " + unreachable) == "blob\n");
    RunResult compared = network.secondary({"verify"});
    REQUIRE_MESSAGE(compared.status == 0, compared.err);
    CHECK(network.verified() == k_forks + 1);
}

}  // TEST_SUITE
