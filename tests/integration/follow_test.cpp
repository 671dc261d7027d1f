// geo-ssf follow: both sites follow each push as its event is committed, the secondary reading
// the primary's database directly (notified) and through a hot standby (polling it); with cron
// runs working the same rows; through lost and rebuilt databases, SIGTERM, kill -9 and SIGHUP.
#include "exposition.hpp"
#include "secondary_fixture.hpp"
#include "servers.hpp"

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <csignal>
#include <functional>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

using namespace geo_ssf::test;
using nlohmann::json;

namespace {

using Clock = std::chrono::steady_clock;

// Waits until CONDITION holds, saying every minute what it still waits for.
void wait_until(const std::function<bool()>& condition, const std::string& what) {
    auto said = Clock::now();
    while (!condition()) {
        if (Clock::now() - said > std::chrono::minutes(1)) {
            std::cerr << "follow tests: still waiting for " << what << "\n";
            said = Clock::now();
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

// A primary and a secondary whose configurations have a follow section; passes once an hour
// unless asked otherwise, so that the changes are seen to be followed, not found by a pass.
struct FollowSites : SecondaryFixture {
    explicit FollowSites(const std::string& follow = "follow: {poll_interval: 100ms, pass_interval: 1h}\n") {
        write_file(config, read_file(config) + follow);
        write_file(secondary_config, read_file(secondary_config) + follow);
    }

    std::unique_ptr<BackgroundRun> follow_primary(std::vector<std::string> args = {}) {
        args.insert(args.begin(), {"-c", config.string(), "-v", "follow"});
        return std::make_unique<BackgroundRun>(args);
    }
    std::unique_ptr<BackgroundRun> follow_secondary(std::vector<std::string> args = {}) {
        args.insert(args.begin(), {"-c", secondary_config.string(), "-v", "follow"});
        return std::make_unique<BackgroundRun>(args);
    }

    // The checksum of record ID's repository on the primary, as git lists its refs.
    std::string primary_checksum(long long id) { return show_ref_checksum(repository(id)); }

    bool checksummed(long long id, const std::string& checksum) {
        return main_db.scalar("SELECT verification_state = 2 AND encode(verification_checksum, 'hex') = '" + checksum +
                              "' FROM cool_widget_states WHERE cool_widget_id = " + std::to_string(id)) == "t";
    }
    bool verified(long long id, const std::string& checksum) {
        return geo_db.scalar("SELECT state = 2 AND verification_state = 2 AND "
                             "encode(verification_checksum, 'hex') = '" + checksum +
                             "' FROM cool_widget_registry WHERE cool_widget_id = " + std::to_string(id)) == "t";
    }
    void wait_until_verified(long long id) {
        std::string checksum = primary_checksum(id);
        wait_until([&] { return verified(id, checksum); }, "cool_widget " + std::to_string(id) + " verified");
    }

    // A push to the primary's repository of record ID, and its hook's event.
    void push(long long id) {
        SecondaryFixture::push(id);
        RunResult event = run({"event", "cool_widget", "updated", std::to_string(id)});
        REQUIRE_MESSAGE(event.status == 0, event.err);
    }

    long long started_rows() {
        return std::stoll(main_db.scalar("SELECT count(*) FROM cool_widget_states WHERE verification_state = 1")) +
               std::stoll(geo_db.scalar("SELECT count(*) FROM cool_widget_registry WHERE state = 1 "
                                        "OR verification_state = 1"));
    }
};

// Stops RUN with SIGTERM and returns what it did; it must end with exit status 0.
RunResult stop(BackgroundRun& run) {
    run.signal(SIGTERM);
    RunResult r = run.wait();
    CHECK_MESSAGE(r.status == 0, r.err);
    return r;
}

}  // namespace

TEST_SUITE("follow") {

TEST_CASE("follow: a push is checksummed on the primary, replayed, synced and verified on the secondary; "
          "lags recorded") {
    FollowSites site;
    site.add_records(1, 3);
    auto primary = site.follow_primary({"--metrics-file", (site.dir / "primary.prom").string()});
    wait_until([&] { return site.count("verification_state = 2") == 3; }, "the primary's first pass");
    auto secondary = site.follow_secondary({"--metrics-file", (site.dir / "secondary.prom").string()});
    for (long long id : {1, 2, 3})
        site.wait_until_verified(id);
    secondary->wait_for_err("notified by databases.main");

    // Pushes to two records: each checksummed, replayed, fetched and verified, with no pass.
    site.push(2);
    site.push(3);
    std::string checksum = site.primary_checksum(2);
    wait_until([&] { return site.checksummed(2, checksum); }, "the primary's checksum of the push");
    site.wait_until_verified(2);
    site.wait_until_verified(3);
    CHECK(site.main_db.scalar("SELECT count(*) FROM geo_events WHERE event_name = 'checksum_succeeded' "
                              "AND payload->>'model_record_id' = '2'") == "2");

    // Each change's lag: from its event to the copy synced, and to the copy verified.
    auto lag = site.geo_db.exec("SELECT unsynced_since IS NULL, unverified_since IS NULL, sync_lag_seconds >= 0, "
                                "verification_lag_seconds >= sync_lag_seconds FROM geo_ssf_changes "
                                "WHERE registry_table = 'cool_widget_registry' AND record_id = 2");
    REQUIRE(lag.size() == 1);
    for (int column = 0; column < 4; ++column)
        CHECK(lag[0][column].as<bool>());
    CHECK(site.geo_db.scalar("SELECT sum(samples) FROM geo_ssf_lag_histogram WHERE stage = 'verified'") == "2");

    RunResult status = site.secondary({"status", "--format", "json"});
    REQUIRE_MESSAGE(status.status == 0, status.err);
    json type = json::parse(status.out)["replicables"][0];
    CHECK(type["cool_widgets_last_change_sync_lag_seconds"].is_number());
    CHECK(type["cool_widgets_last_change_verification_lag_seconds"].is_number());
    CHECK(type["cool_widgets_oldest_unsynced_change_age_seconds"].is_null());
    CHECK(type["cool_widgets_oldest_unverified_change_age_seconds"].is_null());
    RunResult table = site.secondary({"status"});
    CHECK(table.out.find("  Oldest change pending  none\n") != std::string::npos);
    CHECK(table.out.find("  Last change            synced ") != std::string::npos);
    RunResult prometheus = site.secondary({"status", "--format", "prometheus"});
    Exposition gauges = parse_exposition(prometheus.out);
    CHECK(gauges.errors.empty());
    CHECK(prometheus.out.find("geo_ssf_oldest_pending_change_age_seconds{site=\"secondary\",type=\"cool_widget\","
                              "stage=\"verified\"} 0\n") != std::string::npos);

    // The metrics files: the follow mode's counters, its passes and the lag histograms.
    wait_until([&] { return read_file(site.dir / "secondary.prom").find("stage=\"verified\",le=\"+Inf\"} 2\n") !=
                            std::string::npos; },
               "the secondary's metrics file");
    std::string metrics = read_file(site.dir / "secondary.prom");
    Exposition exposition = parse_exposition(metrics);
    CHECK_MESSAGE(exposition.errors.empty(), (exposition.errors.empty() ? std::string() : exposition.errors[0]));
    for (const char* name : {"geo_ssf_run_last_start_timestamp_seconds", "geo_ssf_follow_records_total",
                             "geo_ssf_follow_events_total", "geo_ssf_replication_lag_seconds_bucket",
                             "geo_ssf_replication_lag_seconds_count"})
        CHECK_MESSAGE(metrics.find(name) != std::string::npos, name);
    CHECK(read_file(site.dir / "primary.prom")
              .find("geo_ssf_follow_records_total{site=\"primary-site\",command=\"follow\",type=\"cool_widget\","
                    "work=\"verification\",outcome=\"succeeded\"}") != std::string::npos);

    stop(*secondary);
    stop(*primary);
    CHECK(site.started_rows() == 0);
}

TEST_CASE("follow: a secondary reading a hot standby polls it, and follows it through a restart and a rebuild") {
    FollowSites site;
    site.add_records(1, 2);
    StandbyServer standby;
    std::string text = read_file(site.secondary_config);
    std::string direct = "main: \"" + site.main_db.conninfo() + " ";
    REQUIRE(text.find(direct) != std::string::npos);
    text.replace(text.find(direct), direct.size(), "main: \"" + standby.conninfo(site.main_db.name()) + " ");
    write_file(site.secondary_config, text);

    auto primary = site.follow_primary();
    auto secondary = site.follow_secondary();
    secondary->wait_for_err("databases.main is a standby, asked every 100ms");
    site.wait_until_verified(1);
    site.push(1);
    site.wait_until_verified(1);

    // A restart of the standby ends the secondary's connections to it: connected again.
    standby.restart();
    site.push(2);
    site.wait_until_verified(2);
    secondary->wait_for_err("connected again; following the changes");

    // A standby made anew from a base backup, on the same port: the secondary waits for it, one
    // line at each attempt, and goes on where its tracking database says it stood.
    standby.rebuild([&] { secondary->wait_for_err("; connecting again in 2s"); });
    site.push(1);
    site.wait_until_verified(1);

    RunResult r = stop(*secondary);
    CHECK(r.err.find("lost the connection to the main database") != std::string::npos);
    stop(*primary);
    CHECK(site.started_rows() == 0);
}

TEST_CASE("follow: a lost connection to each database is connected again, with one line each time") {
    FollowSites site;
    site.add_records(1, 1);
    auto primary = site.follow_primary();
    auto secondary = site.follow_secondary();
    site.wait_until_verified(1);
    // What a restart of the server does to a client: its sessions end.
    for (TestDatabase* db : {&site.main_db, &site.geo_db})
        db->exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'geo-ssf' "
                 "AND datname = '" + db->name() + "'");
    site.push(1);
    site.wait_until_verified(1);
    primary->wait_for_err("connected again; following the changes");
    secondary->wait_for_err("connected again; following the changes");
    RunResult r = stop(*secondary);
    CHECK(r.err.find("; connecting again in 1s") != std::string::npos);
    stop(*primary);
}

TEST_CASE("follow: cron runs on other hosts at the same time: each change is checksummed once") {
    FollowSites site;
    site.add_records(1, 6);
    auto primary = site.follow_primary();
    auto secondary = site.follow_secondary();
    std::atomic<bool> done{false};
    // Runs as cron would start them, on other hosts, as fast as they go.
    std::vector<std::thread> cron;
    using Args = std::vector<std::string>;
    for (const Args& args : {Args{"-c", site.config.string(), "-q", "verify"},
                             Args{"-c", site.secondary_config.string(), "-q", "sync"},
                             Args{"-c", site.secondary_config.string(), "-q", "verify"}})
        cron.emplace_back([&done, args] {
            while (!done) {
                RunResult r = run_geo_ssf(args);
                CHECK_MESSAGE(r.status == 0, r.err);
            }
        });
    for (long long id = 1; id <= 6; ++id)
        site.wait_until_verified(id);
    const int rounds = 3;
    for (int round = 0; round < rounds; ++round) {
        for (long long id = 1; id <= 6; ++id)
            site.push(id);
        for (long long id = 1; id <= 6; ++id)
            site.wait_until_verified(id);
    }
    done = true;
    for (auto& t : cron)
        t.join();
    // One checksum for the first pass and one per push: none twice.
    for (long long id = 1; id <= 6; ++id)
        CHECK(site.main_db.scalar("SELECT count(*) FROM geo_events WHERE event_name = 'checksum_succeeded' "
                                  "AND payload->>'model_record_id' = '" + std::to_string(id) + "'") ==
              std::to_string(rounds + 1));
    stop(*secondary);
    stop(*primary);
    CHECK(site.started_rows() == 0);
}

TEST_CASE("follow: SIGTERM during a fetch leaves nothing started; after kill -9 the next follow finishes the work") {
    // A primary behind ssh whose git-upload-pack waits 2 seconds: fetches are caught under way.
    FollowSites site;
    SshServer ssh(site.dir / "ssh", "2");
    std::string text = read_file(site.secondary_config);
    text = text.substr(0, text.find("storage:")) + "storage:\n  root: secondary-repositories\n  primary_url: \"" +
           ssh.url_base() + site.storage.string() + "\"\n  ssh_key: \"" + ssh.user_key().string() +
           "\"\n  ssh_known_hosts: \"" + ssh.known_hosts().string() + "\"\n" + text.substr(text.find("follow:"));
    write_file(site.secondary_config, text);
    site.add_records(1, 4);
    RunResult verified = site.run({"verify"});
    REQUIRE_MESSAGE(verified.status == 0, verified.err);

    auto fetching = [&] { return site.registry_count("state = 1") > 0; };
    auto first = site.follow_secondary();
    wait_until(fetching, "a fetch under way");
    stop(*first);
    CHECK(site.started_rows() == 0);

    auto second = site.follow_secondary();
    wait_until(fetching, "a fetch under way");
    second->signal(SIGKILL);
    CHECK(second->wait().status == 128 + SIGKILL);
    site.geo_db.wait_for_geo_ssf_connections_to_end();
    CHECK(site.started_rows() > 0);  // what the killed process held

    auto third = site.follow_secondary();
    for (long long id = 1; id <= 4; ++id)
        site.wait_until_verified(id);
    stop(*third);
    CHECK(site.started_rows() == 0);
}

TEST_CASE("follow: a primary stopped by SIGTERM mid-pass leaves nothing started; after kill -9 the next follow "
          "checksums what was left and what was pushed meanwhile") {
    // One record at a time, so that a pass over 150 records is caught under way.
    FollowSites site("follow: {poll_interval: 100ms, pass_interval: 1h}\nverification: {batch_size: 1, jobs: 1}\n");
    site.add_records(1, 150);
    auto in_pass = [&] { return site.count("verification_state = 2") > 0; };

    auto first = site.follow_primary();
    wait_until(in_pass, "the first pass under way");
    stop(*first);
    CHECK(site.count("verification_state = 1") == 0);

    auto second = site.follow_primary();
    second->wait_for_err("notified by databases.main");  // then its first pass, over what is left
    second->signal(SIGKILL);
    CHECK(second->wait().status == 128 + SIGKILL);
    site.main_db.wait_for_geo_ssf_connections_to_end();

    // Pushed while no follow runs: its event notifies nobody; the next follow's pass takes it.
    site.push(150);
    std::string pushed = site.primary_checksum(150);
    auto third = site.follow_primary();
    wait_until([&] { return site.count("verification_state = 2") == 150 && site.checksummed(150, pushed); },
               "every record checksummed");
    stop(*third);
    CHECK(site.count("verification_state <> 2") == 0);
}

TEST_CASE("follow: SIGHUP reloads the configuration; one that does not load leaves the one before") {
    FollowSites site;
    site.add_records(1, 1);
    auto secondary = site.follow_secondary();
    auto primary = site.follow_primary();
    site.wait_until_verified(1);
    std::string good = read_file(site.secondary_config);
    write_file(site.secondary_config, good + "nonsense: [\n");
    secondary->signal(SIGHUP);
    secondary->wait_for_err("the configuration was not reloaded, the one loaded before stays");
    write_file(site.secondary_config, good);
    secondary->signal(SIGHUP);
    secondary->wait_for_err("configuration reloaded from " + site.secondary_config.string());
    site.push(1);
    site.wait_until_verified(1);
    stop(*secondary);
    stop(*primary);
}

}  // TEST_SUITE
