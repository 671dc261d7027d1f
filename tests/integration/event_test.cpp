// Events from the primary's hooks, and reverify.
#include "one_line_error.hpp"
#include "primary_fixture.hpp"
#include "secondary_fixture.hpp"

#include <chrono>
#include <thread>

using namespace geo_ssf::test;

namespace {

// COUNT events NAME for the records FIRST..LAST in turn, in one statement; returns the last id.
long long insert_events(TestDatabase& main, const std::string& name, int count, int first, int last) {
    return std::stoll(main.scalar(
        "WITH added AS (INSERT INTO geo_events (replicable_name, event_name, payload, created_at) "
        "SELECT 'cool_widget', '" + name + "', jsonb_build_object('model_record_id', " + std::to_string(first) +
        " + i % " + std::to_string(last - first + 1) + "), now() FROM generate_series(0, " + std::to_string(count - 1) +
        ") AS i RETURNING id) SELECT max(id) FROM added"));
}

long long event_cursor(TestDatabase& geo) {
    return std::stoll(geo.scalar("SELECT max(event_id) FROM event_log_states"));
}

}  // namespace

TEST_SUITE("event") {

TEST_CASE("event replay: --max-runtime stops it between batches; later runs resume and finish") {
    SecondaryFixture site;
    site.add_records(1, 3);
    REQUIRE(site.secondary({"sync"}).status == 0);  // the cursor starts after the newest event
    long long start = event_cursor(site.geo_db);
    long long last = insert_events(site.main_db, "updated", 20000, 1, 3);

    // The first batch waits on a row this test holds locked for longer than --max-runtime, so
    // the run is out of time once that batch is done, and replays no more.
    pqxx::connection blocker(site.geo_db.conninfo());
    pqxx::work hold(blocker);
    hold.exec("SELECT 1 FROM cool_widget_registry WHERE cool_widget_id = 1 FOR UPDATE");
    BackgroundRun run({"-c", site.secondary_config.string(), "sync", "--max-runtime", "1s"});
    while (site.geo_db.scalar("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'geo-ssf' "
                              "AND datname = current_database() AND wait_event_type = 'Lock'") == "0")
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    hold.abort();
    RunResult first = run.wait();
    CHECK_MESSAGE(first.status == 0, first.err);
    long long after_first = event_cursor(site.geo_db);
    CHECK(after_first == start + 1000);  // exactly one batch
    CHECK(after_first < last);
    CHECK(site.registry_count("state = 0") == 3);  // marked by that batch, not synced: out of time

    // Each later run replays at least one batch, so a bounded number of them reach the end.
    for (int runs = 0; runs < 25 && event_cursor(site.geo_db) < last; ++runs)
        REQUIRE(site.secondary({"sync", "--max-runtime", "1s"}).status == 0);
    CHECK(event_cursor(site.geo_db) == last);
    REQUIRE(site.secondary({"sync"}).status == 0);
    CHECK(site.registry_count("state = 2") == 3);
    CHECK(site.registry_count("true") == 3);
}

TEST_CASE("event replay: repeated events for a record cost one registry mark; the last event decides") {
    SecondaryFixture site;
    site.add_records(1, 4);
    REQUIRE(site.secondary({"sync"}).status == 0);
    // Every UPDATE statement on the registry that marks rows for a sync (resync's and the
    // replay's predicate), whether it changes a row or not.
    site.geo_db.exec("CREATE TABLE marks (query text)");
    site.geo_db.exec("CREATE FUNCTION log_mark() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                     "IF current_query() LIKE '%AND state <> 0%' THEN INSERT INTO marks VALUES (current_query()); END IF; "
                     "RETURN NULL; END $$");
    site.geo_db.exec("CREATE TRIGGER log_mark AFTER UPDATE ON cool_widget_registry FOR EACH STATEMENT "
                     "EXECUTE FUNCTION log_mark()");
    insert_events(site.main_db, "updated", 500, 1, 1);
    // Record 2 updated then deleted: deleted. Record 3 deleted then created: a new row, pending.
    insert_events(site.main_db, "updated", 1, 2, 2);
    site.main_db.exec("INSERT INTO geo_events (replicable_name, event_name, payload, created_at) VALUES "
                      "('cool_widget', 'deleted', '{\"model_record_id\": 2, \"disk_path\": \"cool_widgets/2.git\"}', now()),"
                      "('cool_widget', 'deleted', '{\"model_record_id\": 3, \"disk_path\": \"cool_widgets/3.git\"}', now())");
    insert_events(site.main_db, "created", 1, 3, 3);
    site.main_db.exec("DELETE FROM cool_widgets WHERE id = 2");
    site.geo_db.exec("UPDATE cool_widget_registry SET last_sync_failure = 'kept' WHERE cool_widget_id = 3");

    RunResult sync = site.secondary({"sync", "--format", "json"});
    CHECK_MESSAGE(sync.status == 0, sync.err);
    CHECK(site.geo_db.scalar("SELECT count(*) FROM marks") == "1");
    CHECK(site.registry(1, "state") == "2");                // marked once, then synced again
    CHECK(site.registry_count("cool_widget_id = 2") == 0);  // deleted
    CHECK(!std::filesystem::exists(site.copy(2)));
    CHECK(site.registry(3, "state") == "2");                // created again, and synced
    CHECK(site.registry(3, "last_sync_failure") == "");     // a new row, not the old one
    CHECK(site.registry(4, "state") == "2");
}

TEST_CASE("event: updated publishes GitLab's payload and marks the record for verification") {
    PrimaryFixture site;
    site.add_records(1, 3);
    REQUIRE(site.run({"verify"}).status == 0);
    RunResult r = site.run({"event", "cool_widget", "updated", "2", "3"});
    CHECK(r.status == 0);
    CHECK(r.out == "published 2 updated event(s) for cool_widget; 2 record(s) marked for verification\n");
    CHECK(site.main_db.scalar("SELECT string_agg(payload::text, ' ' ORDER BY id) FROM geo_events WHERE event_name = 'updated'") ==
          "{\"model_record_id\": 2} {\"model_record_id\": 3}");
    CHECK(site.state_of(2, "verification_state") == "0");
    CHECK(site.state_of(1, "verification_state") == "2");
}

TEST_CASE("event: created makes the state row when there is none") {
    PrimaryFixture site;
    site.add_records(1, 1);
    CHECK(site.run({"event", "cool_widget", "created", "1"}).status == 0);
    CHECK(site.state_of(1, "verification_state") == "0");
}

TEST_CASE("event: deleted carries the repository path, even once the record is gone") {
    PrimaryFixture site;
    site.add_records(1, 2);
    CHECK(site.run({"event", "cool_widget", "deleted", "1"}).status == 0);
    site.main_db.exec("DELETE FROM cool_widgets WHERE id = 2");
    CHECK(site.run({"event", "cool_widget", "deleted", "2"}).status == 0);
    CHECK(site.main_db.scalar("SELECT string_agg(payload->>'disk_path', ' ' ORDER BY id) FROM geo_events") ==
          "cool_widgets/1.git cool_widgets/2.git");
    CHECK(site.main_db.scalar("SELECT payload->>'model_record_id' FROM geo_events ORDER BY id LIMIT 1") == "1");
}

TEST_CASE("event: unknown records and bad IDs change nothing") {
    PrimaryFixture site;
    site.add_records(1, 2);
    RunResult unknown = site.run({"event", "cool_widget", "updated", "1", "99"});
    CHECK(unknown.status == 2);
    CHECK(unknown.err == "geo-ssf: error: no cool_widget record with id 99\n");
    RunResult bad = site.run({"event", "cool_widget", "updated", "1", "x1"});
    CHECK(bad.status == 2);
    CHECK(bad.err.find("invalid ID \"x1\"") != std::string::npos);
    RunResult type = site.run({"event", "gadget", "updated", "1"});
    CHECK(type.status == 2);
    CHECK(type.err.find("unknown replicable \"gadget\"") != std::string::npos);
    RunResult name = site.run({"event", "cool_widget", "renamed", "1"});
    CHECK(name.status == 2);
    CHECK(site.main_db.scalar("SELECT count(*) FROM geo_events") == "0");
    CHECK(site.count("true") == 0);
}

TEST_CASE("event: '-' reads any number of IDs from standard input") {
    PrimaryFixture site;
    site.main_db.exec("INSERT INTO cool_widgets (id) SELECT generate_series(1, 2500)");
    std::string ids;
    for (int i = 1; i <= 2500; ++i)
        ids += std::to_string(i) + (i % 7 ? " " : "\n");
    RunOptions input;
    input.input = ids;
    RunResult r = site.run({"event", "cool_widget", "created", "-"}, input);
    CHECK(r.status == 0);
    CHECK(site.main_db.scalar("SELECT count(*) FROM geo_events") == "2500");
    CHECK(site.count("verification_state = 0") == 2500);
}

TEST_CASE("event: a secondary does not publish") {
    PrimaryFixture site;
    TestDatabase geo;
    auto secondary = site.dir / "secondary.yml";
    write_file(secondary, "site: {role: secondary}\ndatabases: {main: \"" + site.main_db.conninfo() + "\", geo: \"" +
                              geo.conninfo() + "\"}\nstorage: {root: repositories, primary_url: /x}\n");
    RunResult r = run_geo_ssf({"-c", secondary.string(), "event", "cool_widget", "updated", "1"});
    CHECK(r.status == 2);
    CHECK(r.err.find("'event' runs on a primary site") != std::string::npos);
}

}
