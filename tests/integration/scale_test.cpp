// A cron run with nothing to do costs its work, not the size of the tables: every statement of a
// no-op run reads the states and registry tables through an index. PostgreSQL's auto_explain
// sends the plan of each statement the runs make as a notice, which geo-ssf logs with -vv; none
// may be a sequential scan of those tables, at a size where the planner prefers an index to one.
#include "secondary_fixture.hpp"

#include <doctest/doctest.h>

#include <sstream>

namespace geo_ssf::test {

namespace {

// Every statement's plan, sent to the client that made it.
RunOptions explaining() {
    RunOptions options;
    options.env["PGOPTIONS"] = "-c session_preload_libraries=auto_explain -c auto_explain.log_min_duration=0 "
                               "-c auto_explain.log_level=notice -c auto_explain.log_nested_statements=on "
                               "-c client_min_messages=notice";
    return options;
}

// Records 1..N checksummed on the primary, synced and verified on the secondary, every event
// processed, a full pass of the backfill and of registry consistency made, statistics fresh.
void seed_idle_sites(SecondaryFixture& site, long long n) {
    std::string count = std::to_string(n);
    site.main_db.exec("INSERT INTO cool_widgets (id) SELECT generate_series(1, " + count + ")");
    site.main_db.exec("INSERT INTO cool_widget_states (cool_widget_id, verification_state, verification_checksum, "
                      "verified_at) SELECT g, 2, decode(md5(g::text), 'hex'), now() FROM generate_series(1, " +
                      count + ") g");
    site.main_db.exec("INSERT INTO geo_events (replicable_name, event_name, payload, created_at) "
                      "VALUES ('cool_widget', 'created', '{\"model_record_id\": 1}', now())");
    site.geo_db.exec("INSERT INTO cool_widget_registry (cool_widget_id, created_at, last_synced_at, state, "
                     "verification_state, verification_checksum, verified_at) SELECT g, now(), now(), 2, 2, "
                     "decode(md5(g::text), 'hex'), now() FROM generate_series(1, " + count + ") g");
    site.geo_db.exec("INSERT INTO event_log_states (event_id, created_at) VALUES (" +
                     site.main_db.scalar("SELECT max(id) FROM geo_events") + ", now())");
    std::string passed = "INSERT INTO geo_ssf_cursors (name, position, passes, passed_at) VALUES ('";
    site.main_db.exec(passed + "state_backfill:cool_widget', NULL, 1, now())");
    site.geo_db.exec(passed + "registry_consistency:cool_widget', NULL, 1, now())");
    site.main_db.exec("ANALYZE");
    site.geo_db.exec("ANALYZE");
}

// The plan lines of RESULT's notices that scan TABLE sequentially, each with its statement.
std::vector<std::string> sequential_scans(const RunResult& result, const std::string& table) {
    std::vector<std::string> scans;
    std::istringstream lines(result.err);
    std::string line, query;
    while (std::getline(lines, line)) {
        if (line.rfind("Query Text: ", 0) == 0)
            query = line;
        if (line.find("Seq Scan on " + table + " ") != std::string::npos)
            scans.push_back(query + " | " + line);
    }
    return scans;
}

}  // namespace

TEST_SUITE("scale") {

TEST_CASE("scale: no-op runs read the states and registry tables through indexes only") {
    SecondaryFixture site;
    // The secondary reads the primary as the tests' superuser here: auto_explain is loaded per session.
    std::string config = read_file(site.secondary_config);
    std::string reader = " user=" + site.reader + " password=reader";
    REQUIRE(config.find(reader) != std::string::npos);
    write_file(site.secondary_config, config.replace(config.find(reader), reader.size(), "") +
                                          "sync: {consistency_batch_size: 100}\n");
    write_file(site.config, read_file(site.config) + "verification: {backfill_batch_size: 100}\n");
    seed_idle_sites(site, 20000);

    struct Run {
        const char* what;
        bool primary;
        std::vector<std::string> args;
    };
    const std::vector<Run> runs = {{"primary verify", true, {"verify"}},
                                   {"secondary sync", false, {"sync"}},
                                   {"secondary verify", false, {"verify"}},
                                   {"primary status", true, {"status"}},
                                   {"secondary status", false, {"status"}}};
    for (const auto& run : runs) {
        CAPTURE(run.what);
        std::vector<std::string> args = run.args;
        args.insert(args.begin(), "-vv");
        RunResult result = run.primary ? site.run(args, explaining()) : site.secondary(args, explaining());
        REQUIRE_MESSAGE(result.status == 0, result.err.substr(0, 4000));
        // The plans are there to be read: the check below cannot pass by seeing none.
        REQUIRE(result.err.find("Query Text: ") != std::string::npos);
        CHECK(result.err.find(run.primary ? "cool_widget_states" : "cool_widget_registry") != std::string::npos);
        for (const char* table : {"cool_widget_states", "cool_widget_registry"})
            for (const auto& scan : sequential_scans(result, table))
                FAIL_CHECK(scan);
    }

    // Without the index its sweep needs, the secondary's verify run reads the whole registry, and
    // this test says so.
    site.geo_db.exec("DROP INDEX cool_widget_registry_started_verification");
    RunResult unindexed = site.secondary({"-vv", "verify"}, explaining());
    REQUIRE(unindexed.status == 0);
    CHECK_FALSE(sequential_scans(unindexed, "cool_widget_registry").empty());
}

}  // TEST_SUITE

}  // namespace geo_ssf::test
