// A secondary whose databases.main is a streaming hot standby of the primary's cluster, as in
// production: a second PostgreSQL made with pg_basebackup -R from the cluster the tests run on,
// read through a role that may only SELECT. The whole loop against it, replication lag (replay
// paused), and reads cancelled by recovery conflicts.
#include "standby_fixture.hpp"

#include "common/error.hpp"
#include "db/primary_reads.hpp"
#include "site/database.hpp"

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <regex>
#include <thread>

using namespace geo_ssf::test;
using nlohmann::json;

namespace {

json status_of(StandbySite& site, bool secondary) {
    RunResult r = secondary ? site.secondary({"status", "--format", "json"}) : site.run({"status", "--format", "json"});
    CAPTURE(r.err);
    REQUIRE(r.status == 0);
    return json::parse(r.out);
}

// The value of the gauge NAME in a Prometheus text, or -1 when it is not there.
double gauge_value(const std::string& text, const std::string& name) {
    std::smatch m;
    if (!std::regex_search(text, m, std::regex("\n" + name + "\\{[^}]*\\} ([0-9.e+-]+)\n")))
        return -1;
    return std::stod(m[1]);
}

// Waits until a geo-ssf statement on the standby whose text is LIKE the pattern is sleeping in
// the slow model table's function, and returns its backend and start ("pid query_start").
std::string sleeping_statement(StandbySite& site, const std::string& like = "%") {
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < until) {
        std::string found = site.standby->scalar(
            "SELECT pid || ' ' || query_start FROM pg_stat_activity WHERE application_name = 'geo-ssf'"
            " AND wait_event = 'PgSleep' AND state = 'active' AND query LIKE '" + like + "'");
        if (!found.empty())
            return found;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    FAIL("no geo-ssf statement sleeping on the standby within 60s");
    return "";
}

}  // namespace

TEST_SUITE("standby") {

TEST_CASE("standby: the whole loop against a hot standby: events, registry consistency, sync, verify, status, show, list") {
    StandbySite site;
    site.add_records(1, 3);
    REQUIRE(site.run({"verify"}).status == 0);
    site.standby->catch_up();
    CHECK(site.on_standby("SELECT pg_is_in_recovery()") == "t");
    CHECK(site.on_standby("SELECT count(*) FROM cool_widgets") == "3");

    // The role the secondary uses can write nowhere: not on the primary, not on the standby.
    {
        pqxx::connection reader(site.main_db.conninfo() + " user=" + site.reader + " password=reader");
        pqxx::work tx(reader);
        CHECK_THROWS_WITH_AS(tx.exec("INSERT INTO geo_events (replicable_name, event_name, created_at)"
                                     " VALUES ('cool_widget', 'created', now())"),
                             doctest::Contains("permission denied"), pqxx::sql_error);
    }
    {
        pqxx::connection superuser(site.standby->conninfo(site.main_db.name()));
        pqxx::work tx(superuser);
        CHECK_THROWS_WITH_AS(tx.exec("CREATE TABLE t (x int)"), doctest::Contains("read-only transaction"),
                             pqxx::sql_error);
    }

    RunResult check = site.secondary({"check"});
    CAPTURE(check.out);
    CHECK(check.status == 0);
    CHECK(check.out.find("passed  main database reachable") != std::string::npos);

    // Registry consistency registers the records, sync mirrors them, verify compares them with
    // the primary's checksums as the standby shows them.
    RunResult sync = site.secondary({"sync"});
    CAPTURE(sync.err);
    CHECK(sync.status == 0);
    CHECK(site.registry_count("state = 2") == 3);
    for (long long id : {1, 2, 3})
        CHECK(refs_of(site.copy(id)) == refs_of(site.repository(id)));
    RunResult verify = site.secondary({"verify"});
    CAPTURE(verify.err);
    CHECK(verify.status == 0);
    CHECK(site.registry_count("verification_state = 2") == 3);

    // Events: an update, a deletion, and a record created without an event.
    site.push(1);
    REQUIRE(site.run({"event", "cool_widget", "updated", "1"}).status == 0);
    REQUIRE(site.run({"event", "cool_widget", "deleted", "3"}).status == 0);
    site.main_db.exec("DELETE FROM cool_widgets WHERE id = 3");
    site.add_records(4, 4);
    REQUIRE(site.run({"verify"}).status == 0);
    site.standby->catch_up();
    sync = site.secondary({"sync", "--format", "json"});
    CHECK(sync.status == 0);
    json summary = json::parse(sync.out);
    CHECK(summary["events"] == 4);  // updated, deleted and two checksum_succeeded
    CHECK(summary["last_event_id"] == std::stoll(site.main_db.scalar("SELECT max(id) FROM geo_events")));
    CHECK(refs_of(site.copy(1)) == refs_of(site.repository(1)));
    CHECK_FALSE(std::filesystem::exists(site.copy(3)));
    CHECK(std::filesystem::exists(site.copy(4)));
    CHECK(site.registry_count("true") == 3);
    CHECK(site.secondary({"verify"}).status == 0);
    CHECK(site.registry_count("verification_state = 2") == 3);

    // status: the standby's replay lag beside the usual fields, in every format.
    json status = status_of(site, true);
    CHECK(status["db_replication_lag_seconds"].is_number());
    CHECK(status["db_replication_lag_seconds"].get<double>() >= 0);
    CHECK(status["replicables"][0]["cool_widgets_synced_count"] == 3);
    CHECK(status["replicables"][0]["cool_widgets_verified_count"] == 3);
    CHECK(status["replicables"][0]["cool_widgets_registry_missing_count"] == 0);
    RunResult table = site.secondary({"status"});
    CAPTURE(table.out);
    CHECK(table.status == 0);
    CHECK(std::regex_search(table.out, std::regex("\n  Database replication lag   [0-9]+ (second|minute)s?\n")));
    RunResult prometheus = site.secondary({"status", "--format", "prometheus"});
    CHECK(prometheus.status == 0);
    CHECK(prometheus.out.find("# HELP geo_db_replication_lag_seconds Database replication lag (seconds)\n"
                              "# TYPE geo_db_replication_lag_seconds gauge\n") != std::string::npos);
    CHECK(gauge_value(prometheus.out, "geo_db_replication_lag_seconds") >= 0);
    // The primary's own database is no standby: no lag.
    json primary = status_of(site, false);
    CHECK(primary.contains("db_replication_lag_seconds"));
    CHECK(primary["db_replication_lag_seconds"].is_null());
    CHECK(site.run({"status"}).out.find("replication lag") == std::string::npos);
    CHECK(gauge_value(site.run({"status", "--format", "prometheus"}).out, "geo_db_replication_lag_seconds") == -1);

    RunResult show = site.secondary({"show", "cool_widget", "1", "--format", "json"});
    CAPTURE(show.err);
    CHECK(show.status == 0);
    CHECK(show.out.find(site.state_of(1, "encode(verification_checksum, 'hex')")) != std::string::npos);
    RunResult list = site.secondary({"list", "cool_widget", "--format", "json"});
    CHECK(list.status == 0);
    json records = json::parse(list.out)["records"];
    REQUIRE(records.size() == 3);
    CHECK(records[2]["id"] == 4);
    CHECK(records[2]["state"] == "synced");
    // resync checks the records exist on the primary, through the standby.
    CHECK(site.secondary({"resync", "cool_widget", "2", "--now"}).status == 0);
    CHECK(site.secondary({"resync", "cool_widget", "3"}).status == 2);
}

TEST_CASE("standby: changes the standby has not replayed yet cause no error and no wrong deletion; the next run catches up") {
    StandbySite site;
    site.add_records(1, 4);
    REQUIRE(site.run({"verify"}).status == 0);
    site.standby->catch_up();
    REQUIRE(site.secondary({"sync"}).status == 0);
    REQUIRE(site.secondary({"verify"}).status == 0);
    REQUIRE(site.registry_count("state = 2 AND verification_state = 2") == 4);
    std::string refs_before = refs_of(site.copy(1));
    std::string cursor = site.event_cursor();

    site.standby->pause_replay();
    // On the primary: new records with and without events, a deletion, a push, checksums.
    site.add_records(5, 6);
    REQUIRE(site.run({"event", "cool_widget", "created", "5", "6"}).status == 0);
    REQUIRE(site.run({"event", "cool_widget", "deleted", "2"}).status == 0);
    site.main_db.exec("DELETE FROM cool_widgets WHERE id = 2");
    site.push(1);
    REQUIRE(site.run({"event", "cool_widget", "updated", "1"}).status == 0);
    site.add_records(7, 7);
    REQUIRE(site.run({"verify"}).status == 0);
    CHECK(site.on_standby("SELECT count(*) FROM cool_widgets") == "4");  // none of it replayed
    std::this_thread::sleep_for(std::chrono::seconds(2));

    // Runs against the lagging standby: no error, nothing removed, nothing new.
    RunResult sync = site.secondary({"sync", "--format", "json"});
    CAPTURE(sync.err);
    CHECK(sync.status == 0);
    CHECK(json::parse(sync.out)["events"] == 0);
    CHECK(site.event_cursor() == cursor);
    CHECK(site.registry_count("true") == 4);
    CHECK(site.registry_count("state = 2 AND verification_state = 2") == 4);
    CHECK(std::filesystem::exists(site.copy(2)));
    CHECK(refs_of(site.copy(1)) == refs_before);
    CHECK_FALSE(std::filesystem::exists(site.copy(5)));
    RunResult verify = site.secondary({"verify"});
    CHECK(verify.status == 0);
    CHECK(site.registry_count("verification_state = 2") == 4);
    CHECK(site.secondary({"show", "cool_widget", "2"}).status == 0);
    CHECK(site.secondary({"list", "cool_widget"}).status == 0);

    // status reports the lag: at least the two seconds waited since the last replayed commit.
    json status = status_of(site, true);
    CHECK(status["db_replication_lag_seconds"].get<double>() >= 2);
    CHECK(status["replicables"][0]["cool_widgets_registry_count"] == 4);
    CHECK(status["replicables"][0]["cool_widgets_registry_missing_count"] == 0);  // as the standby sees it
    RunResult prometheus = site.secondary({"status", "--format", "prometheus"});
    CHECK(gauge_value(prometheus.out, "geo_db_replication_lag_seconds") >= 2);
    RunResult table = site.secondary({"status"});
    CAPTURE(table.out);
    CHECK(std::regex_search(table.out, std::regex("\n  Database replication lag   [0-9]+ (second|minute)s?\n")));

    // Replay resumes: the next run catches up with all of it.
    site.standby->resume_replay();
    site.standby->catch_up();
    sync = site.secondary({"sync", "--format", "json"});
    CAPTURE(sync.err);
    CHECK(sync.status == 0);
    CHECK(json::parse(sync.out)["events"].get<long long>() >= 4);
    CHECK_FALSE(std::filesystem::exists(site.copy(2)));
    CHECK(refs_of(site.copy(1)) == refs_of(site.repository(1)));
    for (long long id : {5, 6, 7})
        CHECK(refs_of(site.copy(id)) == refs_of(site.repository(id)));
    CHECK(site.registry_count("true") == 6);
    CHECK(site.registry_count("state = 2") == 6);
    CHECK(site.secondary({"verify"}).status == 0);
    CHECK(site.registry_count("verification_state = 2") == 6);
    status = status_of(site, true);
    CHECK(status["db_replication_lag_seconds"].get<double>() >= 0);
    CHECK(status["replicables"][0]["cool_widgets_registry_missing_count"] == 0);
}

TEST_CASE("standby: a conflict that ends the connection between two statements of a read: connected again, read again") {
    // Replay cancels at once; a session idle in a transaction is not cancelled but ended.
    StandbySite site({"max_standby_streaming_delay = 0", "hot_standby_feedback = on", "wal_receiver_status_interval = 1s"});
    site.standby->wait_for_feedback();
    site.add_records(1, 3);
    site.standby->catch_up();
    auto main = geo_ssf::connect_database(site.standby->conninfo(site.main_db.name()), "main", geo_ssf::Access::read_only);
    std::vector<std::string> sessions;
    long long records = geo_ssf::read_primary(*main, [&](pqxx::transaction_base& tx) {
        sessions.push_back(tx.exec1("SELECT pg_backend_pid() || ' ' || current_setting('application_name') || ' ' || "
                                    "current_setting('default_transaction_read_only')")[0].c_str());
        tx.exec("SELECT count(*) FROM cool_widgets");  // holds a lock on the table until the read ends
        if (sessions.size() == 1) {
            site.main_db.exec("LOCK TABLE cool_widgets IN ACCESS EXCLUSIVE MODE");
            std::string pid = sessions[0].substr(0, sessions[0].find(' '));
            auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
            while (site.standby->scalar("SELECT count(*) FROM pg_stat_activity WHERE pid = " + pid) != "0") {
                REQUIRE(std::chrono::steady_clock::now() < until);
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
            }
        }
        return tx.exec1("SELECT count(*) FROM cool_widgets")[0].as<long long>();
    });
    CHECK(records == 3);
    REQUIRE(sessions.size() == 2);
    CHECK(sessions[0] != sessions[1]);  // another backend ...
    CHECK(sessions[1].substr(sessions[1].find(' ')) == " geo-ssf on");  // ... set up as the first was
    CHECK(site.on_standby("SELECT confl_lock FROM pg_stat_database_conflicts WHERE datname = current_database()") != "0");
}

TEST_CASE("standby: a read cancelled by a recovery conflict is tried once more; cancelled again, the run stops and records nothing") {
    // Replay cancels a conflicting query at once. The secondary reads the records through a view
    // that sleeps for records 4 and up, which keeps its reads of them running long enough for
    // the primary to take a conflicting lock on the table under the view, even on a slow machine
    // (a conflict that finds the session between statements ends the whole connection). Those locks are the
    // only conflicts: with hot_standby_feedback the other tests' vacuuming cancels nothing here.
    // Only statements like a pattern in slow_reads sleep, and only while it holds one: the
    // reads before the one a case aims at, and those after its conflicts, run at full speed.
    StandbySite site({"max_standby_streaming_delay = 0", "hot_standby_feedback = on", "wal_receiver_status_interval = 1s"});
    site.standby->wait_for_feedback();
    site.main_db.exec("CREATE TABLE slow_reads (pattern text NOT NULL)");
    site.main_db.exec("CREATE FUNCTION geo_ssf_test_slow(id bigint) RETURNS boolean LANGUAGE plpgsql AS $$"
                      " BEGIN IF id >= 4 AND EXISTS (SELECT FROM slow_reads WHERE current_query() LIKE pattern) THEN"
                      " PERFORM pg_sleep(5); END IF; RETURN true; END $$");
    site.main_db.exec("GRANT SELECT ON slow_reads TO " + site.reader);
    site.main_db.exec("CREATE VIEW slow_cool_widgets AS SELECT * FROM cool_widgets WHERE geo_ssf_test_slow(id)");
    site.main_db.exec("GRANT SELECT ON slow_cool_widgets TO " + site.reader);
    std::filesystem::create_directories(site.dir / "secondary-replicables");
    std::string definition = read_file(site.dir / "replicables" / "cool_widget.yml");
    const std::string model = "\nmodel_table: cool_widgets\n";
    REQUIRE(definition.find(model) != std::string::npos);
    write_file(site.dir / "secondary-replicables" / "cool_widget.yml",
               definition.replace(definition.find(model), model.size(), "\nmodel_table: slow_cool_widgets\n"));
    write_file(site.secondary_config, read_file(site.secondary_config) + "replicables: secondary-replicables\n");
    site.add_records(1, 3);
    site.standby->catch_up();
    RunResult first = site.secondary({"sync"});
    REQUIRE_MESSAGE(first.status == 0, first.err);
    REQUIRE(site.registry_count("state = 2") == 3);
    site.add_records(4, 5);
    REQUIRE(site.run({"event", "cool_widget", "created", "4", "5"}).status == 0);
    site.standby->catch_up();
    std::string cursor = site.event_cursor();
    auto slow_reads = [&](const std::string& pattern) {
        site.main_db.exec("INSERT INTO slow_reads VALUES ('" + pattern + "')");
        site.standby->catch_up();
    };
    // Replayed after any conflict taken before it.
    auto fast_reads = [&] { site.main_db.exec("DELETE FROM slow_reads"); };
    auto conflict = [&] { site.main_db.exec("LOCK TABLE cool_widgets IN ACCESS EXCLUSIVE MODE"); };
    // Conflicts every tenth of a second until RUN ends: every read of the records, the one tried
    // once more included, is cancelled, however slowly this machine runs it.
    auto conflicts_until_done = [&](BackgroundRun& run) {
        std::atomic<bool> done{false};
        std::thread primary([&] {
            while (!done) {
                conflict();
                std::this_thread::sleep_for(std::chrono::milliseconds(100));
            }
        });
        RunResult result = run.wait();
        done = true;
        primary.join();
        return result;
    };

    SUBCASE("cancelled twice: a database error, and the batch of events is not recorded") {
        slow_reads("%");
        BackgroundRun run({"-c", site.secondary_config.string(), "-v", "sync"});
        sleeping_statement(site);
        RunResult sync = conflicts_until_done(run);
        fast_reads();
        site.standby->catch_up();
        CAPTURE(sync.err);
        CHECK(sync.status == 4);
        CHECK(sync.err.find("trying it once more") != std::string::npos);
        CHECK(sync.err.find("geo-ssf: error: database query failed: canceling statement due to conflict with recovery "
                            "(databases.main is a standby replaying the primary's changes; the read was tried twice") !=
              std::string::npos);
        // The events' transaction of the tracking database was rolled back whole.
        CHECK(site.event_cursor() == cursor);
        CHECK(site.registry_count("true") == 3);
        CHECK(site.registry_count("state = 1 OR verification_state = 1") == 0);
        CHECK_FALSE(std::filesystem::exists(site.copy(4)));

        // Nothing in the way: the next run does it all.
        RunResult again = site.secondary({"sync"});
        CAPTURE(again.err);
        CHECK(again.status == 0);
        CHECK(site.registry_count("state = 2") == 5);
        CHECK(site.event_cursor() != cursor);
    }
    SUBCASE("cancelled twice while reading the claimed records: the claims are put back as they were") {
        // Events and registry consistency read the records too, and register them; the claimed
        // batch's repository paths are read last.
        const std::string paths = "SELECT m.id, m.id::text FROM slow_cool_widgets m WHERE m.id = ANY%";
        slow_reads(paths);
        BackgroundRun run({"-c", site.secondary_config.string(), "sync"});
        sleeping_statement(site, paths);
        RunResult sync = conflicts_until_done(run);
        fast_reads();
        site.standby->catch_up();
        CAPTURE(sync.err);
        CHECK(sync.status == 4);
        CHECK(sync.err.find("canceling statement due to conflict with recovery") != std::string::npos);
        CHECK(site.event_cursor() != cursor);  // the events were replayed before
        CHECK(site.registry_count("true") == 5);
        CHECK(site.registry(4, "state") == "0");  // pending, as before the claim: not left started
        CHECK(site.registry(5, "state") == "0");
        CHECK(site.registry_count("state = 1") == 0);
        CHECK_FALSE(std::filesystem::exists(site.copy(4)));

        RunResult again = site.secondary({"sync"});
        CAPTURE(again.err);
        CHECK(again.status == 0);
        CHECK(site.registry_count("state = 2") == 5);
    }
    SUBCASE("cancelled once: the read is tried again and the run succeeds") {
        slow_reads("%");
        BackgroundRun run({"-c", site.secondary_config.string(), "-v", "sync"});
        sleeping_statement(site);
        conflict();
        fast_reads();
        RunResult sync = run.wait();
        CAPTURE(sync.err);
        CHECK(sync.status == 0);
        CHECK(sync.err.find("the primary's database cancelled a read: canceling statement due to conflict with "
                            "recovery; trying it once more") != std::string::npos);
        CHECK(site.registry_count("state = 2") == 5);
        CHECK(refs_of(site.copy(5)) == refs_of(site.repository(5)));
    }
    SUBCASE("status: a count cancelled by a conflict is unknown, the others are counted") {
        slow_reads("%");
        BackgroundRun run({"-c", site.secondary_config.string(), "status", "--format", "json"});
        sleeping_statement(site);
        conflict();
        fast_reads();
        RunResult status = run.wait();
        CAPTURE(status.err);
        CHECK(status.status == 1);
        json counts = json::parse(status.out);
        CHECK(counts["replicables"][0]["status"] == "partial");
        CHECK(counts["replicables"][0]["reason"].get<std::string>().find("conflict with recovery") != std::string::npos);
        CHECK(counts["replicables"][0]["cool_widgets_registry_count"] == 3);
    }
}

TEST_CASE("standby: the retry policy of read_primary, against a real server") {
    TestDatabase db;
    pqxx::connection& connection = db.connection();
    const std::string conflict = "DO $$ BEGIN RAISE EXCEPTION 'canceling statement due to conflict with recovery'"
                                 " USING ERRCODE = '40001'; END $$";
    int attempts = 0;

    // A conflict, then success: the read's value, in two transactions.
    int value = geo_ssf::read_primary(connection, [&](pqxx::transaction_base& tx) {
        if (++attempts == 1)
            tx.exec(conflict);
        return tx.exec1("SELECT 42")[0].as<int>();
    });
    CHECK(value == 42);
    CHECK(attempts == 2);

    // Two conflicts: a DatabaseError.
    attempts = 0;
    CHECK_THROWS_WITH_AS(geo_ssf::read_primary(connection,
                                               [&](pqxx::transaction_base& tx) {
                                                   ++attempts;
                                                   tx.exec(conflict);
                                               }),
                         doctest::Contains("database query failed: canceling statement due to conflict with recovery "
                                           "(databases.main is a standby"),
                         geo_ssf::DatabaseError);
    CHECK(attempts == 2);

    // A buffer-pin deadlock with recovery is a conflict too; other deadlocks and errors are not retried.
    attempts = 0;
    geo_ssf::read_primary(connection, [&](pqxx::transaction_base& tx) {
        if (++attempts == 1)
            tx.exec("DO $$ BEGIN RAISE EXCEPTION 'canceling statement due to conflict with recovery'"
                    " USING ERRCODE = '40P01'; END $$");
    });
    CHECK(attempts == 2);
    for (const char* failing : {"DO $$ BEGIN RAISE EXCEPTION 'deadlock detected' USING ERRCODE = '40P01'; END $$",
                                "SELECT 1 / 0", "CREATE TABLE written (x int)"}) {
        CAPTURE(failing);
        attempts = 0;
        CHECK_THROWS_AS(geo_ssf::read_primary(connection,
                                              [&](pqxx::transaction_base& tx) {
                                                  ++attempts;
                                                  tx.exec(failing);
                                              }),
                        pqxx::failure);
        CHECK(attempts == 1);
    }
    // The transaction is read-only: nothing was written.
    CHECK(db.scalar("SELECT to_regclass('written') IS NULL") == "t");
    // And the connection is still usable.
    CHECK(geo_ssf::read_primary(connection, [](pqxx::transaction_base& tx) { return tx.exec1("SELECT 7")[0].as<int>(); }) ==
          7);
}

}  // TEST_SUITE
