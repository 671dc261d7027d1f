#include "site/config.hpp"
#include "common/error.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>

#include <algorithm>

using namespace geo_ssf;
using geo_ssf::test::TempDir;
using geo_ssf::test::write_file;

namespace {

const char* k_minimal = "databases:\n  main: \"dbname=app\"\nstorage:\n  root: repos\n";

const char* k_cool_widget = R"(name: cool_widget
plural: cool_widgets
class_name: CoolWidget
title: Cool Widget
title_plural: Cool Widgets
kind: repository
model_table: cool_widgets
states_table: cool_widget_states
registry_table: cool_widget_registry
foreign_key: cool_widget_id
repository_path: "cool_widgets/{id}.git"
scope: ""
replication_enabled: true
verification_enabled: false
)";

std::string load_error(const std::filesystem::path& file) {
    try {
        load_config(file);
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "(no error)";
}

std::string replace(std::string text, const std::string& from, const std::string& to) {
    auto at = text.find(from);
    REQUIRE(at != std::string::npos);
    return text.replace(at, from.size(), to);
}

}  // namespace

TEST_SUITE("config") {

TEST_CASE("config::load_config applies defaults and resolves paths against the config's folder") {
    TempDir dir;
    write_file(dir / "geo-ssf.yml", k_minimal);
    Config c = load_config(dir / "geo-ssf.yml");
    CHECK(c.role == Role::primary);
    CHECK(c.site_name == "primary");
    CHECK(c.main_database == "dbname=app");
    CHECK_FALSE(c.geo_database.has_value());
    REQUIRE(c.storages.size() == 1);
    CHECK(c.storages[0].name == "default");
    CHECK(c.storages[0].root == dir.path() / "repos");
    CHECK(c.replicables_dir == dir.path() / "replicables");
    CHECK(c.migrations_dir == dir.path() / "migrations");
    CHECK(c.verification.batch_size == 1000);
    CHECK(c.verification.jobs == 2);
    CHECK(c.verification.timeout == std::chrono::hours(8));
    CHECK(c.reverification_interval == std::chrono::hours(7 * 24));
    CHECK(c.deep_interval == std::chrono::hours(30 * 24));
    CHECK(c.sync.batch_size == 100);
    CHECK(c.sync.timeout == std::chrono::hours(3));
    CHECK(c.sync.metrics_file.empty());
    CHECK(c.verification.metrics_file.empty());
    CHECK(c.status_timeout == std::chrono::minutes(5));
    CHECK_FALSE(c.storages[0].transport.trust_primary_owner);
    CHECK(c.follow.poll_interval == std::chrono::milliseconds(250));
    CHECK(c.follow.pass_interval == std::chrono::minutes(1));
    CHECK(c.follow.metrics_file.empty());
    CHECK(c.replicables.empty());
}

TEST_CASE("config::load_config reads every key") {
    TempDir dir;
    write_file(dir / "geo-ssf.yml", R"(site: {name: london, role: secondary}
databases: {main: "host=db1 dbname=app", geo: "dbname=app_geo"}
storage: {root: /srv/repos, primary_url: "https://primary.example.com/repos", trust_primary_owner: true}
replicables: types
migrations: /opt/migrations
verification: {batch_size: 50, jobs: 4, timeout: 2h, reverification_interval: 1d, metrics_file: /var/lib/ne/verify.prom,
               deep_interval: 14d}
sync: {batch_size: 10, jobs: 8, timeout: 90m, metrics_file: metrics/sync.prom}
follow: {poll_interval: 250ms, pass_interval: 5m, metrics_file: follow.prom}
status: {timeout: 30s}
)");
    write_file(dir / "types" / "cool_widget.yml", k_cool_widget);
    Config c = load_config(dir / "geo-ssf.yml");
    CHECK(c.site_name == "london");
    CHECK(c.role == Role::secondary);
    CHECK(c.geo_database == "dbname=app_geo");
    CHECK(c.storage("default").root == "/srv/repos");
    CHECK(c.storage("default").primary_url == "https://primary.example.com/repos");
    CHECK(c.storage("default").transport.trust_primary_owner);
    CHECK(c.migrations_dir == "/opt/migrations");
    CHECK(c.verification.batch_size == 50);
    CHECK(c.verification.jobs == 4);
    CHECK(c.verification.timeout == std::chrono::hours(2));
    CHECK(c.reverification_interval == std::chrono::hours(24));
    CHECK(c.deep_interval == std::chrono::hours(14 * 24));
    CHECK(c.sync.jobs == 8);
    CHECK(c.sync.timeout == std::chrono::minutes(90));
    CHECK(c.verification.metrics_file == "/var/lib/ne/verify.prom");
    CHECK(c.sync.metrics_file == dir.path() / "metrics" / "sync.prom");  // relative to the config file
    CHECK(c.status_timeout == std::chrono::seconds(30));
    CHECK(c.follow.poll_interval == std::chrono::milliseconds(250));
    CHECK(c.follow.pass_interval == std::chrono::minutes(5));
    CHECK(c.follow.metrics_file == dir.path() / "follow.prom");
    REQUIRE(c.replicables.size() == 1);
    const Replicable& r = c.replicable("cool_widget");
    CHECK(&r == &c.replicable("cool_widgets"));
    CHECK(r.registry_table == "cool_widget_registry");
    CHECK(r.model_key == "id");  // without the key, as definitions written before it
    CHECK(r.repository_path.columns() == std::vector<std::string>{"id"});
    CHECK(r.repository_path.render({"42"}) == "cool_widgets/42.git");
    CHECK(r.replication_enabled);
    CHECK_FALSE(r.verification_enabled);
    CHECK(r.housekeeping_enabled);  // without the key, as definitions written before it
    CHECK_THROWS_WITH_AS(c.replicable("gadget"), doctest::Contains("unknown replicable \"gadget\" (known: cool_widget)"),
                         UsageError);
}

TEST_CASE("config::load_config names the file, the key and what is wrong") {
    TempDir dir;
    auto file = dir / "geo-ssf.yml";
    std::string minimal = k_minimal;

    SUBCASE("missing file") {
        CHECK(load_error(dir / "nope.yml").find("nope.yml: no such config file") != std::string::npos);
    }
    SUBCASE("malformed YAML, with its line") {
        write_file(file, "storage: {root: r}\ndatabases: {main: x\n");
        CHECK(load_error(file).find("invalid YAML") != std::string::npos);
        CHECK(load_error(file).find("geo-ssf.yml:") != std::string::npos);
    }
    SUBCASE("not a mapping") {
        write_file(file, "- a\n- b\n");
        CHECK(load_error(file).find("expected a mapping") != std::string::npos);
    }
    SUBCASE("a key given twice, at the top or nested, with both lines") {
        write_file(file, minimal + "sync: {jobs: 2}\nsync: {jobs: 9}\n");
        CHECK(load_error(file).find("geo-ssf.yml:" + std::to_string(std::count(minimal.begin(), minimal.end(), '\n') + 2) +
                                    ": sync: duplicate key (first given on line") != std::string::npos);
        write_file(file, minimal + "verification:\n  jobs: 2\n  jobs: 3\n");
        CHECK(load_error(file).find(": verification.jobs: duplicate key") != std::string::npos);
    }
    SUBCASE("unknown top-level key") {
        write_file(file, minimal + "databses: {}\n");
        CHECK(load_error(file).find("geo-ssf.yml: databses: unknown key") != std::string::npos);
    }
    SUBCASE("unknown nested key") {
        write_file(file, minimal + "sync: {batchsize: 3}\n");
        CHECK(load_error(file).find("sync.batchsize: unknown key") != std::string::npos);
    }
    SUBCASE("main database missing") {
        write_file(file, "storage: {root: r}\n");
        CHECK(load_error(file).find("databases.main: is required") != std::string::npos);
    }
    SUBCASE("storage root missing") {
        write_file(file, "databases: {main: x}\n");
        CHECK(load_error(file).find("storage.root: is required") != std::string::npos);
    }
    SUBCASE("bad role") {
        write_file(file, minimal + "site: {role: tertiary}\n");
        CHECK(load_error(file).find("site.role: expected primary or secondary, got \"tertiary\"") != std::string::npos);
    }
    SUBCASE("secondary without a tracking database") {
        write_file(file, replace(minimal, "root: repos", "root: repos\n  primary_url: /p") + "site: {role: secondary}\n");
        CHECK(load_error(file).find("databases.geo: is required on a secondary") != std::string::npos);
    }
    SUBCASE("secondary without a primary URL") {
        write_file(file, replace(minimal, "main: \"dbname=app\"", "main: a\n  geo: b") + "site: {role: secondary}\n");
        CHECK(load_error(file).find("storage.primary_url: is required on a secondary") != std::string::npos);
    }
    SUBCASE("bad number") {
        write_file(file, minimal + "verification: {jobs: many}\n");
        CHECK(load_error(file).find("verification.jobs: expected a whole number from 1 to 256, got \"many\"") !=
              std::string::npos);
        write_file(file, minimal + "verification: {batch_size: 0}\n");
        CHECK(load_error(file).find("verification.batch_size: expected a whole number") != std::string::npos);
    }
    SUBCASE("bad duration") {
        write_file(file, minimal + "status: {timeout: soon}\n");
        CHECK(load_error(file).find("status.timeout: expected a duration") != std::string::npos);
        write_file(file, minimal + "follow: {poll_interval: 0ms}\n");
        CHECK(load_error(file).find("follow.poll_interval: expected a duration such as 500ms, 2s or 1m, got \"0ms\"") !=
              std::string::npos);
        write_file(file, minimal + "follow: {pass_interval: 500ms}\n");
        CHECK(load_error(file).find("follow.pass_interval: expected a duration such as 90s") != std::string::npos);
    }
    SUBCASE("a deep check interval of nothing") {
        write_file(file, minimal + "verification: {deep_interval: 0s}\n");
        CHECK(load_error(file).find("verification.deep_interval: expected a duration such as") != std::string::npos);
    }
    SUBCASE("a list where a value belongs") {
        write_file(file, replace(minimal, "main: \"dbname=app\"", "main: [a, b]"));
        CHECK(load_error(file).find("databases.main: expected a single value") != std::string::npos);
    }
}

TEST_CASE("config::load_config reads several storages; each inherits the transport keys of storage:") {
    TempDir dir;
    auto file = dir / "geo-ssf.yml";
    write_file(dir / "id_ed25519", "key");
    std::filesystem::permissions(dir / "id_ed25519", std::filesystem::perms::owner_read);
    write_file(dir / "other_key", "key");
    std::filesystem::permissions(dir / "other_key", std::filesystem::perms::owner_read);
    const std::string secondary = R"(site: {role: secondary}
databases: {main: a, geo: b}
storage: {root: repos, primary_url: "ssh://git@primary/srv/default", ssh_key: id_ed25519, fetch_timeout: 10m}
storages:
  nfs-02: {root: /mnt/nfs-02/repos, primary_url: "ssh://git@primary/srv/nfs-02"}
  nfs-01: {root: /mnt/nfs-01/repos, primary_url: "https://primary/nfs-01", ssh_key: other_key}
)";
    write_file(file, secondary);
    Config c = load_config(file);
    REQUIRE(c.storages.size() == 3);
    CHECK(c.storages[0].name == "default");  // first: the home of what belongs to no storage
    CHECK(c.storages[1].name == "nfs-01");
    CHECK(c.storages[2].name == "nfs-02");
    CHECK(&c.home_storage() == &c.storages[0]);
    CHECK(c.storage("nfs-02").root == "/mnt/nfs-02/repos");
    CHECK(c.storage("nfs-02").transport.ssh_key == dir.path() / "id_ed25519");  // inherited
    CHECK(c.storage("nfs-01").transport.ssh_key == dir.path() / "other_key");   // its own
    CHECK(c.storage("nfs-01").transport.fetch_timeout == std::chrono::minutes(10));
    CHECK_FALSE(c.synced_storages.has_value());
    CHECK_THROWS_WITH_AS(c.storage("nfs-03"), doctest::Contains("its storage \"nfs-03\" is not one of this site's "
                                                                "(default, nfs-01, nfs-02"),
                         RuntimeError);
    CHECK(c.describe({"nfs-01", "a/1.git"}) == "/mnt/nfs-01/repos/a/1.git");
    CHECK(c.describe({"nfs-03", "a/1.git"}) == "nfs-03:a/1.git");

    SUBCASE("without storage.root there is no default storage") {
        write_file(file, replace(secondary, "root: repos, ", ""));
        Config named = load_config(file);
        REQUIRE(named.storages.size() == 2);
        CHECK(named.home_storage().name == "nfs-01");
        // A type without storage_column keeps its records in the default storage: refused.
        write_file(dir / "replicables" / "cool_widget.yml", k_cool_widget);
        CHECK(load_error(file).find("cool_widget.yml: its records are in the storage named default (it has no "
                                    "storage_column)") != std::string::npos);
        write_file(dir / "replicables" / "cool_widget.yml", k_cool_widget + std::string("storage_column: shard\n"));
        CHECK(load_config(file).replicable("cool_widget").storage_column == "shard");
    }
    SUBCASE("selective sync by storage") {
        write_file(dir / "replicables" / "cool_widget.yml", k_cool_widget);
        write_file(file, secondary + "sync: {storages: [nfs-01]}\n");
        Config selective = load_config(file);
        REQUIRE(selective.synced_storages.has_value());
        CHECK(*selective.synced_storages == std::vector<std::string>{"nfs-01"});
        CHECK(selective.replicable("cool_widget").synced_storages == selective.synced_storages);
        write_file(file, secondary + "sync: {storages: [nfs-09]}\n");
        CHECK(load_error(file).find("sync.storages: names \"nfs-09\", which is not one of this site's storages") !=
              std::string::npos);
        write_file(file, secondary + "sync: {storages: nfs-01}\n");
        CHECK(load_error(file).find("sync.storages: expected a list") != std::string::npos);
        write_file(file, replace(secondary, "site: {role: secondary}", "site: {role: primary}") +
                             "sync: {storages: [nfs-01]}\n");
        CHECK(load_error(file).find("sync.storages: is a secondary's setting") != std::string::npos);
    }
    SUBCASE("refused: a bad name, default named twice, overlapping roots, a storage without root") {
        write_file(file, secondary + "  \"a b\": {root: /x, primary_url: /p}\n");
        CHECK(load_error(file).find("storages.a b: is no usable storage name") != std::string::npos);
        write_file(file, secondary + "  default: {root: /x, primary_url: /p}\n");
        CHECK(load_error(file).find("storages.default: is the storage of the storage: section") != std::string::npos);
        write_file(file, secondary + "  nfs-03: {root: /mnt/nfs-01/repos/inner, primary_url: /p}\n");
        CHECK(load_error(file).find("storages nfs-01 (/mnt/nfs-01/repos) and nfs-03 (/mnt/nfs-01/repos/inner) overlap") !=
              std::string::npos);
        write_file(file, secondary + "  nfs-03: {primary_url: /p}\n");
        CHECK(load_error(file).find("storages.nfs-03.root: is required") != std::string::npos);
        write_file(file, secondary + "  nfs-03: {root: /x}\n");  // each storage's primary_url is its own
        CHECK(load_error(file).find("storages.nfs-03.primary_url: is required on a secondary") != std::string::npos);
        write_file(file, secondary + "  nfs-03: {root: /x, primary_url: /x/p}\n");
        CHECK(load_error(file).find("storages.nfs-03.root: /x overlaps the primary's storage /x/p") != std::string::npos);
    }
}

TEST_CASE("config::load_config validates replicable definitions") {
    TempDir dir;
    write_file(dir / "geo-ssf.yml", k_minimal);
    auto def = dir / "replicables" / "cool_widget.yml";
    std::string good = k_cool_widget;

    SUBCASE("an identifier that is not one") {
        write_file(def, replace(good, "model_table: cool_widgets", "model_table: \"cool_widgets; DROP TABLE x\""));
        CHECK(load_error(dir / "geo-ssf.yml").find("cool_widget.yml: model_table: \"cool_widgets; DROP TABLE x\" is not") !=
              std::string::npos);
    }
    SUBCASE("geo-ssf's own tables, and reserved words") {
        write_file(def, replace(good, "model_table: cool_widgets", "model_table: geo_events"));
        CHECK(load_error(dir / "geo-ssf.yml").find("model_table: \"geo_events\" is one of geo-ssf's own tables") !=
              std::string::npos);
        write_file(def, replace(good, "states_table: cool_widget_states", "states_table: event_log_states"));
        CHECK(load_error(dir / "geo-ssf.yml").find("states_table: \"event_log_states\" is one of") != std::string::npos);
        write_file(def, replace(good, "model_table: cool_widgets", "model_table: order"));
        CHECK(load_error(dir / "geo-ssf.yml").find("model_table: \"order\" is an SQL reserved word") != std::string::npos);
    }
    SUBCASE("a model key: a column name, not a reserved word") {
        write_file(def, good + "model_key: snippet_id\n");
        CHECK(load_config(dir / "geo-ssf.yml").replicable("cool_widget").model_key == "snippet_id");
        write_file(def, good + "model_key: \"snippet-id\"\n");
        CHECK(load_error(dir / "geo-ssf.yml").find("cool_widget.yml: model_key: \"snippet-id\" is not a lower-case SQL "
                                                   "identifier") != std::string::npos);
        write_file(def, good + "model_key: order\n");
        CHECK(load_error(dir / "geo-ssf.yml").find("model_key: \"order\" is an SQL reserved word") != std::string::npos);
    }
    SUBCASE("unknown key") {
        write_file(def, good + "colour: blue\n");
        CHECK(load_error(dir / "geo-ssf.yml").find("cool_widget.yml: colour: unknown key") != std::string::npos);
    }
    SUBCASE("a repository path that escapes the storage root") {
        write_file(def, replace(good, "cool_widgets/{id}.git", "../{id}.git"));
        CHECK(load_error(dir / "geo-ssf.yml").find("repository_path: may not contain '.' or '..'") != std::string::npos);
        write_file(def, replace(good, "cool_widgets/{id}.git", "/srv/{id}.git"));
        CHECK(load_error(dir / "geo-ssf.yml").find("repository_path: must be relative") != std::string::npos);
    }
    SUBCASE("a repository path without a placeholder") {
        write_file(def, replace(good, "cool_widgets/{id}.git", "cool_widgets/all.git"));
        CHECK(load_error(dir / "geo-ssf.yml").find("has no {column} placeholder") != std::string::npos);
    }
    SUBCASE("a bad placeholder") {
        write_file(def, replace(good, "cool_widgets/{id}.git", "cool_widgets/{id; x}.git"));
        CHECK(load_error(dir / "geo-ssf.yml").find("is not a column name") != std::string::npos);
    }
    SUBCASE("a name that does not match the file") {
        write_file(dir / "replicables" / "other.yml", good);
        CHECK(load_error(dir / "geo-ssf.yml").find("does not match the file name") != std::string::npos);
    }
    SUBCASE("an unsupported kind") {
        write_file(def, replace(good, "kind: repository", "kind: blob"));
        CHECK(load_error(dir / "geo-ssf.yml").find("kind: \"blob\" is not supported") != std::string::npos);
    }
    SUBCASE("a switch that is not a boolean") {
        write_file(def, replace(good, "replication_enabled: true", "replication_enabled: maybe"));
        CHECK(load_error(dir / "geo-ssf.yml").find("replication_enabled: expected true or false") != std::string::npos);
    }
}

TEST_CASE("config::find_config_file follows the lookup order") {
    TempDir dir;
    CHECK(find_config_file(std::filesystem::path("/x/explicit.yml")) == std::filesystem::path("/x/explicit.yml"));
    setenv("GEO_SSF_CONFIG", "/x/from-env.yml", 1);
    CHECK(find_config_file(std::nullopt) == std::filesystem::path("/x/from-env.yml"));
    CHECK(find_config_file(std::filesystem::path("/x/explicit.yml")) == std::filesystem::path("/x/explicit.yml"));
    unsetenv("GEO_SSF_CONFIG");
    auto previous = std::filesystem::current_path();
    std::filesystem::current_path(dir.path());
    write_file(dir / "geo-ssf.yml", k_minimal);
    CHECK(find_config_file(std::nullopt) == std::filesystem::path("geo-ssf.yml"));
    std::filesystem::current_path(previous);
}

}
