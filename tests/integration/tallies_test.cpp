// The tallies status counts from (lib/tallies.hpp), kept by triggers on real registry and
// states tables: they must agree with the rows through every kind of change, through folds
// that run beside writers, and be found out by check and put right by status --recount when
// rows were written with the triggers off.
#include "db/tallies.hpp"
#include "two_sites_fixture.hpp"

#include <nlohmann/json.hpp>

#include <atomic>
#include <thread>

using namespace geo_ssf::test;

namespace {

geo_ssf::TalliedTable registry_table() { return {"cool_widget_registry", "cool_widget_id", true}; }
geo_ssf::TalliedTable states_table() { return {"cool_widget_states", "cool_widget_id", false}; }

struct Reading {
    std::optional<geo_ssf::TableTallies> stored;
    geo_ssf::TableTallies counted;
};

Reading read_both(TestDatabase& db, const geo_ssf::TalliedTable& table) {
    pqxx::connection connection(db.conninfo());
    geo_ssf::TimedReader reader(connection, geo_ssf::TimedReader::Clock::now() + std::chrono::minutes(1), "1m");
    Reading out;
    out.stored = geo_ssf::read_tallies(reader, table);
    out.counted = geo_ssf::count_tallies(reader, table, "true");
    return out;
}

// The tallies agree with the rows, and the rows are what the test expects.
void check_agree(TestDatabase& db, const geo_ssf::TalliedTable& table, long long expected_rows) {
    Reading r = read_both(db, table);
    REQUIRE(r.stored.has_value());
    CHECK(r.counted.ids.count == expected_rows);
    CHECK(r.stored->ids.count == expected_rows);
    CHECK(r.stored->by_state == r.counted.by_state);
    CHECK(r.stored->ids.hash_sum == r.counted.ids.hash_sum);
}

long long failed_count(const RunResult& status) {
    return nlohmann::json::parse(status.out)["replicables"][0]["cool_widgets_failed_count"].get<long long>();
}

long long tally_rows(TestDatabase& db) { return std::stoll(db.scalar("SELECT count(*) FROM geo_ssf_tallies")); }

}  // namespace

TEST_SUITE("tallies") {

TEST_CASE("tallies: agree with a registry table's and a states table's rows through every kind of change") {
    TwoSitesFixture sites;
    sites.main_db.exec("INSERT INTO cool_widgets (id) SELECT generate_series(1, 500)");
    check_agree(sites.geo_db, registry_table(), 0);
    CHECK(read_both(sites.geo_db, registry_table()).stored->ids.hash_sum == "0");

    // Registry: inserts in several statements, an update of states, an update of other
    // columns only, deletes, a rolled back insert, extreme ids, truncate.
    sites.geo_db.exec("INSERT INTO cool_widget_registry (cool_widget_id, created_at, state, verification_state) "
                      "SELECT g, now(), g % 4, g % 5 FROM generate_series(1, 300) g");
    sites.geo_db.exec("INSERT INTO cool_widget_registry (cool_widget_id, created_at) VALUES (301, now())");
    check_agree(sites.geo_db, registry_table(), 301);
    sites.geo_db.exec("UPDATE cool_widget_registry SET state = 2, verification_state = 3 WHERE cool_widget_id % 3 = 0");
    check_agree(sites.geo_db, registry_table(), 301);
    long long before = tally_rows(sites.geo_db);
    sites.geo_db.exec("UPDATE cool_widget_registry SET last_synced_at = now(), retry_count = 1");
    CHECK(tally_rows(sites.geo_db) == before);  // no state changed: nothing to add
    sites.geo_db.exec("DELETE FROM cool_widget_registry WHERE cool_widget_id % 7 = 0");
    check_agree(sites.geo_db, registry_table(), 301 - 43);
    {
        pqxx::work rolled_back(sites.geo_db.connection());
        rolled_back.exec("INSERT INTO cool_widget_registry (cool_widget_id, created_at) SELECT g, now() "
                         "FROM generate_series(1000, 1100) g");
    }
    sites.geo_db.exec("INSERT INTO cool_widget_registry (cool_widget_id, created_at, state) "
                      "VALUES (-9223372036854775808, now(), 3), (9223372036854775807, now(), 3)");
    check_agree(sites.geo_db, registry_table(), 301 - 43 + 2);
    Reading reading = read_both(sites.geo_db, registry_table());
    CHECK(reading.stored->by_state.size() == 20);  // every sync state with every verification state
    // A role that may change the registry but not the tallies (an operator's, say) still keeps them.
    std::string operator_role = sites.geo_db.name() + "_operator";
    sites.geo_db.exec("CREATE ROLE " + operator_role + "; GRANT SELECT, UPDATE ON cool_widget_registry TO " +
                      operator_role);
    sites.geo_db.exec("SET ROLE " + operator_role + "; UPDATE cool_widget_registry SET state = 0 WHERE state = 1; "
                      "RESET ROLE");
    check_agree(sites.geo_db, registry_table(), 301 - 43 + 2);
    sites.geo_db.exec("DROP OWNED BY " + operator_role + "; DROP ROLE " + operator_role);
    {
        pqxx::transaction<pqxx::repeatable_read> older_snapshot(sites.geo_db.connection());
        CHECK_THROWS_WITH(older_snapshot.exec("TRUNCATE cool_widget_registry"),
                          doctest::Contains("truncate cool_widget_registry under READ COMMITTED"));
    }
    check_agree(sites.geo_db, registry_table(), 301 - 43 + 2);
    sites.geo_db.exec("TRUNCATE cool_widget_registry");
    check_agree(sites.geo_db, registry_table(), 0);
    CHECK(tally_rows(sites.geo_db) == 0);

    // States table, whose rows go when their records go (ON DELETE CASCADE).
    sites.main_db.exec("INSERT INTO cool_widget_states (cool_widget_id, verification_state) "
                       "SELECT g, g % 5 FROM generate_series(1, 400) g");
    sites.main_db.exec("UPDATE cool_widget_states SET verification_state = 2 WHERE verification_state = 1");
    sites.main_db.exec("DELETE FROM cool_widgets WHERE id > 350");
    check_agree(sites.main_db, states_table(), 350);
    reading = read_both(sites.main_db, states_table());
    CHECK(reading.stored->by_state.size() == 4);
    CHECK_FALSE(reading.stored->by_state.front().sync_state.has_value());
}

TEST_CASE("tallies: only their owner may attach the trigger function, which runs as that owner") {
    TwoSitesFixture sites;
    std::string intruder = sites.geo_db.name() + "_intruder";
    sites.geo_db.exec("CREATE ROLE " + intruder);
    // A table of the registry's name in the intruder's temporary schema, to forge or wipe tallies.
    pqxx::connection session(sites.geo_db.conninfo());
    pqxx::nontransaction(session).exec("SET ROLE " + intruder +
                                       "; CREATE TEMP TABLE cool_widget_registry (cool_widget_id bigint, "
                                       "state smallint, verification_state smallint)");
    try {
        pqxx::nontransaction(session).exec(
            "CREATE TRIGGER geo_ssf_tally_truncate AFTER TRUNCATE ON pg_temp.cool_widget_registry "
            "FOR EACH STATEMENT EXECUTE FUNCTION geo_ssf_tally('cool_widget_id', 'state')");
        FAIL("an intruder attached geo_ssf_tally()");
    } catch (const pqxx::sql_error& e) {
        CHECK(std::string(e.what()).find("permission denied for function geo_ssf_tally") != std::string::npos);
    }
    pqxx::nontransaction(session).exec("DROP TABLE pg_temp.cool_widget_registry; RESET ROLE");
    session.disconnect();
    sites.geo_db.exec("DROP OWNED BY " + intruder + "; DROP ROLE " + intruder);
}

TEST_CASE("tallies: below zero, status counts the rows instead and says to recount") {
    TwoSitesFixture sites;
    sites.main_db.exec("INSERT INTO cool_widgets (id) SELECT generate_series(1, 10)");
    // Rows from before the triggers were attached, then deleted with them in place.
    sites.geo_db.exec("ALTER TABLE cool_widget_registry DISABLE TRIGGER geo_ssf_tally_insert; "
                      "INSERT INTO cool_widget_registry (cool_widget_id, created_at, state) "
                      "SELECT g, now(), 2 FROM generate_series(1, 10) g; "
                      "ALTER TABLE cool_widget_registry ENABLE TRIGGER geo_ssf_tally_insert");
    sites.geo_db.exec("DELETE FROM cool_widget_registry WHERE cool_widget_id > 6");
    REQUIRE(read_both(sites.geo_db, registry_table()).stored->below_zero());
    RunResult status = sites.secondary_run({"status", "--format", "json"});
    CHECK(status.status == 0);
    CHECK(status.err.find("cool_widget_registry: its tallies are below zero, so its rows are counted; run geo-ssf "
                          "status --recount") != std::string::npos);
    auto json = nlohmann::json::parse(status.out)["replicables"][0];
    CHECK(json["cool_widgets_registry_count"] == 6);
    CHECK(json["cool_widgets_synced_count"] == 6);
    CHECK(json["cool_widgets_registry_missing_count"] == 4);
    CHECK(sites.secondary_run({"status", "--recount"}).status == 0);
    check_agree(sites.geo_db, registry_table(), 6);
}

TEST_CASE("tallies: status --recount gives up on a table a writer holds past status.timeout") {
    TwoSitesFixture sites("status: {timeout: 1s}\n");
    sites.geo_db.exec("INSERT INTO cool_widget_registry (cool_widget_id, created_at) VALUES (1, now())");
    pqxx::connection writer(sites.geo_db.conninfo());
    // Were the recount to wait for ever, the writer's end would let it go on (and this fail).
    pqxx::nontransaction(writer).exec("SET idle_in_transaction_session_timeout = '30s'");
    pqxx::work open_change(writer);
    open_change.exec("UPDATE cool_widget_registry SET state = 2");
    RunResult recount = sites.secondary_run({"status", "--recount"});
    check_one_line_error(recount, 4, "lock timeout");
    open_change.commit();
    check_agree(sites.geo_db, registry_table(), 1);
}

TEST_CASE("tallies: a fold leaves one row per table and state and loses nothing, beside writers") {
    TwoSitesFixture sites;
    for (int i = 0; i < 50; ++i)
        sites.geo_db.exec("INSERT INTO cool_widget_registry (cool_widget_id, created_at, state) VALUES (" +
                          std::to_string(i + 1) + ", now(), " + std::to_string(i % 4) + ")");
    CHECK(tally_rows(sites.geo_db) == 50);
    // A writer's changes that are not committed yet are neither folded nor lost.
    pqxx::connection writer(sites.geo_db.conninfo());
    pqxx::work open_change(writer);
    open_change.exec("UPDATE cool_widget_registry SET state = 2 WHERE cool_widget_id <= 10");
    geo_ssf::fold_tallies(sites.geo_db.connection());
    CHECK(tally_rows(sites.geo_db) == 4);
    open_change.commit();
    check_agree(sites.geo_db, registry_table(), 50);

    // Folds over and over while two writers change states and add rows.
    std::atomic<bool> failed{false};
    auto write = [&](int first) {
        try {
            pqxx::connection db(sites.geo_db.conninfo());
            for (int i = 0; i < 100; ++i) {
                pqxx::work tx(db);
                tx.exec("INSERT INTO cool_widget_registry (cool_widget_id, created_at, state) VALUES (" +
                        std::to_string(first + i) + ", now(), 1)");
                tx.exec("UPDATE cool_widget_registry SET state = (state + 1) % 4 WHERE cool_widget_id = " +
                        std::to_string(1 + (first + i) % 50));
                tx.commit();
            }
        } catch (const std::exception& e) {
            failed = true;
            MESSAGE(e.what());
        }
    };
    std::thread one(write, 1000), two(write, 2000);
    pqxx::connection folder(sites.geo_db.conninfo());
    for (int i = 0; i < 30; ++i)
        geo_ssf::fold_tallies(folder);
    one.join();
    two.join();
    CHECK_FALSE(failed);
    check_agree(sites.geo_db, registry_table(), 250);
    geo_ssf::fold_tallies(folder);
    CHECK(tally_rows(sites.geo_db) <= 4);
    check_agree(sites.geo_db, registry_table(), 250);
}

TEST_CASE("tallies: a truncate while the tallies are folded leaves none behind") {
    TwoSitesFixture sites;
    for (int i = 0; i < 5; ++i)
        sites.geo_db.exec("INSERT INTO cool_widget_registry (cool_widget_id, created_at) VALUES (" +
                          std::to_string(i + 1) + ", now())");
    // A fold half done: its lock taken, the rows of differences replaced, not committed yet.
    pqxx::connection folder(sites.geo_db.conninfo());
    pqxx::work fold(folder);
    fold.exec("LOCK TABLE geo_ssf_tallies IN SHARE UPDATE EXCLUSIVE MODE");
    fold.exec("WITH folded AS (DELETE FROM geo_ssf_tallies RETURNING *) INSERT INTO geo_ssf_tallies "
              "SELECT table_name, state, verification_state, sum(records), sum(id_hash_sum) FROM folded "
              "GROUP BY 1, 2, 3");
    pqxx::connection truncator(sites.geo_db.conninfo());
    std::thread truncate([&] { pqxx::nontransaction(truncator).exec("TRUNCATE cool_widget_registry"); });
    // Commit the fold only once the truncate waits for it.
    for (int i = 0; i < 600 && sites.geo_db.scalar("SELECT count(*) FROM pg_locks WHERE NOT granted") == "0"; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    CHECK(sites.geo_db.scalar("SELECT count(*) FROM pg_locks WHERE NOT granted") != "0");
    fold.commit();
    truncate.join();
    CHECK(tally_rows(sites.geo_db) == 0);
    check_agree(sites.geo_db, registry_table(), 0);
}

TEST_CASE("tallies: check finds tallies that went wrong, status --recount puts them right") {
    TwoSitesFixture sites;
    sites.main_db.exec("INSERT INTO cool_widgets (id) SELECT generate_series(1, 20)");
    sites.geo_db.exec("INSERT INTO cool_widget_registry (cool_widget_id, created_at, state) "
                      "SELECT g, now(), 2 FROM generate_series(1, 10) g");
    RunResult good = sites.secondary_run({"check"});
    CAPTURE(good.out);
    CHECK(good.status == 0);
    CHECK(good.out.find("passed  tallies of cool_widget_registry agree with its rows: 10 rows") != std::string::npos);

    // Rows restored with the triggers off (as pg_restore --disable-triggers does).
    sites.geo_db.exec("SET session_replication_role = replica; "
                      "INSERT INTO cool_widget_registry (cool_widget_id, created_at, state) "
                      "SELECT g, now(), 3 FROM generate_series(11, 15) g; SET session_replication_role = origin");
    RunResult wrong = sites.secondary_run({"check"});
    CAPTURE(wrong.out);
    CHECK(wrong.status == 1);
    CHECK(wrong.out.find("FAILED  tallies of cool_widget_registry agree with its rows: state 3, verification_state "
                         "0: 0 rows tallied, 5 in the table (run geo-ssf status --recount)") != std::string::npos);

    RunResult recounted = sites.secondary_run({"-v", "status", "--recount", "--format", "json"});
    CAPTURE(recounted.err);
    REQUIRE(recounted.status == 1);  // five records failed to sync
    CHECK(recounted.err.find("cool_widget: recounted 15 rows of cool_widget_registry") != std::string::npos);
    CHECK(failed_count(recounted) == 5);
    check_agree(sites.geo_db, registry_table(), 15);
    CHECK(sites.secondary_run({"check"}).status == 0);

    // A table without tally triggers is counted from its rows; --recount says so and goes on.
    sites.geo_db.exec("DROP TRIGGER geo_ssf_tally_insert ON cool_widget_registry");
    CHECK_FALSE(read_both(sites.geo_db, registry_table()).stored.has_value());
    RunResult untallied = sites.secondary_run({"status", "--recount", "--format", "json"});
    CHECK(untallied.status == 1);  // five records failed to sync
    CHECK(untallied.err.find("cool_widget_registry has no tally triggers") != std::string::npos);
    CHECK(failed_count(untallied) == 5);
    RunResult checked = sites.secondary_run({"check"});
    CHECK(checked.status == 0);
    CHECK(checked.out.find("passed  tallies of cool_widget_registry agree with its rows: no tally triggers") !=
          std::string::npos);

    // On a primary, the states table.
    sites.main_db.exec("INSERT INTO cool_widget_states (cool_widget_id, verification_state) SELECT g, 2 "
                       "FROM generate_series(1, 20) g");
    sites.main_db.exec("DELETE FROM geo_ssf_tallies");
    RunResult primary_wrong = sites.primary_run({"check"});
    CHECK(primary_wrong.status == 1);
    CHECK(primary_wrong.out.find("FAILED  tallies of cool_widget_states agree with its rows: verification_state 2: "
                                 "0 rows tallied, 20 in the table") != std::string::npos);
    CHECK(sites.primary_run({"status", "--recount"}).status == 0);
    check_agree(sites.main_db, states_table(), 20);
}

}
