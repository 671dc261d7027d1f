// Primary verification: checksums recorded, failures with reasons and backoff, events,
// re-verification, and the runs' reliability under signals, kills and concurrency.
#include "primary_fixture.hpp"

#include <nlohmann/json.hpp>

#include <csignal>
#include <thread>

using namespace geo_ssf::test;

TEST_SUITE("verify") {

TEST_CASE("verify: checksums every record, stores it as GitLab does, and publishes checksum_succeeded") {
    PrimaryFixture site;
    site.add_records(1, 12);
    RunResult r = site.run({"verify"});
    CAPTURE(r.err);
    CHECK(r.status == 0);
    CHECK(r.out.starts_with("verify: 12 claimed, 12 succeeded, 0 failed; cool_widget: 12 claimed, 12 succeeded, 0 "
                            "failed; took "));
    CHECK(r.out.ends_with(" s\n"));
    CHECK(site.count("verification_state = 2") == 12);
    CHECK(tallies_folded(site.main_db));
    for (long long id : {1LL, 7LL, 12LL}) {
        CAPTURE(id);
        std::string expected = show_ref_checksum(site.repository(id));
        CHECK(site.state_of(id, "encode(verification_checksum, 'hex')") == expected);
        CHECK(site.state_of(id, "verified_at IS NOT NULL") == "true");
        CHECK(site.state_of(id, "verification_failure") == "");
        CHECK(site.state_of(id, "verification_retry_count") == "0");
    }
    CHECK(site.main_db.scalar("SELECT count(DISTINCT payload->>'model_record_id') FROM geo_events "
                              "WHERE event_name = 'checksum_succeeded' AND replicable_name = 'cool_widget'") == "12");
    // Nothing is due any more.
    RunResult again = site.run({"verify", "--format", "json"});
    CHECK(again.status == 0);
    auto json = nlohmann::json::parse(again.out);
    CHECK(json["claimed"] == 0);
    CHECK(json["replicables"][0]["name"] == "cool_widget");
}

TEST_CASE("verify: broken repositories fail with their reason and a retry time; the batch goes on") {
    PrimaryFixture site;
    site.add_records(1, 6);
    // 2: an object a ref points at is gone.
    shell("cd '" + site.repository(2).string() + "' && rm -rf objects/pack objects/??");
    // 3: packed-refs is garbage.
    write_file(site.repository(3) / "packed-refs", "this is not a packed-refs file\n");
    // 4: no repository at all.
    std::filesystem::remove_all(site.repository(4));
    // 5: not a git repository.
    std::filesystem::remove_all(site.repository(5));
    write_file(site.repository(5) / "README", "hello\n");

    RunResult r = site.run({"verify", "--batch-size", "2", "--format", "json"});
    CHECK(r.status == 1);
    auto json = nlohmann::json::parse(r.out);
    CHECK(json["claimed"] == 6);
    CHECK(json["succeeded"] == 2);
    CHECK(json["failed"] == 4);
    for (long long id : {2LL, 3LL, 4LL, 5LL}) {
        CAPTURE(id);
        CHECK(site.state_of(id, "verification_state") == "3");
        CHECK(site.state_of(id, "verification_failure").rfind("Error during verification: ", 0) == 0);
        CHECK(site.state_of(id, "verification_checksum IS NULL") == "true");
        CHECK(site.state_of(id, "verification_retry_count") == "1");
        CHECK(site.state_of(id, "verification_retry_at BETWEEN now() + interval '15 seconds' "
                                "AND now() + interval '75 seconds'") == "true");
    }
    CHECK(site.state_of(4, "verification_failure") == "Error during verification: repository does not exist");
    CHECK(site.state_of(5, "verification_failure") == "Error during verification: repository does not exist");
    CHECK(site.state_of(1, "verification_state") == "2");
    CHECK(site.state_of(6, "verification_state") == "2");
    CHECK(r.err.find("cool_widget 4: Error during verification: repository does not exist") != std::string::npos);

    // Not due yet: the next run leaves them alone.
    RunResult early = site.run({"verify", "--format", "json"});
    CHECK(nlohmann::json::parse(early.out)["claimed"] == 0);

    // Repaired, and due: the next run verifies it and clears the failure.
    std::filesystem::remove_all(site.repository(4));
    site.repositories.create(site.storage, "cool_widgets/4.git", 4);
    site.main_db.exec("UPDATE cool_widget_states SET verification_retry_at = now() - interval '1 second'");
    RunResult retried = site.run({"verify", "--format", "json"});
    auto retried_json = nlohmann::json::parse(retried.out);
    CHECK(retried_json["claimed"] == 4);
    CHECK(retried_json["succeeded"] == 1);
    CHECK(site.state_of(4, "verification_state") == "2");
    CHECK(site.state_of(4, "verification_failure") == "");
    CHECK(site.state_of(4, "verification_retry_count") == "0");
    CHECK(site.state_of(2, "verification_retry_count") == "2");
}

TEST_CASE("verify: a cron run logs its first ten failures as errors, then says how many more and how to list them") {
    PrimaryFixture site;
    site.main_db.exec("INSERT INTO cool_widgets (id) SELECT generate_series(1, 13)");  // no repositories
    auto warnings = [](const std::string& err) {
        size_t n = 0;
        for (size_t at = err.find(": Error during verification:"); at != std::string::npos;
             at = err.find(": Error during verification:", at + 1))
            ++n;
        return n;
    };
    RunResult quiet = site.run({"-q", "verify"});  // as the timer and cron.d run it
    CHECK(quiet.status == 1);
    CHECK(warnings(quiet.err) == 10);
    CHECK(quiet.err.find("geo-ssf: error: cool_widget 1: Error during verification: ") != std::string::npos);
    CHECK(quiet.err.find("(repository " + site.repository(1).string() + ")") != std::string::npos);
    CHECK(quiet.err.find("geo-ssf: error: cool_widget: and 3 more failures: geo-ssf list cool_widget "
                         "--verification-state failed") != std::string::npos);
    site.main_db.exec("UPDATE cool_widget_states SET verification_state = 0");
    RunResult plain = site.run({"verify"});
    CHECK(warnings(plain.err) == 10);
    site.main_db.exec("UPDATE cool_widget_states SET verification_state = 0");
    RunResult verbose = site.run({"-v", "verify"});
    CHECK(warnings(verbose.err) == 13);
    CHECK(verbose.err.find("more failures") == std::string::npos);
}

TEST_CASE("verify: a path that leads out of the storage root is refused") {
    PrimaryFixture site;
    site.add_records(1, 2);
    TempDir outside;
    site.repositories.create(outside.path(), "elsewhere.git", 2);
    std::filesystem::remove_all(site.repository(2));
    std::filesystem::create_directory_symlink(outside / "elsewhere.git", site.repository(2));
    RunResult r = site.run({"verify"});
    CHECK(r.status == 1);
    CHECK(site.state_of(2, "verification_state") == "3");
    CHECK(site.state_of(2, "verification_failure").find("outside the storage root") != std::string::npos);
}

TEST_CASE("verify: records out of scope get no state row, and leaving the scope removes it") {
    PrimaryFixture site;
    site.add_records(1, 4);
    site.main_db.exec("UPDATE cool_widgets SET name = 'skip' WHERE id IN (2, 3)");
    auto def = site.dir / "replicables/cool_widget.yml";
    std::string text = read_file(def);
    text.replace(text.find("scope: \"\""), 9, "scope: \"name IS DISTINCT FROM 'skip'\"");
    write_file(def, text);
    CHECK(site.run({"verify"}).status == 0);
    CHECK(site.count("true") == 2);
    site.main_db.exec("UPDATE cool_widgets SET name = 'skip' WHERE id = 1");
    CHECK(site.run({"verify"}).status == 0);
    CHECK(site.count("true") == 1);
    CHECK(site.state_of(4, "verification_state") == "2");
}

TEST_CASE("verify: a scope over the model's own columns, unqualified, id included") {
    PrimaryFixture site;
    site.add_records(1, 4);
    auto def = site.dir / "replicables/cool_widget.yml";
    std::string text = read_file(def);
    auto set_scope = [&](const std::string& scope) {
        std::string changed = text;
        changed.replace(changed.find("scope: \"\""), 9, "scope: \"" + scope + "\"");
        write_file(def, changed);
    };
    set_scope("id <> 2");
    RunResult first = site.run({"verify"});
    CAPTURE(first.err);
    CHECK(first.status == 0);
    CHECK(site.count("true") == 3);
    set_scope("id <> 2 AND id <> 3");  // record 3 leaves the scope: its state row goes
    RunResult second = site.run({"verify"});
    CAPTURE(second.err);
    CHECK(second.status == 0);
    CHECK(site.count("true") == 2);
    CHECK(site.count("cool_widget_id = 3") == 0);
    CHECK(site.run({"status"}).status == 0);
    CHECK(site.run({"reverify", "cool_widget", "--all"}).status == 0);
}

TEST_CASE("verify: succeeded rows are verified again after the re-verification interval") {
    PrimaryFixture site("verification: {reverification_interval: 1d}\n");
    site.add_records(1, 3);
    REQUIRE(site.run({"verify"}).status == 0);
    site.main_db.exec("UPDATE cool_widget_states SET verified_at = now() - interval '2 days' WHERE cool_widget_id = 2");
    auto r = nlohmann::json::parse(site.run({"verify", "--format", "json"}).out);
    CHECK(r["claimed"] == 1);
    CHECK(site.state_of(2, "verified_at > now() - interval '1 hour'") == "true");
}

TEST_CASE("verify: a record re-requested while it is checksummed goes back to pending") {
    PrimaryFixture site;
    site.add_records(1, 1);
    // A run that claimed the row and is still working on it: its claim time, with its lock held.
    auto& run = site.main_db.connection();
    std::string claim_time = site.main_db.scalar("SELECT clock_timestamp()::text");
    site.main_db.exec("SELECT pg_advisory_lock((extract(epoch FROM '" + claim_time + "'::timestamptz) * 1000000)::bigint)");
    (void)run;
    site.main_db.exec("INSERT INTO cool_widget_states (cool_widget_id, verification_state, verification_started_at) "
                      "VALUES (1, 1, '" + claim_time + "')");
    // The post-receive hook fires meanwhile.
    RunResult event = site.run({"event", "cool_widget", "updated", "1"});
    CHECK(event.status == 0);
    CHECK(site.state_of(1, "verification_state") == "0");
    // Another run checksums it from pending; the first run's late result cannot overwrite it.
    RunResult r = site.run({"verify"});
    CHECK(r.status == 0);
    CHECK(site.state_of(1, "verification_state") == "2");
}

TEST_CASE("verify: a run killed with SIGKILL at any moment leaves nothing the next run cannot finish at once") {
    for (long long threshold : {1LL, 60LL}) {
        CAPTURE(threshold);
        PrimaryFixture site;
        site.add_records(1, 150);
        BackgroundRun run({"-c", site.config.string(), "verify", "--batch-size", "1", "--jobs", "1"});
        // Wait until the run is demonstrably in the middle of its work, then kill it.
        while (site.count("verification_state = 2") < threshold)
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        run.signal(SIGKILL);
        RunResult killed = run.wait();
        CHECK(killed.status == 128 + SIGKILL);
        site.main_db.wait_for_geo_ssf_connections_to_end();
        long long started = site.count("verification_state = 1");
        long long done_before = site.count("verification_state = 2");

        RunResult next = site.run({"verify", "--format", "json"});
        CAPTURE(next.err);
        CHECK(next.status == 0);
        auto json = nlohmann::json::parse(next.out);
        CHECK(json["replicables"][0]["released"] == started);
        CHECK(json["claimed"] == 150 - done_before);
        CHECK(site.count("verification_state = 2") == 150);
        CHECK(site.count("verification_state <> 2") == 0);
    }
}

TEST_CASE("verify: SIGTERM stops claiming, records or releases what was claimed, and exits 0") {
    PrimaryFixture site;
    site.add_records(1, 200);
    BackgroundRun run({"-c", site.config.string(), "verify", "--batch-size", "20", "--jobs", "1"});
    while (site.count("verification_state = 2") < 20)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    run.signal(SIGTERM);
    RunResult stopped = run.wait();
    CAPTURE(stopped.err);
    CHECK(stopped.status == 0);
    CHECK(site.count("verification_state = 1") == 0);
    long long done = site.count("verification_state = 2");
    CHECK(done < 200);
    CHECK(site.count("verification_state = 0") == 200 - done);
}

TEST_CASE("verify: four runs at once checksum every record exactly once") {
    PrimaryFixture site;
    site.add_records(1, 200);
    // The state rows exist before the runs start, so that all four compete for the same rows.
    site.main_db.exec("INSERT INTO cool_widget_states (cool_widget_id) SELECT id FROM cool_widgets");
    std::vector<RunResult> results(4);
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i)
        threads.emplace_back([&, i] {
            results[i] = site.run({"verify", "--batch-size", "3", "--jobs", "2", "--format", "json"});
        });
    for (auto& t : threads)
        t.join();
    long long claimed = 0;
    for (const auto& r : results) {
        CAPTURE(r.err);
        CHECK(r.status == 0);
        claimed += nlohmann::json::parse(r.out)["claimed"].get<long long>();
    }
    CHECK(claimed == 200);
    CHECK(site.count("verification_state = 2") == 200);
    CHECK(site.main_db.scalar("SELECT count(*) FROM geo_events WHERE event_name = 'checksum_succeeded'") == "200");
    CHECK(site.main_db.scalar("SELECT count(DISTINCT payload->>'model_record_id') FROM geo_events") == "200");
}

TEST_CASE("verify: the database going away mid-run is exit 4, and the next run completes the work") {
    PrimaryFixture site;
    site.add_records(1, 150);
    BackgroundRun run({"-c", site.config.string(), "verify", "--batch-size", "1", "--jobs", "1"});
    while (site.count("verification_state = 2") < 10)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    site.main_db.exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'geo-ssf' "
                      "AND datname = current_database()");
    RunResult lost = run.wait();
    CAPTURE(lost.err);
    CHECK_MESSAGE(lost.status == 4, lost.err);
    CHECK(lost.err.rfind("geo-ssf: error: lost the connection to the main database (databases.main, database " +
                         site.main_db.name() + "): ", 0) == 0);
    CHECK(lost.out.empty());
    RunResult next = site.run({"verify"});
    CHECK(next.status == 0);
    CHECK(site.count("verification_state = 2") == 150);
}

TEST_CASE("verify: the connection lost while reading where repositories are is exit 4, and the next run completes the work") {
    PrimaryFixture site;
    site.add_records(1, 50);
    BackgroundRun run({"-c", site.config.string(), "verify", "--batch-size", "1", "--jobs", "1"});
    while (site.count("verification_state = 2") < 5)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    // The run's next read of the records waits behind this lock, and its connection is ended there.
    pqxx::connection locker(site.main_db.conninfo());
    pqxx::work lock(locker);
    lock.exec("LOCK TABLE cool_widgets IN ACCESS EXCLUSIVE MODE");
    const std::string waiting = "FROM pg_stat_activity WHERE application_name = 'geo-ssf' AND wait_event_type = 'Lock' "
                                "AND datname = current_database()";
    while (site.main_db.scalar("SELECT count(*) " + waiting) == "0")
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    CHECK(site.main_db.scalar("SELECT query " + waiting).find("FROM cool_widgets m") != std::string::npos);
    site.main_db.exec("SELECT pg_terminate_backend(pid) " + waiting);
    lock.abort();
    RunResult lost = run.wait();
    CAPTURE(lost.err);
    CHECK(lost.status == 4);
    CHECK(lost.err.find("lost the connection to the main database") != std::string::npos);
    CHECK(lost.err.find("read-only") == std::string::npos);
    RunResult next = site.run({"verify"});
    CHECK(next.status == 0);
    CHECK(site.count("verification_state = 2") == 50);
}

TEST_CASE("verify: refuses to run on an unmigrated database") {
    TempDir dir;
    TestDatabase db;
    auto config = write_config(dir.path(), "primary", db.conninfo());
    RunResult r = run_geo_ssf({"-c", config.string(), "verify"});
    CHECK(r.status == 3);
    CHECK(r.err.find("pending migration") != std::string::npos);
}

}
