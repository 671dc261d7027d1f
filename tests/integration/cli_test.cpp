// The command line as users and scripts meet it: help, bad input, exit statuses.
#include "one_line_error.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>

#include <algorithm>

using namespace geo_ssf::test;

TEST_SUITE("cli") {

TEST_CASE("cli: --help on every command, with examples") {
    RunResult top = run_geo_ssf({"--help"});
    CHECK(top.status == 0);
    for (const char* command : {"generate", "migrate", "replicables", "check"}) {
        CAPTURE(command);
        CHECK(top.out.find(command) != std::string::npos);
        RunResult r = run_geo_ssf({command, "--help"});
        CHECK(r.status == 0);
        CHECK(r.out.find("Examples:") != std::string::npos);
        CHECK(r.out.find(std::string("geo-ssf ") + command) != std::string::npos);
    }
}

TEST_CASE("cli: usage errors exit 2") {
    TempDir dir;
    RunOptions in_dir{dir.path(), {}, {}};
    check_one_line_error(run_geo_ssf({}, in_dir), 2, "subcommand");
    check_one_line_error(run_geo_ssf({"frobnicate"}, in_dir), 2, "unknown command 'frobnicate'");
    check_one_line_error(run_geo_ssf({"generate", "replicable", "CoolWidget", "--bogus"}, in_dir), 2, "--bogus");
    check_one_line_error(run_geo_ssf({"generate", "widget", "CoolWidget"}, in_dir), 2, "replicable");
    check_one_line_error(run_geo_ssf({"generate", "replicable", "Widget; DROP TABLE x"}, in_dir), 2, "';' is not allowed");
    check_one_line_error(run_geo_ssf({"generate", "replicable", "Cool Widget!"}, in_dir), 2, "'!' is not allowed");
    check_one_line_error(run_geo_ssf({"generate", "replicable", ""}, in_dir), 2, "NAME is empty");
    check_one_line_error(run_geo_ssf({"generate", "replicable", std::string(60, 'a')}, in_dir), 2, "PostgreSQL keeps only 63");
    check_one_line_error(run_geo_ssf({"generate", "replicable", "CoolWidget", "--repository-path", "../{id}"}, in_dir), 2,
                "invalid --repository-path");
    check_one_line_error(run_geo_ssf({"migrate", "--database", "both"}, in_dir), 2, "--database");
    CHECK_FALSE(std::filesystem::exists(dir / "replicables"));
    CHECK_FALSE(std::filesystem::exists(dir / "migrations"));
}

TEST_CASE("cli: generate writes the type, refuses to overwrite it, and --force does") {
    TempDir dir;
    RunOptions in_dir{dir.path(), {}, {}};
    RunResult first = run_geo_ssf({"generate", "replicable", "CoolWidget"}, in_dir);
    CHECK(first.status == 0);
    CHECK(first.out.find("created replicables/cool_widget.yml") != std::string::npos);
    CHECK(std::filesystem::exists(dir / "db/geo/docs/cool_widget_registry.yml"));
    CHECK(std::filesystem::exists(dir / "db/docs/cool_widget_states.yml"));
    CHECK(read_file(dir / "db/geo/docs/cool_widget_registry.yml").find("gitlab_schema: gitlab_geo") != std::string::npos);
    CHECK(read_file(dir / "db/docs/cool_widget_states.yml").find("gitlab_schema: gitlab_main") != std::string::npos);
    CHECK(read_file(dir / "db/docs/cool_widget_states.yml").find("table_name: cool_widget_states") != std::string::npos);

    write_file(dir / "replicables/cool_widget.yml", "edited by hand\n");
    check_one_line_error(run_geo_ssf({"generate", "replicable", "cool_widget"}, in_dir), 2, "already exists");
    CHECK(read_file(dir / "replicables/cool_widget.yml") == "edited by hand\n");

    auto migrations_before = std::distance(std::filesystem::directory_iterator(dir / "migrations/geo"),
                                           std::filesystem::directory_iterator());
    RunResult forced = run_geo_ssf({"generate", "replicable", "Cool Widget", "--force"}, in_dir);
    CHECK(forced.status == 0);
    CHECK(forced.out.find("overwrote replicables/cool_widget.yml") != std::string::npos);
    CHECK(read_file(dir / "replicables/cool_widget.yml").find("registry_table: cool_widget_registry") != std::string::npos);
    // The forced run rewrote the migration in place instead of adding a second one.
    CHECK(std::distance(std::filesystem::directory_iterator(dir / "migrations/geo"), std::filesystem::directory_iterator()) ==
          migrations_before);
}

TEST_CASE("cli: generate --dry-run writes nothing") {
    TempDir dir;
    RunResult r = run_geo_ssf({"generate", "replicable", "SalesPerson", "--dry-run"}, {dir.path(), {}, {}});
    CHECK(r.status == 0);
    CHECK(r.out.find("replicables/sales_person.yml (would create)") != std::string::npos);
    CHECK(r.out.find("CREATE TABLE sales_person_registry") != std::string::npos);
    CHECK(r.out.find("title_plural: Sales People") != std::string::npos);
    CHECK(std::filesystem::is_empty(dir.path()));
}

TEST_CASE("cli: generate --output-dir and the options reach the files") {
    TempDir dir;
    RunResult r = run_geo_ssf({"generate", "replicable", "Cactus", "--plural", "Cacti", "--model-table", "plants",
                               "--repository-path", "plants/{namespace_id}/{id}.git", "--output-dir",
                               (dir / "out").string()});
    CHECK(r.status == 0);
    std::string def = read_file(dir / "out/replicables/cactus.yml");
    CHECK(def.find("plural: cacti") != std::string::npos);
    CHECK(def.find("model_table: plants") != std::string::npos);
    CHECK(def.find("repository_path: \"plants/{namespace_id}/{id}.git\"") != std::string::npos);
}

TEST_CASE("cli: generate picks a newer version for each new type") {
    TempDir dir;
    RunOptions in_dir{dir.path(), {}, {}};
    REQUIRE(run_geo_ssf({"generate", "replicable", "Alpha"}, in_dir).status == 0);
    REQUIRE(run_geo_ssf({"generate", "replicable", "Beta"}, in_dir).status == 0);
    std::vector<std::string> versions;
    for (const auto& entry : std::filesystem::directory_iterator(dir / "migrations/geo"))
        versions.push_back(entry.path().filename().string().substr(0, 14));
    REQUIRE(versions.size() == 2);
    CHECK(versions[0] != versions[1]);
}

TEST_CASE("cli: configuration errors exit 3") {
    TempDir dir;
    RunOptions in_dir{dir.path(), {}, {}};
    check_one_line_error(run_geo_ssf({"replicables"}, in_dir), 3, "no config file");
    check_one_line_error(run_geo_ssf({"-c", (dir / "missing.yml").string(), "replicables"}), 3, "missing.yml: no such config file");
    write_file(dir / "bad.yml", "databases: [\n");
    check_one_line_error(run_geo_ssf({"-c", (dir / "bad.yml").string(), "replicables"}), 3, "invalid YAML");
    write_file(dir / "unknown.yml", "databases: {main: x}\nstorage: {root: r}\nsite: {nmae: x}\n");
    check_one_line_error(run_geo_ssf({"-c", (dir / "unknown.yml").string(), "replicables"}), 3, "site.nmae: unknown key");
    RunOptions with_env{dir.path(), {{"GEO_SSF_CONFIG", (dir / "bad.yml").string()}}, {}};
    check_one_line_error(run_geo_ssf({"migrate"}, with_env), 3, "bad.yml");
}

TEST_CASE("cli: an unreachable database exits 4") {
    TempDir dir;
    auto config = write_config(dir.path(), "primary", "host=127.0.0.1 port=1 dbname=none connect_timeout=5");
    check_one_line_error(run_geo_ssf({"-c", config.string(), "migrate"}), 4, "cannot connect to the main database");
}

TEST_CASE("cli: replicables lists the types") {
    TempDir dir;
    auto config = write_config(dir.path(), "primary", "dbname=unused");
    REQUIRE(run_geo_ssf({"-c", config.string(), "generate", "replicable", "CoolWidget"}).status == 0);
    REQUIRE(run_geo_ssf({"-c", config.string(), "generate", "replicable", "SnippetRepository"}).status == 0);
    RunResult r = run_geo_ssf({"-c", config.string(), "replicables"});
    CHECK(r.status == 0);
    CHECK(r.out.find("NAME") == 0);
    CHECK(r.out.find("cool_widget  ") != std::string::npos);
    CHECK(r.out.find("snippet_repository_registry") != std::string::npos);
    RunResult json = run_geo_ssf({"-c", config.string(), "replicables", "--format", "json"});
    CHECK(json.status == 0);
    CHECK(json.out.find("\"registry_table\": \"snippet_repository_registry\"") != std::string::npos);
}

}
