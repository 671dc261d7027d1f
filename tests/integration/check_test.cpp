// check: what it finds ready and what it names as not ready.
#include "test_support.hpp"
#include "two_sites_fixture.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

using namespace geo_ssf::test;

TEST_SUITE("check") {

TEST_CASE("check: passes on a ready site and names what is not ready") {
    TwoConfiguredSites sites;
    sites.generate_cool_widget();
    RunResult before = sites.primary_run({"check"});
    CHECK(before.status == 1);
    CHECK(before.out.find("passed  configuration valid") != std::string::npos);
    CHECK(before.out.find("passed  main database reachable") != std::string::npos);
    CHECK(before.out.find("FAILED  main database has no pending migrations: 8 pending") != std::string::npos);
    CHECK(before.out.find("passed  storage root present and readable") != std::string::npos);

    REQUIRE(sites.primary_run({"migrate"}).status == 0);
    RunResult ready = sites.primary_run({"check"});
    CAPTURE(ready.out);
    CHECK(ready.status == 0);
    CHECK(ready.out.find("FAILED") == std::string::npos);
    CHECK(ready.out.find("passed  model table of cool_widget present") != std::string::npos);

    RunResult secondary = sites.secondary_run({"check"});
    CHECK(secondary.status == 1);
    CHECK(secondary.out.find("FAILED  geo database has no pending migrations") != std::string::npos);
    REQUIRE(sites.secondary_run({"migrate"}).status == 0);
    CHECK(sites.secondary_run({"check"}).status == 0);

    std::filesystem::remove_all(sites.dir / "primary-repositories");
    RunResult no_storage = sites.primary_run({"check"});
    CHECK(no_storage.status == 1);
    CHECK(no_storage.out.find("FAILED  storage root present and readable") != std::string::npos);
    // The secondary's file:// primary is that folder: as an unmounted share, sync would refuse to run.
    RunResult unmounted = sites.secondary_run({"check"});
    CHECK(unmounted.status == 1);
    CHECK(unmounted.out.find("FAILED  primary's storage present: " + (sites.dir / "primary-repositories").string() +
                             " is not a folder; is the primary's storage mounted?") != std::string::npos);
    // The same for scripts: one JSON object, every check with its name, outcome and detail.
    RunResult as_json = sites.secondary_run({"check", "--format", "json"});
    CHECK(as_json.status == 1);
    nlohmann::json checks = nlohmann::json::parse(as_json.out);
    CHECK(checks["passed"] == false);
    CHECK(checks["checks_failed"] == 1);
    REQUIRE(checks["checks"].size() > 3);
    int failed = 0;
    for (const auto& c : checks["checks"]) {
        CHECK(c["name"].is_string());
        CHECK(c["detail"].is_string());
        if (!c["passed"].get<bool>()) {
            ++failed;
            CHECK(c["name"] == "primary's storage present");
        }
    }
    CHECK(failed == 1);
    CHECK(as_json.out.find("FAILED") == std::string::npos);

    sites.main_db.exec("DROP TABLE cool_widget_states; DROP TABLE cool_widgets");
    RunResult no_model = sites.primary_run({"check"});
    CHECK(no_model.out.find("FAILED  model table of cool_widget present") != std::string::npos);
}

TEST_CASE("check: as an unprivileged user, a primary needs to read its storage root, a secondary to write it") {
    TwoConfiguredSites sites;
    sites.generate_cool_widget();
    REQUIRE(sites.primary_run({"migrate"}).status == 0);
    REQUIRE(sites.secondary_run({"migrate"}).status == 0);
    open_to_others(sites.dir.path());
    auto check_as_nobody = [&](const std::filesystem::path& config) {
        RunResult r = run_geo_ssf_as_nobody({"-c", config.string(), "check"});
        CAPTURE(r.err);
        return r;
    };
    // The primary's repositories belong to the application's user (root here): nobody reads them.
    RunResult primary = check_as_nobody(sites.primary);
    CAPTURE(primary.out);
    CHECK(primary.status == 0);
    CHECK(primary.out.find("passed  storage root present and readable: " +
                           (sites.dir / "primary-repositories").string()) != std::string::npos);
    std::filesystem::permissions(sites.dir / "primary-repositories", std::filesystem::perms::owner_all);
    RunResult unreadable = check_as_nobody(sites.primary);
    CHECK(unreadable.status == 1);
    CHECK(unreadable.out.find("FAILED  storage root present and readable: cannot read " +
                              (sites.dir / "primary-repositories").string() + ": Permission denied") !=
          std::string::npos);

    // A secondary writes its copies.
    RunResult secondary = check_as_nobody(sites.secondary);
    CAPTURE(secondary.out);
    CHECK(secondary.status == 1);
    CHECK(secondary.out.find("FAILED  storage root present and writable: cannot create a file in " +
                             (sites.dir / "secondary-repositories").string() + ": Permission denied") !=
          std::string::npos);
    shell("chown 65534:65534 '" + (sites.dir / "secondary-repositories").string() + "'");
    CHECK(check_as_nobody(sites.secondary).out.find("passed  storage root present and writable") != std::string::npos);
}

TEST_CASE("check: a model key that is not a unique, NOT NULL integer column fails, naming file, table and column") {
    TwoConfiguredSites sites;
    sites.main_db.exec("CREATE TABLE snippet_repositories (snippet_id bigint PRIMARY KEY, owner_id bigint NOT NULL, "
                       "shard_id integer)");
    REQUIRE(sites.primary_run({"generate", "replicable", "Snippet", "--model-table", "snippet_repositories",
                               "--model-key", "snippet_id"})
                .status == 0);
    REQUIRE(sites.primary_run({"migrate"}).status == 0);
    CHECK(sites.primary_run({"check"}).status == 0);
    auto file = sites.dir / "replicables" / "snippet.yml";
    std::string text = read_file(file);
    auto set_key = [&](const std::string& key) {
        std::string changed = text;
        changed.replace(changed.find("\nmodel_key: snippet_id\n"), 23, "\nmodel_key: " + key + "\n");
        write_file(file, changed);
        return sites.primary_run({"check"});
    };
    for (const auto& [key, reason] : std::vector<std::pair<std::string, std::string>>{
             {"owner_id", "snippet_repositories.owner_id is not unique: no primary key or unique index on that column alone"},
             {"shard_id", "snippet_repositories.shard_id may be NULL: it is not NOT NULL"},
             {"id", "snippet_repositories has no column id"}}) {
        RunResult check = set_key(key);
        CAPTURE(check.out);
        CHECK(check.status == 1);
        CHECK(check.out.find("FAILED  definition of snippet fits its model table: " + file.string() + ": model_key: " +
                             reason + "\n") != std::string::npos);
    }
}

TEST_CASE("check: reports a broken config or an unreachable database as failed checks") {
    TempDir dir;
    write_file(dir / "geo-ssf.yml", "databases: {main: x}\n");
    RunResult bad = run_geo_ssf({"-c", (dir / "geo-ssf.yml").string(), "check"});
    CHECK(bad.status == 1);
    CHECK(bad.out.find("FAILED  configuration valid: ") != std::string::npos);
    CHECK(bad.out.find("storage.root: is required") != std::string::npos);

    auto config = write_config(dir / "site", "primary", "host=127.0.0.1 port=1 dbname=none connect_timeout=5");
    RunResult down = run_geo_ssf({"-c", config.string(), "check"});
    CHECK(down.status == 1);
    CHECK(down.out.find("FAILED  main database reachable: cannot connect to the main database") != std::string::npos);
}

}
