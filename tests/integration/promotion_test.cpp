// The preflight of a promotion (check --promotion): against a real hot standby before and after
// pg_ctl promote, exactly the records whose copies here are not verified with the primary's
// checksum; a paused replay; events not replayed; a scope's records; read-only throughout.
#include "standby_fixture.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <set>
#include <string>
#include <utility>

using namespace geo_ssf::test;
using nlohmann::json;

namespace {

bool has(const std::string& text, const std::string& fragment) { return text.find(fragment) != std::string::npos; }

// The lost records of the first type of a check --promotion --format json: {id, reason}.
std::set<std::pair<long long, std::string>> lost_of(const json& result) {
    std::set<std::pair<long long, std::string>> out;
    for (const auto& record : result["replicables"][0]["lost"])
        out.insert({record["id"].get<long long>(), record["reason"].get<std::string>()});
    return out;
}

// Everything in the tracking database, to show that the preflight wrote nothing there.
std::string tracking_snapshot(SecondaryFixture& site) {
    return site.geo_db.scalar("SELECT string_agg(r::text, ';' ORDER BY cool_widget_id) FROM cool_widget_registry r") +
           "|" + site.geo_db.scalar("SELECT string_agg(e::text, ';') FROM event_log_states e");
}

}  // namespace

TEST_SUITE("promotion") {

TEST_CASE("promotion: check --promotion against a real standby, before and after pg_ctl promote, names exactly the "
          "records not verified here") {
    StandbySite site;
    site.add_records(1, 4);
    REQUIRE(site.run({"verify"}).status == 0);
    site.standby->catch_up();
    REQUIRE(site.secondary({"sync"}).status == 0);
    REQUIRE(site.secondary({"verify"}).status == 0);
    REQUIRE(site.registry_count("verification_state = 2") == 4);

    // Everything synced, verified and replayed: promoting now loses nothing. The other tests write
    // to the same cluster, so the standby may have received some of their WAL and not replayed it
    // yet: the check passes once replay has caught up.
    RunResult ready;
    wait_until([&] {
        site.standby->catch_up();
        ready = site.secondary({"check", "--promotion"});
        return ready.status == 0;
    });
    CAPTURE(ready.out);
    CAPTURE(ready.err);
    CHECK(ready.status == 0);
    CHECK(has(ready.out, "passed  main database has replayed all it received: a standby that has replayed all it "
                         "received, up to "));
    CHECK(has(ready.out, "passed  main database has no pending migrations"));
    CHECK(has(ready.out, "passed  events replayed: all events replayed, up to " +
                             site.main_db.scalar("SELECT max(id) FROM geo_events")));
    CHECK(has(ready.out, "passed  copies of cool_widget verified: all 4 records in scope have a copy verified with "
                         "the primary's checksum\n"));
    CHECK(has(ready.out, "\npromoting now loses nothing: all 4 checks passed\n"));

    // The primary goes on: a push to 2 checksummed again, a new record 5, then a push to 3 the
    // primary has not checksummed yet. The secondary syncs none of it.
    site.push(2);
    REQUIRE(site.run({"event", "cool_widget", "updated", "2"}).status == 0);
    site.add_records(5, 5);
    REQUIRE(site.run({"verify"}).status == 0);
    site.push(3);
    REQUIRE(site.run({"event", "cool_widget", "updated", "3"}).status == 0);
    REQUIRE(site.state_of(2, "verification_state") == "2");
    REQUIRE(site.state_of(3, "verification_state") == "0");
    REQUIRE(site.state_of(2, "encode(verification_checksum, 'hex')") !=
            site.registry(2, "encode(verification_checksum, 'hex')"));
    site.standby->catch_up();
    const std::set<std::pair<long long, std::string>> expected = {
        {2, "checksum_differs"}, {3, "primary_not_checksummed"}, {5, "not_registered"}};
    std::string before = tracking_snapshot(site);

    // As above, replay of the other tests' WAL is waited for.
    RunResult behind;
    wait_until([&] {
        site.standby->catch_up();
        behind = site.secondary({"check", "--promotion"});
        return has(behind.out, "passed  main database has replayed all it received");
    });
    CAPTURE(behind.out);
    CHECK(behind.status == 1);
    CHECK(has(behind.out, "passed  main database has replayed all it received"));
    CHECK(has(behind.out, "FAILED  events replayed: "));
    CHECK(has(behind.out, " events not replayed yet (replayed up to "));
    CHECK(has(behind.out, "FAILED  copies of cool_widget verified: 3 of the 5 records in scope would be lost or are "
                          "not proven: checksum differs: 2; primary not checksummed: 3; not registered: 5\n"));
    CHECK(has(behind.out, "\npromoting now would lose data or leave it unproven: 2 of 4 checks failed\n"));

    RunResult as_json = site.secondary({"check", "--promotion", "--format", "json"});
    CAPTURE(as_json.out);
    CHECK(as_json.status == 1);
    json result = json::parse(as_json.out);
    CHECK(result["promotable"] == false);
    CHECK(result["checks"].size() == 4);
    CHECK(result["replicables"][0]["name"] == "cool_widget");
    CHECK(result["replicables"][0]["records"] == 5);
    CHECK(result["replicables"][0]["verified"] == 2);
    CHECK(lost_of(result) == expected);
    CHECK(result["replicables"][0]["lost"][0]["detail"] ==
          "its copy was verified with another checksum than the primary's");

    // A standby whose replay is paused holds what it has not replayed.
    site.standby->pause_replay();
    RunResult paused = site.secondary({"check", "--promotion"});
    CAPTURE(paused.out);
    CHECK(paused.status == 1);
    CHECK(has(paused.out, "FAILED  main database has replayed all it received: a standby whose replay is paused at "));
    CHECK(has(paused.out, "(SELECT pg_wal_replay_resume() resumes it)"));
    site.standby->resume_replay();
    site.standby->catch_up();

    // The primary is lost: the standby promoted as a DBA does it. The preflight reads the
    // promoted database and still names exactly the same records.
    site.standby->promote();
    RunResult promoted = site.secondary({"check", "--promotion", "--format", "json"});
    CAPTURE(promoted.out);
    CHECK(promoted.status == 1);
    result = json::parse(promoted.out);
    CHECK(result["checks"][0]["name"] == "main database has replayed all it received");
    CHECK(result["checks"][0]["passed"] == true);
    CHECK(result["checks"][0]["detail"] == "not a standby (or a promoted one): nothing to replay");
    CHECK(lost_of(result) == expected);

    // Syncing from what is left brings 2 and 5 over and replays every event; 3 stays unproven,
    // for its last push was never checksummed.
    REQUIRE(site.secondary({"sync"}).status == 0);
    site.secondary({"verify"});
    RunResult after_sync = site.secondary({"check", "--promotion", "--format", "json"});
    CHECK(after_sync.status == 1);
    result = json::parse(after_sync.out);
    CHECK(lost_of(result) == std::set<std::pair<long long, std::string>>{{3, "primary_not_checksummed"}});
    CHECK(result["checks"][2]["name"] == "events replayed");
    CHECK(result["checks"][2]["passed"] == true);

    // The preflight itself wrote nothing: running it twice more leaves the tracking database as it is.
    before = tracking_snapshot(site);
    site.secondary({"check", "--promotion"});
    CHECK(tracking_snapshot(site) == before);
}

TEST_CASE("promotion: check --promotion names the records a scope leaves out, and runs on secondaries only") {
    SecondaryFixture site;
    site.add_records(1, 3);
    REQUIRE(site.run({"verify"}).status == 0);
    REQUIRE(site.secondary({"sync"}).status == 0);
    REQUIRE(site.secondary({"verify"}).status == 0);
    CHECK(site.secondary({"check", "--promotion"}).status == 0);

    // Selective sync: this secondary's definitions leave archived records out.
    site.main_db.exec("ALTER TABLE cool_widgets ADD COLUMN archived boolean NOT NULL DEFAULT false");
    site.main_db.exec("UPDATE cool_widgets SET archived = true WHERE id = 3");
    std::filesystem::copy(site.dir / "replicables", site.dir / "secondary-replicables");
    auto definition_file = site.dir / "secondary-replicables" / "cool_widget.yml";
    std::string definition = read_file(definition_file);
    auto at = definition.find("\nscope:");
    REQUIRE(at != std::string::npos);
    definition.replace(at + 1, definition.find('\n', at + 1) - at - 1, "scope: \"archived = false\"");
    write_file(definition_file, definition);
    write_file(site.secondary_config, read_file(site.secondary_config) + "replicables: secondary-replicables\n");

    RunResult scoped = site.secondary({"check", "--promotion"});
    CAPTURE(scoped.out);
    CAPTURE(scoped.err);
    CHECK(scoped.status == 1);
    CHECK(has(scoped.out, "passed  copies of cool_widget verified: all 2 records in scope have a copy verified"));
    CHECK(has(scoped.out, "FAILED  records of cool_widget outside this site's scope: the scope (archived = false) "
                          "leaves out 1 of the primary's records, which promoting now would lose: 3\n"));
    json result = json::parse(site.secondary({"check", "--promotion", "--format", "json"}).out);
    CHECK(lost_of(result) == std::set<std::pair<long long, std::string>>{{3, "out_of_scope"}});

    // A primary has nothing to be promoted to.
    RunResult on_primary = site.run({"check", "--promotion"});
    CHECK(on_primary.status == 2);
    CHECK(on_primary.out.empty());
    CHECK(has(on_primary.err, "check --promotion runs on a secondary site; "));

    // Plain check has the JSON form too.
    RunResult plain = site.secondary({"check", "--format", "json"});
    CAPTURE(plain.out);
    CHECK(plain.status == 0);
    json checks = json::parse(plain.out);
    CHECK(checks["passed"] == true);
    CHECK(checks["checks"][0]["name"] == "configuration valid");
    CHECK(checks["checks"][0]["passed"] == true);
}

}  // TEST_SUITE
