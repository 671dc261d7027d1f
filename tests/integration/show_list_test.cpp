// geo-ssf show and list on real databases: one record everywhere it is known, and the records
// in a given state, a page at a time.
#include "two_sites_fixture.hpp"

#include <nlohmann/json.hpp>

using namespace geo_ssf::test;
using nlohmann::json;

namespace {

json run_json(const RunResult& r) {
    CAPTURE(r.err);
    REQUIRE(r.status == 0);
    return json::parse(r.out);
}

}  // namespace

TEST_SUITE("show_list") {

TEST_CASE("show: a primary's record, its path and every column of its state row") {
    TwoSitesFixture sites;
    sites.main_db.exec("INSERT INTO cool_widgets (id, name) VALUES (42, 'x'), (43, 'y')");
    sites.main_db.exec("INSERT INTO cool_widget_states (cool_widget_id, verification_state, verification_retry_count, "
                       "verification_retry_at, verification_failure, verified_at) VALUES (42, 3, 2, "
                       "now() + interval '3 minutes 30 seconds', 'Error during verification: repository does not exist', "
                       "now() - interval '2 hours')");
    RunResult r = sites.primary_run({"show", "cool_widget", "42"});
    CAPTURE(r.out);
    CAPTURE(r.err);
    CHECK(r.status == 0);
    CHECK(r.out.find("cool_widget 42\n  repository path  cool_widgets/42.git\n  in scope         yes\n") == 0);
    CHECK(r.out.find("state (cool_widget_states)\n") != std::string::npos);
    CHECK(r.out.find("  verification_state        verification_failed (3)\n") != std::string::npos);
    CHECK(r.out.find("  verification_failure      Error during verification: repository does not exist\n") !=
          std::string::npos);
    CHECK(r.out.find("(2 hours ago)") != std::string::npos);
    CHECK(r.out.find("  next verification retry   in 3 minutes\n") != std::string::npos);
    for (const char* column : {"id", "verification_started_at", "verification_retry_at", "verified_at",
                               "cool_widget_id", "verification_retry_count", "verification_checksum"})
        CHECK(r.out.find(std::string("\n  ") + column + " ") != std::string::npos);

    json j = run_json(sites.primary_run({"show", "cool_widgets", "42", "--format", "json"}));
    CHECK(j["replicable"] == "cool_widget");
    CHECK(j["id"] == 42);
    CHECK(j["repository_path"] == "cool_widgets/42.git");
    CHECK(j["in_scope"] == true);
    CHECK(j["state"]["verification_state"] == "verification_failed");
    CHECK(j["state"]["verification_retry_count"] == 2);
    CHECK(j["state"]["cool_widget_id"] == 42);
    CHECK(j["state"]["verification_checksum"].is_null());
    // When, for a script: the retry column's time.
    CHECK(j["next_verification_retry_at"] == j["state"]["verification_retry_at"]);
    CHECK(j["next_verification_retry_at"].get<std::string>().rfind("20", 0) == 0);
    CHECK_FALSE(j.contains("registry"));

    // A record without a state row yet, and a retry that is due.
    RunResult fresh = sites.primary_run({"show", "cool_widget", "43"});
    CHECK(fresh.out.find("  no row yet: the next verify run creates it\n") != std::string::npos);
    sites.main_db.exec("UPDATE cool_widget_states SET verification_retry_at = now() - interval '1 minute'");
    json due = run_json(sites.primary_run({"show", "cool_widget", "42", "--format", "json"}));
    CHECK(due["next_verification_retry_at"] == due["state"]["verification_retry_at"]);
}

TEST_CASE("show: a secondary's registry row in hex beside the primary's checksum") {
    TwoSitesFixture sites;
    sites.main_db.exec("INSERT INTO cool_widgets (id) VALUES (7), (8)");
    sites.main_db.exec("INSERT INTO cool_widget_states (cool_widget_id, verification_state, verification_checksum, "
                       "verified_at) VALUES (7, 2, '\\xab01cd'::bytea, now()), (8, 2, '\\x00ff'::bytea, now())");
    sites.geo_db.exec("INSERT INTO cool_widget_registry (cool_widget_id, created_at, state, verification_state, "
                      "retry_count, retry_at, last_sync_failure, verification_checksum, "
                      "verification_checksum_mismatched, checksum_mismatch, verification_failure) VALUES "
                      "(7, now(), 3, 3, 4, now() + interval '2 hours 5 minutes', 'Verification failed with: mismatch', "
                      "'\\xAB02CD'::bytea, '\\xab02cd'::bytea, true, 'Checksum does not match the primary checksum'), "
                      "(8, now(), 2, 2, 0, NULL, NULL, '\\x00ff'::bytea, NULL, false, NULL), "
                      "(9, now(), 0, 4, 0, NULL, NULL, NULL, NULL, false, NULL)");
    RunResult r = sites.secondary_run({"show", "cool_widget", "7"});
    CAPTURE(r.out);
    CAPTURE(r.err);
    CHECK(r.status == 0);
    CHECK(r.out.find("registry (cool_widget_registry)\n") != std::string::npos);
    CHECK(r.out.find("  state                             failed (3)\n") != std::string::npos);
    CHECK(r.out.find("  verification_checksum             ab02cd\n") != std::string::npos);
    CHECK(r.out.find("  verification_checksum_mismatched  ab02cd\n") != std::string::npos);
    CHECK(r.out.find("  checksum_mismatch                 true\n") != std::string::npos);
    CHECK(r.out.find("\n  next sync retry                   in 2 hours\n") != std::string::npos);
    CHECK(r.out.find("\n  next verification retry           due now\n") != std::string::npos);
    CHECK(r.out.find("primary (cool_widget_states)\n  verification_state     verification_succeeded (2)\n"
                     "  verification_checksum  ab01cd  (DIFFERS from this site's ab02cd)\n") != std::string::npos);

    json j = run_json(sites.secondary_run({"show", "cool_widget", "7", "--format", "json"}));
    CHECK(j["registry"]["state"] == "failed");
    CHECK(j["registry"]["verification_checksum"] == "ab02cd");
    CHECK(j["registry"]["checksum_mismatch"] == true);
    CHECK(j["registry"]["retry_count"] == 4);
    CHECK(j["registry"]["last_sync_failure"] == "Verification failed with: mismatch");
    CHECK(j["next_sync_retry_at"] == j["registry"]["retry_at"]);
    CHECK(j["next_sync_retry_at"].get<std::string>().rfind("20", 0) == 0);
    CHECK(j["primary"]["verification_checksum"] == "ab01cd");
    CHECK(j["checksum_matches"] == false);
    CHECK(j["registry"].size() == 18);  // every column of the generated registry table

    json same = run_json(sites.secondary_run({"show", "cool_widget", "8", "--format", "json"}));
    CHECK(same["checksum_matches"] == true);
    CHECK(same["next_sync_retry_at"].is_null());
    CHECK(sites.secondary_run({"show", "cool_widget", "8"}).out.find("00ff  (matches this site's)") != std::string::npos);

    // Registered, but gone from the primary.
    RunResult orphan = sites.secondary_run({"show", "cool_widget", "9"});
    CHECK(orphan.status == 0);
    CHECK(orphan.out.find("not on the primary") != std::string::npos);
    CHECK(run_json(sites.secondary_run({"show", "cool_widget", "9", "--format", "json"}))["on_primary"] == false);
}

TEST_CASE("show: unknown records, ids and types are clear errors") {
    TwoSitesFixture sites;
    sites.main_db.exec("INSERT INTO cool_widgets (id) VALUES (1)");
    check_one_line_error(sites.primary_run({"show", "cool_widget", "99"}), 2, "no cool_widget record with id 99");
    check_one_line_error(sites.secondary_run({"show", "cool_widget", "99"}), 2, "no cool_widget record with id 99");
    check_one_line_error(sites.primary_run({"show", "cool_widget", "abc"}), 2, "abc");
    check_one_line_error(sites.primary_run({"show", "cool_widget", "-3"}), 2, "-3");
    check_one_line_error(sites.primary_run({"show", "nope", "1"}), 2, "unknown replicable \"nope\"");
    check_one_line_error(sites.primary_run({"show", "cool_widget"}), 2, "id");
}

TEST_CASE("list: a secondary's registry by state, in pages by id") {
    TwoSitesFixture sites;
    // 1..30: state = id % 4; verification = id % 5; failed ones retry in an hour.
    sites.geo_db.exec("INSERT INTO cool_widget_registry (cool_widget_id, created_at, state, verification_state, "
                      "retry_at, last_sync_failure, last_synced_at) SELECT g, now(), g % 4, g % 5, "
                      "CASE WHEN g % 4 = 3 THEN now() + interval '1 hour 1 minute' END, "
                      "CASE WHEN g % 4 = 3 THEN 'Error syncing repository: ' || repeat('x', 100) END, "
                      "now() - interval '5 minutes' FROM generate_series(1, 30) g");
    std::vector<long long> failed;
    for (long long id = 1; id <= 30; ++id)
        if (id % 4 == 3)
            failed.push_back(id);

    json first = run_json(sites.secondary_run({"list", "cool_widget", "--sync-state", "failed", "--limit", "3",
                                               "--format", "json"}));
    REQUIRE(first["records"].size() == 3);
    CHECK(first["records"][0]["id"] == failed[0]);
    CHECK(first["records"][2]["id"] == failed[2]);
    CHECK(first["records"][0]["state"] == "failed");
    CHECK(first["records"][0]["retry_at"].get<std::string>().rfind("20", 0) == 0);  // a time, for scripts
    CHECK(first["records"][0]["synced_at"].is_null());  // failed, and never synced
    CHECK_FALSE(first["records"][0]["sync_claimed_at"].is_null());
    CHECK(first["next_after"] == failed[2]);
    // Walk the pages: every failed record once, in order.
    std::vector<long long> seen;
    std::optional<long long> after = 0;
    while (after) {
        json page = run_json(sites.secondary_run({"list", "cool_widget", "--sync-state", "3", "--limit", "3",
                                                  "--after", std::to_string(*after), "--format", "json"}));
        for (const auto& rec : page["records"])
            seen.push_back(rec["id"].get<long long>());
        after = page["next_after"].is_null() ? std::nullopt : std::optional<long long>(page["next_after"]);
    }
    CHECK(seen == failed);

    json both = run_json(sites.secondary_run({"list", "cool_widget", "--sync-state", "synced", "--verification-state",
                                              "verification_failed", "--format", "json"}));
    std::vector<long long> expected;
    for (long long id = 1; id <= 30; ++id)
        if (id % 4 == 2 && id % 5 == 3)
            expected.push_back(id);
    std::vector<long long> got;
    for (const auto& rec : both["records"])
        got.push_back(rec["id"].get<long long>());
    CHECK(got == expected);
    CHECK(both["next_after"].is_null());

    RunResult table = sites.secondary_run({"list", "cool_widget", "--sync-state", "failed", "--limit", "2"});
    CAPTURE(table.out);
    CHECK(table.status == 0);
    // LAST SYNCED is a success: none for records that only failed, however recently one was claimed.
    CHECK(table.out.find("ID  SYNC    VERIFICATION  LAST SYNCED  NEXT RETRY  FAILURE\n") == 0);
    CHECK(table.out.find("3   failed  failed        -            in 1 hour   Error syncing repository: xxx") !=
          std::string::npos);
    CHECK(table.out.find("...\n") != std::string::npos);
    CHECK(table.out.find("(more: add --after 7)\n") != std::string::npos);

    RunResult none = sites.secondary_run({"list", "cool_widget", "--verification-state", "started", "--after", "30"});
    CHECK(none.status == 0);
    CHECK(none.out.find("(no records)\n") != std::string::npos);
}

TEST_CASE("list and show: LAST SYNCED is the last sync that succeeded, never a claim or a failure") {
    TwoSitesFixture sites;
    sites.main_db.exec("INSERT INTO cool_widgets (id) VALUES (1), (2), (3)");
    // As sync writes them: made pending, claimed (GitLab's last_synced_at is the claim), then synced,
    // or failed, or put back by a run that stopped.
    sites.geo_db.exec("INSERT INTO cool_widget_registry (cool_widget_id, created_at) VALUES (1, now()), (2, now()), "
                      "(3, now())");
    sites.geo_db.exec("UPDATE cool_widget_registry SET state = 1, last_synced_at = now() - interval '2 hours'");
    sites.geo_db.exec("UPDATE cool_widget_registry SET state = 2 WHERE cool_widget_id = 1");
    sites.geo_db.exec("UPDATE geo_ssf_sync_times SET synced_at = now() - interval '2 hours' WHERE record_id = 1");
    sites.geo_db.exec("UPDATE cool_widget_registry SET state = 0 WHERE cool_widget_id = 1");  // an event
    sites.geo_db.exec("UPDATE cool_widget_registry SET state = 1, last_synced_at = now() WHERE cool_widget_id = 1");
    sites.geo_db.exec("UPDATE cool_widget_registry SET state = 3, retry_at = now() + interval '1 hour', "
                      "last_sync_failure = 'Error syncing repository: refused' WHERE cool_widget_id IN (1, 2)");
    sites.geo_db.exec("UPDATE cool_widget_registry SET state = 0 WHERE cool_widget_id = 3");  // released

    json list = run_json(sites.secondary_run({"list", "cool_widget", "--format", "json"}));
    REQUIRE(list["records"].size() == 3);
    CHECK(list["records"][0]["synced_at"] ==
          sites.geo_db.scalar("SELECT to_json(synced_at) #>> '{}' FROM geo_ssf_sync_times WHERE record_id = 1"));
    CHECK(list["records"][0]["sync_claimed_at"] != list["records"][0]["synced_at"]);
    CHECK(list["records"][1]["synced_at"].is_null());
    CHECK(list["records"][2]["synced_at"].is_null());
    CHECK_FALSE(list["records"][2]["sync_claimed_at"].is_null());
    RunResult table = sites.secondary_run({"list", "cool_widget"});
    CAPTURE(table.out);
    CHECK(table.out.find("\n1   failed   pending       2 hours ago  in ") != std::string::npos);
    CHECK(table.out.find("\n2   failed   pending       -            in ") != std::string::npos);
    CHECK(table.out.find("\n3   pending  pending       -            -") != std::string::npos);

    RunResult show = sites.secondary_run({"show", "cool_widget", "1"});
    CAPTURE(show.out);
    CHECK(show.out.find("; when a sync last began, whatever its outcome)\n") != std::string::npos);
    CHECK(show.out.find("\n  last synced ") != std::string::npos);
    CHECK(show.out.find("(2 hours ago)\n  next sync retry ") != std::string::npos);
    CHECK(sites.secondary_run({"show", "cool_widget", "3"}).out.find("  last synced  ") != std::string::npos);
    CHECK(sites.secondary_run({"show", "cool_widget", "3"}).out.find("none recorded") != std::string::npos);
    json shown = run_json(sites.secondary_run({"show", "cool_widget", "1", "--format", "json"}));
    CHECK(shown["synced_at"] == list["records"][0]["synced_at"]);
    CHECK(run_json(sites.secondary_run({"show", "cool_widget", "2", "--format", "json"}))["synced_at"].is_null());
}

TEST_CASE("list: --wide shows failures whole; --missing-on-primary lists the records the primary had no repository for") {
    TwoSitesFixture sites;
    std::string failure = "Error syncing repository: " + std::string(150, 'y') + " the end";
    sites.geo_db.exec("INSERT INTO cool_widget_registry (cool_widget_id, created_at, state, verification_state, "
                      "last_sync_failure, missing_on_primary) VALUES (1, now(), 3, 0, '" + failure + "', false), "
                      "(2, now(), 2, 4, NULL, true), (3, now(), 2, 2, NULL, false), (4, now(), 2, 4, NULL, true)");
    RunResult cut = sites.secondary_run({"list", "cool_widget", "--sync-state", "failed"});
    CHECK(cut.out.find(" the end") == std::string::npos);
    RunResult wide = sites.secondary_run({"list", "cool_widget", "--sync-state", "failed", "--wide"});
    CAPTURE(wide.out);
    CHECK(wide.status == 0);
    CHECK(wide.out.find(failure + "\n") != std::string::npos);

    json missing = run_json(sites.secondary_run({"list", "cool_widget", "--missing-on-primary", "--format", "json"}));
    REQUIRE(missing["records"].size() == 2);
    CHECK(missing["records"][0]["id"] == 2);
    CHECK(missing["records"][1]["id"] == 4);
    CHECK(missing["records"][0]["missing_on_primary"] == true);
    RunResult table = sites.secondary_run({"list", "cool_widget", "--missing-on-primary"});
    CAPTURE(table.out);
    CHECK(table.out.find("missing on the primary\n") != std::string::npos);
    CHECK(table.out.find("\n3 ") == std::string::npos);
    json all = run_json(sites.secondary_run({"list", "cool_widget", "--format", "json"}));
    CHECK(all["records"][2]["missing_on_primary"] == false);
    check_one_line_error(sites.primary_run({"list", "cool_widget", "--missing-on-primary"}), 2,
                         "--missing-on-primary lists a secondary's registry");
    check_one_line_error(sites.primary_run({"list", "cool_widget", "--quarantined"}), 2,
                         "--quarantined lists a secondary's quarantine");
    CHECK(sites.secondary_run({"list", "cool_widget", "--quarantined"}).out.find("(no quarantined copies)") !=
          std::string::npos);
}

TEST_CASE("list: a primary's state rows by verification state; bad states are usage errors") {
    TwoSitesFixture sites;
    sites.main_db.exec("INSERT INTO cool_widgets (id) SELECT generate_series(1, 12)");
    sites.main_db.exec("INSERT INTO cool_widget_states (cool_widget_id, verification_state, verified_at) "
                       "SELECT g, g % 5, now() - interval '1 day' FROM generate_series(1, 12) g");
    json failed = run_json(sites.primary_run({"list", "cool_widget", "--verification-state", "failed", "--format",
                                              "json"}));
    std::vector<long long> got;
    for (const auto& rec : failed["records"]) {
        got.push_back(rec["id"].get<long long>());
        CHECK(rec["verification_state"] == "verification_failed");
        CHECK(rec["verification_retry_at"].get<std::string>().rfind("20", 0) == 0);  // due: now
        CHECK_FALSE(rec.contains("state"));
    }
    CHECK(got == std::vector<long long>{3, 8});
    RunResult table = sites.primary_run({"list", "cool_widget"});
    CAPTURE(table.out);
    CHECK(table.status == 0);
    CHECK(table.out.find("ID  VERIFICATION  VERIFIED   NEXT RETRY  FAILURE\n") == 0);
    CHECK(table.out.find("\n3   failed        1 day ago  due now\n") != std::string::npos);

    check_one_line_error(sites.primary_run({"list", "cool_widget", "--sync-state", "failed"}), 2,
                         "--sync-state lists a secondary's registry");
    check_one_line_error(sites.secondary_run({"list", "cool_widget", "--sync-state", "broken"}), 2,
                         "unknown sync state \"broken\" (accepted: pending, started, synced, failed)");
    check_one_line_error(sites.primary_run({"list", "cool_widget", "--verification-state", "verified"}), 2,
                         "(accepted: pending, started, succeeded, failed, disabled, or with the verification_ prefix)");
    check_one_line_error(sites.primary_run({"list", "cool_widget", "--limit", "0"}), 2, "--limit");
    check_one_line_error(sites.primary_run({"list", "cool_widget", "--after", "x"}), 2, "--after");
    check_one_line_error(sites.primary_run({"list", "gizmo"}), 2, "unknown replicable \"gizmo\"");
}

}
