// generate: the files of a new type, and its refusal of options that do not fit the model table.
#include "one_line_error.hpp"
#include "test_support.hpp"
#include "two_sites_fixture.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <iterator>
#include <string>
#include <vector>

using namespace geo_ssf::test;

namespace {

// Every file generate writes, under the sites' folders.
std::vector<std::filesystem::path> generated_files(const TempDir& dir) {
    std::vector<std::filesystem::path> out;
    for (const char* folder : {"replicables", "migrations", "db"})
        if (std::filesystem::exists(dir / folder))
            for (const auto& entry : std::filesystem::recursive_directory_iterator(dir / folder))
                if (entry.is_regular_file())
                    out.push_back(entry.path());
    return out;
}

}  // namespace

TEST_SUITE("generate") {

TEST_CASE("generate: writes the type, refuses to overwrite it, and --force does") {
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

TEST_CASE("generate: --dry-run writes nothing") {
    TempDir dir;
    RunResult r = run_geo_ssf({"generate", "replicable", "SalesPerson", "--dry-run"}, {dir.path(), {}, {}});
    CHECK(r.status == 0);
    CHECK(r.out.find("replicables/sales_person.yml (would create)") != std::string::npos);
    CHECK(r.out.find("CREATE TABLE sales_person_registry") != std::string::npos);
    CHECK(r.out.find("title_plural: Sales People") != std::string::npos);
    CHECK(std::filesystem::is_empty(dir.path()));
}

TEST_CASE("generate: --output-dir and the options reach the files") {
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

TEST_CASE("generate: picks a newer version for each new type") {
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

TEST_CASE("generate: refuses a model key, placeholder or scope that does not fit the model table, writing nothing") {
    TwoConfiguredSites sites;
    sites.main_db.exec("CREATE TABLE snippet_repositories (snippet_id bigint PRIMARY KEY, owner_id bigint NOT NULL, "
                       "shard_id integer, name text NOT NULL UNIQUE, code integer NOT NULL, rank integer NOT NULL)");
    sites.main_db.exec("CREATE UNIQUE INDEX ON snippet_repositories (shard_id)");         // unique, but may be NULL
    sites.main_db.exec("CREATE UNIQUE INDEX ON snippet_repositories (code, owner_id)");   // not on code alone
    sites.main_db.exec("CREATE UNIQUE INDEX ON snippet_repositories (rank) WHERE rank > 0");  // partial
    auto generate = [&](std::vector<std::string> options) {
        options.insert(options.begin(), {"generate", "replicable", "Snippet", "--model-table", "snippet_repositories"});
        return sites.primary_run(options);
    };
    const std::string not_unique = ": no primary key or unique index on that column alone; nothing was written";
    struct Refusal {
        std::vector<std::string> options;
        std::string error;
    };
    for (const auto& refusal : std::vector<Refusal>{
             {{"--model-key", "owner_id"}, "invalid --model-key \"owner_id\": snippet_repositories.owner_id is not unique" + not_unique},
             {{"--model-key", "code"}, "invalid --model-key \"code\": snippet_repositories.code is not unique" + not_unique},
             {{"--model-key", "rank"}, "invalid --model-key \"rank\": snippet_repositories.rank is not unique" + not_unique},
             {{"--model-key", "shard_id"},
              "invalid --model-key \"shard_id\": snippet_repositories.shard_id may be NULL: it is not NOT NULL; nothing "
              "was written"},
             {{"--model-key", "name"},
              "invalid --model-key \"name\": snippet_repositories.name is text, not an integer; nothing was written"},
             {{"--model-key", "nope"},
              "invalid --model-key \"nope\": snippet_repositories has no column nope; nothing was written"},
             {{}, "invalid --model-key \"id\": snippet_repositories has no column id; nothing was written"},
             {{"--model-key", "snippet_id", "--repository-path", "snippets/{owner_id}/{nope}.git"},
              "invalid --repository-path \"snippets/{owner_id}/{nope}.git\": {nope} is not a column of "
              "snippet_repositories; nothing was written"},
             {{"--model-key", "snippet_id", "--scope", "nope = 1"},
              "invalid --scope \"nope = 1\": not a condition on snippet_repositories: "},
         }) {
        CAPTURE(refusal.error);
        RunResult refused = generate(refusal.options);
        check_one_line_error(refused, 2, refusal.error);
        CHECK(generated_files(sites.dir).empty());
    }
    RunResult bad_scope = generate({"--model-key", "snippet_id", "--scope", "nope = 1"});
    CHECK(bad_scope.err.find("column \"nope\" does not exist") != std::string::npos);

    // --dry-run reads no database: it warns, trusts the key, and writes nothing.
    RunResult dry = generate({"--model-key", "owner_id", "--dry-run"});
    CAPTURE(dry.err);
    CHECK(dry.status == 0);
    CHECK(dry.err.find("--dry-run reads no database; model_key owner_id, repository_path and scope are trusted "
                       "without reading snippet_repositories") != std::string::npos);
    CHECK(std::count(dry.err.begin(), dry.err.end(), '\n') == 1);
    CHECK(dry.out.find("\nmodel_key: owner_id\n") != std::string::npos);
    CHECK(dry.out.find("REFERENCES snippet_repositories (owner_id) ON DELETE CASCADE") != std::string::npos);
    CHECK(generated_files(sites.dir).empty());

    RunResult good = generate({"--model-key", "snippet_id", "--scope", "owner_id <> 0 AND name <> 'x\"y'"});
    CAPTURE(good.err);
    CHECK(good.status == 0);
    CHECK(good.err.empty());
    CHECK(generated_files(sites.dir).size() == 5);
    std::string definition = read_file(sites.dir / "replicables" / "snippet.yml");
    CHECK(definition.find("\nrepository_path: \"snippet_repositories/{snippet_id}.git\"\n") != std::string::npos);
    CHECK(definition.find("\nscope: \"owner_id <> 0 AND name <> 'x\\\"y'\"\n") != std::string::npos);
    RunResult migrated = sites.primary_run({"migrate"});
    CAPTURE(migrated.err);
    CHECK(migrated.status == 0);
    RunResult ready = sites.primary_run({"check"});
    CAPTURE(ready.out);
    CHECK(ready.status == 0);
    CHECK(ready.out.find("passed  definition of snippet fits its model table: model_key snippet_id, repository_path "
                         "and scope\n") != std::string::npos);
}

TEST_CASE("generate: without a database, or before the model table exists, warns and trusts the options") {
    TempDir dir;
    RunResult no_config = run_geo_ssf({"generate", "replicable", "Snippet", "--model-key", "snippet_id"}, {dir.path(), {}, {}});
    CAPTURE(no_config.err);
    CHECK(no_config.status == 0);
    CHECK(no_config.err.find("no config file names a main database; model_key snippet_id, repository_path and scope "
                             "are trusted without reading snippets") != std::string::npos);
    CHECK(read_file(dir / "replicables" / "snippet.yml").find("\nmodel_key: snippet_id\n") != std::string::npos);

    auto down = write_config(dir / "down", "primary", "host=127.0.0.1 port=1 dbname=none connect_timeout=5");
    RunResult unreachable = run_geo_ssf({"-c", down.string(), "generate", "replicable", "Snippet", "--model-key", "owner_id"});
    CAPTURE(unreachable.err);
    CHECK(unreachable.status == 0);
    CHECK(unreachable.err.find("cannot connect to the main database") != std::string::npos);
    CHECK(unreachable.err.find("model_key owner_id, repository_path and scope are trusted") != std::string::npos);
    CHECK(std::filesystem::exists(dir / "down" / "replicables" / "snippet.yml"));

    TwoConfiguredSites sites;
    RunResult before_table = sites.primary_run({"generate", "replicable", "Snippet", "--model-key", "snippet_id"});
    CAPTURE(before_table.err);
    CHECK(before_table.status == 0);
    CHECK(before_table.err.find("snippets does not exist in the main database yet; model_key snippet_id") !=
          std::string::npos);
    CHECK(generated_files(sites.dir).size() == 5);
}

}
