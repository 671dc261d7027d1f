// generate + migrate on a real PostgreSQL: the schema that lands must be exactly the seed's.
#include "one_line_error.hpp"
#include "test_support.hpp"
#include "two_sites_fixture.hpp"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <regex>

#include <thread>

using namespace geo_ssf::test;

namespace {

struct Column {
    std::string name, type, default_value, nullable;
};

std::vector<Column> columns_of(TestDatabase& db, const std::string& table) {
    std::vector<Column> out;
    for (const auto& row : db.exec("SELECT column_name, data_type, coalesce(column_default, ''), is_nullable "
                                   "FROM information_schema.columns WHERE table_name = '" + table +
                                   "' ORDER BY ordinal_position"))
        out.push_back({row[0].c_str(), row[1].c_str(), row[2].c_str(), row[3].c_str()});
    return out;
}

std::vector<std::string> index_definitions(TestDatabase& db, const std::string& table) {
    std::vector<std::string> out;
    for (const auto& row : db.exec("SELECT indexdef FROM pg_indexes WHERE tablename = '" + table + "' ORDER BY indexname"))
        out.push_back(row[0].c_str());
    return out;
}

std::vector<std::string> constraint_definitions(TestDatabase& db, const std::string& table) {
    std::vector<std::string> out;
    for (const auto& row : db.exec("SELECT conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint "
                                   "WHERE conrelid = '" + table + "'::regclass ORDER BY conname"))
        out.push_back(row[0].c_str());
    return out;
}

}  // namespace

TEST_SUITE("migrate") {

TEST_CASE("migrate: the generated registry table is the seed's, to the last index") {
    TwoConfiguredSites sites;
    sites.generate_cool_widget();
    RunResult r = sites.secondary_run({"migrate"});
    CAPTURE(r.err);
    REQUIRE(r.status == 0);
    CHECK(r.out.find("applied geo 20260101000000_create_event_log_states") != std::string::npos);
    CHECK(r.out.find("_create_cool_widget_registry") != std::string::npos);

    TestDatabase& db = sites.geo_db;
    const std::vector<Column> expected = {
        {"id", "bigint", "nextval('cool_widget_registry_id_seq'::regclass)", "NO"},
        {"cool_widget_id", "bigint", "", "NO"},
        {"created_at", "timestamp with time zone", "", "NO"},
        {"last_synced_at", "timestamp with time zone", "", "YES"},
        {"retry_at", "timestamp with time zone", "", "YES"},
        {"verified_at", "timestamp with time zone", "", "YES"},
        {"verification_started_at", "timestamp with time zone", "", "YES"},
        {"verification_retry_at", "timestamp with time zone", "", "YES"},
        {"state", "smallint", "0", "NO"},
        {"verification_state", "smallint", "0", "NO"},
        {"retry_count", "smallint", "0", "NO"},
        {"verification_retry_count", "smallint", "0", "NO"},
        {"checksum_mismatch", "boolean", "false", "NO"},
        {"missing_on_primary", "boolean", "false", "NO"},
        {"verification_checksum", "bytea", "", "YES"},
        {"verification_checksum_mismatched", "bytea", "", "YES"},
        {"verification_failure", "text", "", "YES"},
        {"last_sync_failure", "text", "", "YES"},
    };
    auto actual = columns_of(db, "cool_widget_registry");
    REQUIRE(actual.size() == expected.size());
    for (size_t i = 0; i < expected.size(); ++i) {
        CAPTURE(expected[i].name);
        CHECK(actual[i].name == expected[i].name);
        CHECK(actual[i].type == expected[i].type);
        CHECK(actual[i].default_value == expected[i].default_value);
        CHECK(actual[i].nullable == expected[i].nullable);
    }

    CHECK(index_definitions(db, "cool_widget_registry") == std::vector<std::string>{
        "CREATE INDEX cool_widget_registry_failed_verification ON public.cool_widget_registry USING btree (verification_retry_at NULLS FIRST) WHERE ((state = 2) AND (verification_state = 3))",
                  "CREATE INDEX cool_widget_registry_missing_on_primary ON public.cool_widget_registry USING btree (cool_widget_id) WHERE missing_on_primary",
        "CREATE INDEX cool_widget_registry_needs_verification ON public.cool_widget_registry USING btree (verification_state) WHERE ((state = 2) AND (verification_state = ANY (ARRAY[0, 3])))",
        "CREATE INDEX cool_widget_registry_pending_verification ON public.cool_widget_registry USING btree (verified_at NULLS FIRST) WHERE ((state = 2) AND (verification_state = 0))",
        "CREATE UNIQUE INDEX cool_widget_registry_pkey ON public.cool_widget_registry USING btree (id)",
        "CREATE INDEX cool_widget_registry_started_verification ON public.cool_widget_registry USING btree (verification_started_at) WHERE (verification_state = 1)",
        "CREATE UNIQUE INDEX index_cool_widget_registry_on_cool_widget_id ON public.cool_widget_registry USING btree (cool_widget_id)",
        "CREATE INDEX index_cool_widget_registry_on_retry_at ON public.cool_widget_registry USING btree (retry_at)",
        "CREATE INDEX index_cool_widget_registry_on_state ON public.cool_widget_registry USING btree (state)",
    });
    // GitLab's constraint names are hashes of table and column; no foreign key.
    auto constraints = constraint_definitions(db, "cool_widget_registry");
    REQUIRE(constraints.size() == 3);
    CHECK(constraints[0].find("CHECK ((char_length(") != std::string::npos);
    CHECK(constraints[1].find("CHECK ((char_length(") != std::string::npos);
    CHECK(constraints[2] == "cool_widget_registry_pkey PRIMARY KEY (id)");
    CHECK(db.scalar("SELECT count(*) FROM pg_constraint WHERE contype = 'f'") == "0");
    CHECK_THROWS(db.exec("INSERT INTO cool_widget_registry (cool_widget_id, created_at, last_sync_failure) "
                         "VALUES (1, now(), repeat('x', 256))"));
    CHECK_NOTHROW(db.exec("INSERT INTO cool_widget_registry (cool_widget_id, created_at, verification_failure) "
                          "VALUES (1, now(), repeat('x', 255))"));
    CHECK_THROWS(db.exec("INSERT INTO cool_widget_registry (cool_widget_id, created_at) VALUES (1, now())"));

    CHECK(columns_of(db, "event_log_states").size() == 2);
}

TEST_CASE("migrate: the generated states table is the seed's, with its cascading foreign key") {
    TwoConfiguredSites sites;
    sites.generate_cool_widget();
    RunResult r = sites.primary_run({"migrate"});
    CAPTURE(r.err);
    REQUIRE(r.status == 0);
    CHECK(r.out.find("applied main 20260101000000_create_geo_events") != std::string::npos);

    TestDatabase& db = sites.main_db;
    const std::vector<Column> expected = {
        {"id", "bigint", "nextval('cool_widget_states_id_seq'::regclass)", "NO"},
        {"verification_started_at", "timestamp with time zone", "", "YES"},
        {"verification_retry_at", "timestamp with time zone", "", "YES"},
        {"verified_at", "timestamp with time zone", "", "YES"},
        {"cool_widget_id", "bigint", "", "NO"},
        {"verification_state", "smallint", "0", "NO"},
        {"verification_retry_count", "smallint", "0", "NO"},
        {"verification_checksum", "bytea", "", "YES"},
        {"verification_failure", "text", "", "YES"},
    };
    auto actual = columns_of(db, "cool_widget_states");
    REQUIRE(actual.size() == expected.size());
    for (size_t i = 0; i < expected.size(); ++i) {
        CAPTURE(expected[i].name);
        CHECK(actual[i].name == expected[i].name);
        CHECK(actual[i].type == expected[i].type);
        CHECK(actual[i].default_value == expected[i].default_value);
        CHECK(actual[i].nullable == expected[i].nullable);
    }
    CHECK(index_definitions(db, "cool_widget_states") == std::vector<std::string>{
        "CREATE UNIQUE INDEX cool_widget_states_pkey ON public.cool_widget_states USING btree (id)",
        "CREATE INDEX index_cool_widget_states_failed_verification ON public.cool_widget_states USING btree (verification_retry_at NULLS FIRST) WHERE (verification_state = 3)",
        "CREATE INDEX index_cool_widget_states_needs_verification ON public.cool_widget_states USING btree (verification_state) WHERE ((verification_state = 0) OR (verification_state = 3))",
        "CREATE UNIQUE INDEX index_cool_widget_states_on_cool_widget_id ON public.cool_widget_states USING btree (cool_widget_id)",
        "CREATE INDEX index_cool_widget_states_on_verification_state ON public.cool_widget_states USING btree (verification_state)",
        "CREATE INDEX index_cool_widget_states_pending_verification ON public.cool_widget_states USING btree (verified_at NULLS FIRST) WHERE (verification_state = 0)",
        "CREATE INDEX index_cool_widget_states_succeeded_verification ON public.cool_widget_states USING btree (verified_at) WHERE (verification_state = 2)",
    });
    auto constraints = constraint_definitions(db, "cool_widget_states");
    REQUIRE(constraints.size() == 3);
    CHECK(constraints[0].find("check_") == 0);
    CHECK(constraints[0].find("CHECK ((char_length(verification_failure) <= 255))") != std::string::npos);
    CHECK(constraints[1] == "cool_widget_states_pkey PRIMARY KEY (id)");
    CHECK(constraints[2].find("fk_rails_") == 0);
    CHECK(constraints[2].find("FOREIGN KEY (cool_widget_id) REFERENCES cool_widgets(id) ON DELETE CASCADE") != std::string::npos);

    db.exec("INSERT INTO cool_widgets (id) VALUES (7)");
    db.exec("INSERT INTO cool_widget_states (cool_widget_id) VALUES (7)");
    db.exec("DELETE FROM cool_widgets WHERE id = 7");
    CHECK(db.scalar("SELECT count(*) FROM cool_widget_states") == "0");

    auto geo_events = columns_of(db, "geo_events");
    REQUIRE(geo_events.size() == 5);
    CHECK(geo_events[3].name == "payload");
    CHECK(geo_events[3].type == "jsonb");
}

TEST_CASE("migrate: a second run applies nothing, and --status and --dry-run change nothing") {
    TwoConfiguredSites sites;
    sites.generate_cool_widget();
    RunResult dry = sites.primary_run({"migrate", "--dry-run"});
    CHECK(dry.status == 0);
    CHECK(dry.out.find("would apply main 20260101000000_create_geo_events") != std::string::npos);
    CHECK(sites.main_db.scalar("SELECT to_regclass('geo_events')::text") == "");

    RunResult status_before = sites.primary_run({"migrate", "--status"});
    CHECK(status_before.status == 0);
    CHECK(status_before.out.find("pending") != std::string::npos);
    CHECK(sites.main_db.scalar("SELECT to_regclass('geo_ssf_schema_migrations')::text") == "");

    REQUIRE(sites.primary_run({"migrate"}).status == 0);
    std::string applied = sites.main_db.scalar("SELECT count(*) FROM geo_ssf_schema_migrations");
    // geo_events and its notifications, geo_ssf_tallies, geo_ssf_cursors and its passes, geo_ssf_deep_checks,
    // geo_ssf_primaries, cool_widget_states
    CHECK(applied == "8");
    RunResult again = sites.primary_run({"migrate"});
    CHECK(again.status == 0);
    CHECK(again.out == "main: no pending migrations\n");
    CHECK(sites.main_db.scalar("SELECT count(*) FROM geo_ssf_schema_migrations") == applied);

    RunResult status_after = sites.primary_run({"migrate", "--status"});
    CHECK(status_after.out.find("pending") == std::string::npos);
    CHECK(status_after.out.find("create_cool_widget_states") != std::string::npos);
}

TEST_CASE("migrate: --format json prints one object at the end, with ISO 8601 times") {
    TwoConfiguredSites sites;
    sites.generate_cool_widget();
    auto versions = [](const nlohmann::json& list) {
        std::vector<std::string> out;
        for (const auto& m : list)
            out.push_back(m["name"].get<std::string>());
        return out;
    };
    RunResult dry = sites.primary_run({"migrate", "--dry-run", "--format", "json"});
    CAPTURE(dry.out);
    REQUIRE(dry.status == 0);
    nlohmann::json would = nlohmann::json::parse(dry.out);
    REQUIRE(would["databases"].size() == 1);
    CHECK(would["databases"][0]["database"] == "main");
    auto pending = versions(would["databases"][0]["would_apply"]);
    REQUIRE(pending.size() >= 2);  // geo-ssf's own, then the type's
    CHECK(pending.front() == "create_geo_events");
    CHECK(would["databases"][0]["would_apply"].front()["source"] == "geo-ssf");
    bool type_pending = false;
    for (const auto& m : would["databases"][0]["would_apply"])
        if (m["name"] == "create_cool_widget_states") {
            type_pending = true;
            CHECK(m["source"].get<std::string>().ends_with("_create_cool_widget_states.sql"));
        }
    CHECK(type_pending);

    RunResult before = sites.primary_run({"migrate", "--status", "--format", "json"});
    REQUIRE(before.status == 0);
    nlohmann::json pending_list = nlohmann::json::parse(before.out);  // kept: a loop over a temporary's member dangles
    for (const auto& m : pending_list["databases"][0]["migrations"]) {
        CHECK(m["status"] == "pending");
        CHECK(m["applied_at"].is_null());
    }

    RunResult applied = sites.primary_run({"migrate", "--format", "json"});
    CAPTURE(applied.out);
    REQUIRE(applied.status == 0);
    CHECK(versions(nlohmann::json::parse(applied.out)["databases"][0]["applied"]) == pending);
    RunResult again = sites.primary_run({"migrate", "--format", "json"});
    CHECK(nlohmann::json::parse(again.out) ==
          nlohmann::json::parse(R"({"databases": [{"database": "main", "applied": []}]})"));
    // -q: nothing on success, as sync's summary.
    CHECK(sites.primary_run({"-q", "migrate", "--format", "json"}).out.empty());

    // Even where the session's time zone is another one, applied_at is UTC.
    sites.main_db.exec("ALTER DATABASE " + sites.main_db.name() + " SET timezone = 'America/New_York'");
    RunResult status = sites.primary_run({"migrate", "--status", "--format", "json"});
    CAPTURE(status.out);
    REQUIRE(status.status == 0);
    nlohmann::json listed = nlohmann::json::parse(status.out)["databases"][0]["migrations"];
    REQUIRE(listed.size() == pending.size());
    std::string expected = sites.main_db.scalar(
        "SELECT to_char(applied_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM geo_ssf_schema_migrations "
        "WHERE name = 'create_geo_events'");
    CHECK(listed[0]["name"] == "create_geo_events");
    CHECK(listed[0]["status"] == "applied");
    CHECK(listed[0]["applied_at"] == expected);
    CHECK(std::regex_match(listed[0]["applied_at"].get<std::string>(),
                           std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")));
    // The table says the same time.
    RunResult table = sites.primary_run({"migrate", "--status"});
    CHECK(table.out.find("applied " + expected.substr(0, 10) + " " + expected.substr(11, 8) + " UTC") !=
          std::string::npos);
}

TEST_CASE("migrate: beside a Rails application's schema_migrations and ar_internal_metadata, which stay untouched") {
    TwoConfiguredSites sites;
    sites.generate_cool_widget();
    sites.main_db.exec("CREATE TABLE schema_migrations (version character varying PRIMARY KEY);"
                       "INSERT INTO schema_migrations VALUES ('20230101000000'), ('20240202000000');"
                       "CREATE TABLE ar_internal_metadata (key character varying PRIMARY KEY, value character varying,"
                       " created_at timestamp(6) NOT NULL, updated_at timestamp(6) NOT NULL);"
                       "INSERT INTO ar_internal_metadata VALUES ('environment', 'production', now(), now())");
    auto rails_rows = [&] {
        return sites.main_db.scalar("SELECT string_agg(version, ',' ORDER BY version) FROM schema_migrations") + " | " +
               sites.main_db.scalar("SELECT string_agg(key || '=' || value || ' ' || created_at::text || ' ' || "
                                    "updated_at::text, ',') FROM ar_internal_metadata");
    };
    std::string before = rails_rows();
    RunResult pending = sites.primary_run({"migrate", "--status"});
    CAPTURE(pending.err);
    CHECK(pending.status == 0);
    CHECK(pending.out.find("pending") != std::string::npos);
    RunResult migrated = sites.primary_run({"migrate"});
    CAPTURE(migrated.err);
    REQUIRE(migrated.status == 0);
    CHECK(sites.main_db.scalar("SELECT count(*) FROM geo_ssf_schema_migrations") == "8");
    CHECK(sites.primary_run({"migrate", "--status"}).out.find("pending") == std::string::npos);
    RunResult check = sites.primary_run({"check"});
    CAPTURE(check.out);
    CHECK(check.status == 0);
    CHECK(sites.primary_run({"verify"}).status == 0);
    CHECK(sites.primary_run({"status"}).status == 0);
    CHECK(rails_rows() == before);
    CHECK(sites.main_db.scalar("SELECT count(*) FROM schema_migrations") == "2");
}

TEST_CASE("migrate: the schema_migrations of an earlier geo-ssf is taken over, nothing applied again") {
    TwoConfiguredSites sites;
    sites.generate_cool_widget();
    REQUIRE(sites.primary_run({"migrate"}).status == 0);
    sites.main_db.exec("ALTER TABLE geo_ssf_schema_migrations RENAME TO schema_migrations;"
                       "ALTER TABLE schema_migrations RENAME CONSTRAINT geo_ssf_schema_migrations_pkey TO "
                       "schema_migrations_pkey");
    // Read before the takeover, as check and --status do on a read-only connection.
    CHECK(sites.primary_run({"migrate", "--status"}).out.find("pending") == std::string::npos);
    RunResult again = sites.primary_run({"migrate"});
    CAPTURE(again.err);
    CHECK(again.status == 0);
    CHECK(again.out == "main: no pending migrations\n");
    CHECK(sites.main_db.scalar("SELECT to_regclass('schema_migrations')::text") == "");
    CHECK(sites.main_db.scalar("SELECT count(*) FROM geo_ssf_schema_migrations") == "8");
    // The name is free for the application's own table.
    CHECK_NOTHROW(sites.main_db.exec("CREATE TABLE schema_migrations (version character varying PRIMARY KEY)"));
}

TEST_CASE("migrate: concurrent runs apply each migration once") {
    for (int round = 0; round < 3; ++round) {
        TwoConfiguredSites sites;
        sites.generate_cool_widget();
        RunResult a, b;
        std::thread first([&] { a = sites.primary_run({"migrate"}); });
        std::thread second([&] { b = sites.primary_run({"migrate"}); });
        first.join();
        second.join();
        CAPTURE(a.err);
        CAPTURE(b.err);
        CHECK(a.status == 0);
        CHECK(b.status == 0);
        std::string both = a.out + b.out;
        auto count = [&](const std::string& needle) {
            size_t n = 0;
            for (size_t at = both.find(needle); at != std::string::npos; at = both.find(needle, at + 1))
                ++n;
            return n;
        };
        CHECK(count("applied main 20260101000000_create_geo_events") == 1);
        CHECK(count("_create_cool_widget_states") == 1);
        CHECK(sites.main_db.scalar("SELECT count(*) FROM geo_ssf_schema_migrations") == "8");
    }
}

TEST_CASE("migrate: a failing migration leaves its database unchanged and names the file") {
    TwoConfiguredSites sites;
    write_file(sites.dir / "migrations/main/20990101000000_broken.sql",
               "-- migrate:up\nCREATE TABLE half_done (id int);\nCREATE TABLE oops (id nosuchtype);\n"
               "-- migrate:down\nDROP TABLE half_done;\n");
    RunResult r = sites.primary_run({"migrate"});
    CHECK(r.status == 4);
    CHECK(r.err.rfind("geo-ssf: error: migration ", 0) == 0);
    CHECK(r.err.find("20990101000000_broken.sql failed") != std::string::npos);
    CHECK(r.err.find("nosuchtype") != std::string::npos);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK(sites.main_db.scalar("SELECT to_regclass('half_done')::text") == "");
    CHECK(sites.main_db.scalar("SELECT count(*) FROM geo_ssf_schema_migrations WHERE version = '20990101000000'") == "0");
    // The migrations before it were applied and stay so.
    CHECK(sites.main_db.scalar("SELECT count(*) FROM geo_ssf_schema_migrations") == "7");
}

TEST_CASE("migrate: malformed migration files are configuration errors") {
    TwoConfiguredSites sites;
    SUBCASE("no up section") {
        write_file(sites.dir / "migrations/main/20990101000000_no_marker.sql", "CREATE TABLE x (id int);\n");
        RunResult r = sites.primary_run({"migrate"});
        CHECK(r.status == 3);
        CHECK(r.err.find("20990101000000_no_marker.sql: no \"-- migrate:up\" section") != std::string::npos);
    }
    SUBCASE("a bad file name") {
        write_file(sites.dir / "migrations/main/create_things.sql", "-- migrate:up\nSELECT 1;\n");
        RunResult r = sites.primary_run({"migrate"});
        CHECK(r.status == 3);
        CHECK(r.err.find("create_things.sql: a migration file is named") != std::string::npos);
    }
    SUBCASE("two files with one version") {
        write_file(sites.dir / "migrations/main/20990101000000_a.sql", "-- migrate:up\nSELECT 1;\n");
        write_file(sites.dir / "migrations/main/20990101000000_b.sql", "-- migrate:up\nSELECT 1;\n");
        RunResult r = sites.primary_run({"migrate"});
        CHECK(r.status == 3);
        CHECK(r.err.find("version 20990101000000 is also used by") != std::string::npos);
    }
    CHECK(sites.main_db.scalar("SELECT to_regclass('geo_ssf_schema_migrations')::text") == "");
}

TEST_CASE("migrate: every generated down section undoes its up section") {
    TwoConfiguredSites sites;
    sites.generate_cool_widget();
    REQUIRE(sites.primary_run({"migrate"}).status == 0);
    REQUIRE(sites.secondary_run({"migrate"}).status == 0);
    for (const auto& [db, sub] : {std::pair<TestDatabase*, std::string>{&sites.main_db, "main"}, {&sites.geo_db, "geo"}}) {
        for (const auto& entry : std::filesystem::directory_iterator(sites.dir / "migrations" / sub)) {
            std::string sql = read_file(entry.path());
            std::string down = sql.substr(sql.find("-- migrate:down") + 15);
            CAPTURE(entry.path());
            CHECK_NOTHROW(db->exec(down));
        }
    }
    CHECK(sites.main_db.scalar("SELECT to_regclass('cool_widget_states')::text") == "");
    CHECK(sites.geo_db.scalar("SELECT to_regclass('cool_widget_registry')::text") == "");
}

TEST_CASE("migrate: a secondary never migrates the primary's main database") {
    TwoConfiguredSites sites;
    sites.generate_cool_widget();
    RunResult r = sites.secondary_run({"migrate", "--database", "main"});
    CHECK(r.status == 2);
    CHECK(r.err.find("the main database belongs to the primary") != std::string::npos);
    CHECK(sites.main_db.scalar("SELECT to_regclass('geo_ssf_schema_migrations')::text") == "");
}

}
