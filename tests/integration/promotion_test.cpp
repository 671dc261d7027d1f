// The preflight of a promotion (check --promotion): against a real hot standby before and after
// pg_ctl promote, exactly the records whose copies here are not verified with the primary's
// checksum; a paused replay; events not replayed; a scope's records; read-only throughout.
// promote: refused while the standby is in recovery and when the preflight fails; a crash and a
// rerun; the data-loss report; the promoted site verifying and publishing as the primary; the old
// primary refusing to act as one once its database names the promoted site.
#include "standby_fixture.hpp"

#include <nlohmann/json.hpp>

#include <pqxx/pqxx>

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

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

// The records of a promotion's data-loss report: {id, reason}, all of type cool_widget.
std::set<std::pair<long long, std::string>> reported(const json& report) {
    std::set<std::pair<long long, std::string>> out;
    for (const auto& record : report["records"]) {
        CHECK(record["replicable"] == "cool_widget");
        out.insert({record["id"].get<long long>(), record["reason"].get<std::string>()});
    }
    return out;
}

// TEXT with its first FROM replaced by TO.
std::string replaced(std::string text, const std::string& from, const std::string& to) {
    auto at = text.find(from);
    REQUIRE(at != std::string::npos);
    return text.replace(at, from.size(), to);
}

// Everything in the tracking database, to show that the preflight wrote nothing there.
std::string tracking_snapshot(SecondaryFixture& site) {
    return site.geo_db.scalar("SELECT string_agg(r::text, ';' ORDER BY cool_widget_id) FROM cool_widget_registry r") +
           "|" + site.geo_db.scalar("SELECT string_agg(e::text, ';') FROM event_log_states e");
}

// The inode of PATH's folder: a copy cloned again is built beside and renamed into place, so a
// copy with the same inode was fetched into, never cloned again.
ino_t inode_of(const std::filesystem::path& path) {
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    return st.st_ino;
}

// The inodes of the copies of records 1..LAST under ROOT.
std::map<long long, ino_t> copy_inodes(const std::filesystem::path& root, long long last) {
    std::map<long long, ino_t> out;
    for (long long id = 1; id <= last; ++id)
        out[id] = inode_of(root / "cool_widgets" / (std::to_string(id) + ".git"));
    return out;
}

// A site's config: a secondary reading MAIN, keeping its rows in GEO, copying from PRIMARY_STORAGE.
std::string secondary_config_text(const std::string& name, const std::string& main, const std::string& geo,
                                  const std::filesystem::path& root, const std::filesystem::path& primary_storage) {
    return "site: {name: " + name + ", role: secondary}\ndatabases:\n  main: \"" + main + "\"\n  geo: \"" + geo +
           "\"\nstorage: {root: " + root.string() + ", primary_url: \"file://" + primary_storage.string() + "\"}\n";
}

// Records 1..4 on the primary, checksummed there, synced and verified on the secondary.
void copy_four_records(StandbySite& site) {
    site.add_records(1, 4);
    REQUIRE(site.run({"verify"}).status == 0);
    site.standby->catch_up();
    REQUIRE(site.secondary({"sync"}).status == 0);
    REQUIRE(site.secondary({"verify"}).status == 0);
    REQUIRE(site.registry_count("verification_state = 2") == 4);
}

// The standby promoted as a DBA does it, the primary lost; the secondary given a role there that
// may write (the primary's owner) instead of the reader's.
void promote_standby(StandbySite& site) {
    site.standby->promote();
    write_file(site.secondary_config,
               replaced(read_file(site.secondary_config), " user=" + site.reader + " password=reader", ""));
}

}  // namespace

TEST_SUITE("promotion") {

TEST_CASE("promotion: check --promotion against a real standby, before and after pg_ctl promote, names exactly the "
          "records not verified here") {
    StandbySite site;
    copy_four_records(site);

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

TEST_CASE("promotion: promote makes the secondary whose standby was promoted the primary, its data-loss report exactly "
          "the records not verified here; a rerun finishes it after a failure; the old primary refuses to act") {
    StandbySite site;
    copy_four_records(site);
    // As in the first test: a push to 2 checksummed again, a new record 5, a push to 3 not
    // checksummed yet; the secondary syncs none of it.
    site.push(2);
    REQUIRE(site.run({"event", "cool_widget", "updated", "2"}).status == 0);
    site.add_records(5, 5);
    REQUIRE(site.run({"verify"}).status == 0);
    site.push(3);
    REQUIRE(site.run({"event", "cool_widget", "updated", "3"}).status == 0);
    site.standby->catch_up();
    const std::set<std::pair<long long, std::string>> expected = {
        {2, "checksum_differs"}, {3, "primary_not_checksummed"}, {5, "not_registered"}};
    auto promotions = [&] { return site.geo_db.scalar("SELECT count(*) FROM geo_ssf_promotions"); };

    // The main database is still a standby: promote says how to promote it, and changes nothing.
    RunResult in_recovery = site.secondary({"promote", "--accept-data-loss"});
    CAPTURE(in_recovery.err);
    CHECK(in_recovery.status == 3);
    CHECK(has(in_recovery.err, "the main database (databases.main) is still a standby, in recovery: promote it first, "
                               "with pg_ctl promote -D <its data folder> on its host, SELECT pg_promote()"));
    CHECK(promotions() == "0");

    // The primary is lost: the DBA promotes the standby.
    promote_standby(site);

    // The preflight fails: without --accept-data-loss nothing is done.
    RunResult refused = site.secondary({"promote"});
    CAPTURE(refused.out);
    CAPTURE(refused.err);
    CHECK(refused.status == 1);
    CHECK(has(refused.out, "FAILED  copies of cool_widget verified: 3 of the 5 records in scope would be lost"));
    CHECK(has(refused.out, "promoting now would lose data or leave it unproven"));
    CHECK(has(refused.err, "promotion refused: the preflight failed"));
    CHECK(promotions() == "0");

    // --dry-run prints every step and changes nothing.
    RunResult dry = site.secondary({"promote", "--accept-data-loss", "--dry-run"});
    CAPTURE(dry.out);
    CAPTURE(dry.err);
    CHECK(dry.status == 0);
    CHECK(has(dry.out, "would record the promotion of secondary to the primary (generation 1)\n"));
    CHECK(has(dry.out, "would record 3 records whose copies are not verified equal to the old primary's"));
    CHECK(has(dry.out, "would set the states rows of "));
    CHECK(has(dry.out, "would set the event log's sequence to its newest event, "));
    CHECK(has(dry.out, "would record secondary as the primary in the main database (generation 1)\n"));
    CHECK(has(dry.out, "would write the data-loss report, 3 records, to " +
                           (site.secondary_storage / ".geo-ssf-promotions" / "generation-1.json").string()));
    CHECK(promotions() == "0");
    CHECK(site.on_standby("SELECT count(*) FROM geo_ssf_primaries") == "0");
    CHECK(!std::filesystem::exists(site.secondary_storage / ".geo-ssf-promotions"));

    // A promotion that fails before its end (its report cannot be written) is not finished: the
    // site acts in no role until a rerun finishes it.
    RunResult failed = site.secondary(
        {"promote", "--accept-data-loss", "--report", (site.dir / "no-such-folder" / "report.json").string()});
    CAPTURE(failed.out);
    CAPTURE(failed.err);
    CHECK(failed.status != 0);
    CHECK(has(failed.out, "begun: recorded the promotion of secondary to the primary (generation 1)\n"));
    CHECK(has(failed.out, "primary: recorded secondary as the primary in the main database (generation 1)\n"));
    CHECK(site.geo_db.scalar("SELECT step || ' ' || (finished_at IS NULL) FROM geo_ssf_promotions") == "primary true");
    RunResult unfinished = site.secondary({"sync"});
    CHECK(unfinished.status == 3);
    CHECK(has(unfinished.err, "is not finished (last step done: primary): run geo-ssf promote again to finish it"));

    RunResult resumed = site.secondary({"promote"});
    CAPTURE(resumed.out);
    CAPTURE(resumed.err);
    REQUIRE(resumed.status == 0);
    CHECK(has(resumed.out, "resuming the promotion begun at "));
    CHECK(has(resumed.out, "(last step done: primary)"));
    const auto report_file = site.secondary_storage / ".geo-ssf-promotions" / "generation-1.json";
    CHECK(has(resumed.out, "finished: the data-loss report, 3 records, is in " + report_file.string()));
    CHECK(has(resumed.out, "promoted: this site, secondary (generation 1), is the primary; 3 records whose copies "
                           "were not verified equal are pending verification\n"));
    CHECK(has(resumed.out, "lost  cool_widget 5: not_registered: "));
    json report = json::parse(read_file(report_file));
    CHECK(reported(report) == expected);
    CHECK(report["site"] == "secondary");
    CHECK(report["generation"] == 1);
    CHECK(report["accepted_data_loss"] == true);
    CHECK(report["lost_records"]["cool_widget"] == 3);
    CHECK(report["last_event_id"].get<long long>() == std::stoll(site.on_standby("SELECT max(id) FROM geo_events")));

    // The main database names the secondary as the primary. The states rows of the lost records
    // are pending without the old primary's checksum; those verified equal keep theirs.
    CHECK(site.on_standby("SELECT site_name FROM geo_ssf_primaries") == "secondary");
    CHECK(site.on_standby("SELECT string_agg(cool_widget_id::text, ',' ORDER BY cool_widget_id) FROM "
                          "cool_widget_states WHERE verification_state = 0 AND verification_checksum IS NULL") ==
          "2,3,5");
    CHECK(site.on_standby("SELECT string_agg(cool_widget_id::text, ',' ORDER BY cool_widget_id) FROM "
                          "cool_widget_states WHERE verification_state = 2") == "1,4");
    // The tracking database is kept, not dropped.
    CHECK(site.registry_count("true") == 4);

    // A rerun once it is finished does nothing.
    RunResult again = site.secondary({"promote", "--accept-data-loss"});
    CAPTURE(again.out);
    CHECK(again.status == 0);
    CHECK(has(again.out, "nothing to do: this site, secondary (generation 1), is the primary already; its data-loss "
                         "report, 3 records, is in " + report_file.string()));
    RunResult again_json = site.secondary({"promote", "--format", "json"});
    CHECK(again_json.status == 0);
    json again_result = json::parse(again_json.out);
    CHECK(again_result["already_primary"] == true);
    CHECK(reported(again_result["report"]) == expected);

    // check shows the role; a secondary's commands are refused.
    RunResult checked = site.secondary({"check"});
    CAPTURE(checked.out);
    CHECK(has(checked.out, "passed  site role: primary, recorded in the main database: secondary (generation 1 at "));
    CHECK(has(checked.out, "passed  tracking database kept aside: "));
    // status counts it as the primary it is: the states rows, not the registry kept aside.
    RunResult status = site.secondary({"status", "--format", "json"});
    CAPTURE(status.err);
    CHECK(status.status == 0);
    json counted = json::parse(status.out);
    CHECK(counted["role"] == "primary");
    CHECK(counted["replicables"][0]["cool_widgets_checksummed_count"] == 2);
    RunResult sync = site.secondary({"sync"});
    CHECK(sync.status == 2);
    CHECK(has(sync.err, "'sync' runs on a secondary site; " + site.secondary_config.string() +
                            " sets up a secondary, but this site is the primary now"));

    // verify on the new primary checksums what it holds: 2 and 3 as their copies here are (the
    // checksums the secondary verified them with before the pushes it never synced); 5 has no
    // repository here and fails.
    RunResult verified = site.secondary({"verify"});
    CAPTURE(verified.out);
    CAPTURE(verified.err);
    CHECK(verified.status == 1);
    for (long long id : {2, 3})
        CHECK(site.on_standby("SELECT encode(verification_checksum, 'hex') FROM cool_widget_states WHERE "
                              "cool_widget_id = " + std::to_string(id)) ==
              site.registry(id, "encode(verification_checksum, 'hex')"));
    CHECK(site.on_standby("SELECT string_agg(cool_widget_id::text, ',' ORDER BY cool_widget_id) FROM "
                          "cool_widget_states WHERE verification_state = 2") == "1,2,3,4");
    CHECK(site.on_standby("SELECT verification_state FROM cool_widget_states WHERE cool_widget_id = 5") == "3");

    // It publishes events, the first after the newest it kept.
    std::string newest = site.on_standby("SELECT max(id) FROM geo_events");
    RunResult event = site.secondary({"event", "cool_widget", "updated", "1"});
    CAPTURE(event.err);
    CHECK(event.status == 0);
    CHECK(site.on_standby("SELECT max(id) FROM geo_events") == std::to_string(std::stoll(newest) + 1));

    // Split brain: the old primary pointed at the database that now names the secondary as the
    // primary refuses to publish events or checksum, and check says why.
    write_file(site.config, replaced(read_file(site.config), site.main_db.conninfo(),
                                     site.standby->conninfo(site.main_db.name())));
    for (const auto& args : std::vector<std::vector<std::string>>{{"verify"}, {"event", "cool_widget", "updated", "1"}}) {
        RunResult old = site.run(args);
        CAPTURE(old.err);
        CHECK(old.status == 3);
        CHECK(old.out.empty());
        CHECK(has(old.err, "this site (primary-site) is set up as the primary, but its main database names secondary "
                           "(generation 1 at "));
        CHECK(has(old.err, "primary-site is no longer the primary and does not publish events or checksum as one"));
    }
    CHECK(site.on_standby("SELECT max(id) FROM geo_events") == std::to_string(std::stoll(newest) + 1));
    RunResult old_check = site.run({"check"});
    CAPTURE(old_check.out);
    CHECK(old_check.status == 1);
    CHECK(has(old_check.out, "FAILED  site role: this site (primary-site) is set up as the primary, but its main "
                             "database names secondary"));
}

TEST_CASE("promotion: after a promotion another secondary is repointed and the old primary comes back as a secondary, "
          "each ending fully verified with no copy cloned again; what the new primary lacks goes to the quarantine") {
    StandbySite site;
    copy_four_records(site);

    // A second secondary, reading the primary's database directly.
    TestDatabase second_geo;
    const auto second_storage = site.dir / "second-repositories";
    std::filesystem::create_directories(second_storage);
    const auto second_config = site.dir / "second.yml";
    const std::string reader = " user=" + site.reader + " password=reader";
    write_file(second_config, secondary_config_text("second", site.main_db.conninfo() + reader, second_geo.conninfo(),
                                                    second_storage, site.storage));
    auto second = [&](std::vector<std::string> args) {
        args.insert(args.begin(), {"-c", second_config.string()});
        return run_geo_ssf(args);
    };
    auto second_verified = [&] {
        return second_geo.scalar("SELECT string_agg(cool_widget_id::text, ',' ORDER BY cool_widget_id) FROM "
                                 "cool_widget_registry WHERE verification_state = 2");
    };
    REQUIRE(second({"migrate"}).status == 0);
    REQUIRE(second({"sync"}).status == 0);
    REQUIRE(second({"verify"}).status == 0);
    REQUIRE(second_verified() == "1,2,3,4");

    // A push to 2 that the second secondary syncs and the one to be promoted does not: after the
    // promotion, the second holds a copy newer than the new primary's.
    site.push(2);
    REQUIRE(site.run({"event", "cool_widget", "updated", "2"}).status == 0);
    REQUIRE(site.run({"verify"}).status == 0);
    REQUIRE(second({"sync"}).status == 0);
    REQUIRE(second({"verify"}).status == 0);
    REQUIRE(second_verified() == "1,2,3,4");
    site.standby->catch_up();
    const auto second_inodes = copy_inodes(second_storage, 4);
    const auto old_primary_inodes = copy_inodes(site.storage, 4);

    // The primary is lost; the standby is promoted, then the secondary.
    promote_standby(site);
    RunResult promoted = site.secondary({"promote", "--accept-data-loss"});
    CAPTURE(promoted.out);
    CAPTURE(promoted.err);
    REQUIRE(promoted.status == 0);
    CHECK(has(promoted.out, "lost  cool_widget 2: checksum_differs: "));
    REQUIRE(site.secondary({"verify"}).status == 0);  // the new primary checksums 2 as it holds it
    const std::string new_checksum_2 =
        site.on_standby("SELECT encode(verification_checksum, 'hex') FROM cool_widget_states WHERE cool_widget_id = 2");
    REQUIRE(!new_checksum_2.empty());

    // The second secondary is repointed at the new primary's database and repositories.
    write_file(second_config,
               secondary_config_text("second", site.standby->conninfo(site.main_db.name()) + reader,
                                     second_geo.conninfo(), second_storage, site.secondary_storage));
    RunResult repointed = second({"sync"});
    CAPTURE(repointed.out);
    CAPTURE(repointed.err);
    CHECK(repointed.status == 0);
    CHECK(has(repointed.err, "the primary changed: it was the primary (no promotion recorded, database "));
    CHECK(has(repointed.err, "it is now secondary (generation 1, database "));
    CHECK(has(repointed.err, "4 synced copies are verified again against the new primary's checksums"));
    // Verification finds 2 different, a sync fetches it into place, and it is verified equal.
    // Verification finds 2 different; its resync backs off as any does (the wait is skipped here);
    // a sync fetches it into place, and it is verified equal.
    auto verify_and_fetch = [](TestDatabase& geo, const std::function<RunResult(std::vector<std::string>)>& on_site) {
        RunResult verified = on_site({"verify"});
        CAPTURE(verified.err);
        CHECK(verified.status == 1);
        CHECK(has(verified.err, "cool_widget 2: checksum mismatch: refs differ: "));
        geo.exec("UPDATE cool_widget_registry SET retry_at = now() - interval '1 second' WHERE state = 3");
        CHECK(on_site({"sync"}).status == 0);
        CHECK(on_site({"verify"}).status == 0);
    };
    verify_and_fetch(second_geo, second);
    CHECK(second_verified() == "1,2,3,4");
    CHECK(second_geo.scalar("SELECT encode(verification_checksum, 'hex') FROM cool_widget_registry WHERE "
                            "cool_widget_id = 2") == new_checksum_2);
    CHECK(copy_inodes(second_storage, 4) == second_inodes);
    // Nothing more on the next run: the change is recorded.
    RunResult quiet = second({"sync"});
    CHECK(!has(quiet.err, "the primary changed"));

    // The new primary's events reach it: a push to 1 there.
    commit_on_main(site.secondary_storage / "cool_widgets" / "1.git");
    REQUIRE(site.secondary({"event", "cool_widget", "updated", "1"}).status == 0);
    REQUIRE(site.secondary({"verify"}).status == 0);
    REQUIRE(second({"sync"}).status == 0);
    REQUIRE(second({"verify"}).status == 0);
    CHECK(second_geo.scalar("SELECT encode(verification_checksum, 'hex') FROM cool_widget_registry WHERE "
                            "cool_widget_id = 1") ==
          site.on_standby("SELECT encode(verification_checksum, 'hex') FROM cool_widget_states WHERE "
                          "cool_widget_id = 1"));

    // The old primary comes back as a secondary: its database re-made from the new primary's (here
    // read directly), a new tracking database, its repositories where they were. Record 5 was
    // created there after the standby was promoted: the new primary has no such record.
    site.add_records(5, 5);
    TestDatabase returning_geo;
    const auto returning_config = site.dir / "returning.yml";
    write_file(returning_config,
               secondary_config_text("primary-site", site.standby->conninfo(site.main_db.name()) + reader,
                                     returning_geo.conninfo(), site.storage, site.secondary_storage));
    auto returning = [&](std::vector<std::string> args) {
        args.insert(args.begin(), {"-c", returning_config.string()});
        return run_geo_ssf(args);
    };
    REQUIRE(returning({"migrate"}).status == 0);
    RunResult adopted = returning({"sync"});
    CAPTURE(adopted.out);
    CAPTURE(adopted.err);
    CHECK(adopted.status == 0);
    CHECK(has(adopted.err, "the storage root holds 5 repositories: 4 are copies of records in scope, kept and fetched "
                           "into rather than cloned again; 1 that no record claims moved to " +
                               (site.storage / ".geo-ssf-removed" / ".unclaimed").string() + "/"));
    CHECK(!std::filesystem::exists(site.repository(5)));
    bool quarantined = false;
    for (const auto& moved : std::filesystem::directory_iterator(site.storage / ".geo-ssf-removed" / ".unclaimed"))
        quarantined = quarantined || std::filesystem::exists(moved.path() / "cool_widgets" / "5.git" / "HEAD");
    CHECK(quarantined);
    auto returning_verified = [&] {
        return returning_geo.scalar("SELECT string_agg(cool_widget_id::text, ',' ORDER BY cool_widget_id) FROM "
                                    "cool_widget_registry WHERE verification_state = 2");
    };
    // Its first sync fetched every kept copy up to the new primary's (2 back to its state there).
    CHECK(has(adopted.out, "cool_widget: 4 claimed, 4 synced, 0 failed"));
    CHECK(returning({"verify"}).status == 0);
    CHECK(returning_verified() == "1,2,3,4");
    CHECK(copy_inodes(site.storage, 4) == old_primary_inodes);
    for (long long id : {1, 2})
        CHECK(returning_geo.scalar("SELECT encode(verification_checksum, 'hex') FROM cool_widget_registry WHERE "
                                   "cool_widget_id = " + std::to_string(id)) ==
              site.on_standby("SELECT encode(verification_checksum, 'hex') FROM cool_widget_states WHERE "
                              "cool_widget_id = " + std::to_string(id)));
    // The sorting out is done once.
    RunResult again = returning({"sync"});
    CHECK(!has(again.err, "the storage root holds"));
}

TEST_CASE("promotion: a promote killed at each step and run again finishes it, as one run would have") {
    StandbySite site;
    copy_four_records(site);
    site.push(2);
    REQUIRE(site.run({"event", "cool_widget", "updated", "2"}).status == 0);
    site.add_records(5, 5);
    REQUIRE(site.run({"verify"}).status == 0);
    site.standby->catch_up();
    promote_standby(site);
    const std::string main_conninfo = site.standby->conninfo(site.main_db.name());

    // Each step's first write waits on a lock the test holds (SHARE: reads go on, writes wait);
    // promote is killed there, mid-transaction, and the lock released. Each run goes one step
    // further than the one before.
    struct Stop {
        std::string conninfo;
        std::string table;
        std::string step_done;  // the step recorded when the run is killed
    };
    const std::vector<Stop> stops = {{site.geo_db.conninfo(), "geo_ssf_promotion_records", "begun"},
                                     {main_conninfo, "cool_widget_states", "compared"},
                                     {main_conninfo, "geo_events", "states"},
                                     {main_conninfo, "geo_ssf_primaries", "event_log"}};
    for (const auto& stop : stops) {
        CAPTURE(stop.table);
        pqxx::connection holder(stop.conninfo);
        pqxx::work hold(holder);
        hold.exec("LOCK TABLE " + stop.table + " IN SHARE MODE");
        BackgroundRun promote({"-c", site.secondary_config.string(), "promote", "--accept-data-loss"});
        pqxx::connection watcher(stop.conninfo);
        REQUIRE(wait_until([&] {
            pqxx::nontransaction ask(watcher);
            return ask.exec1("SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = '" + stop.table +
                             "'::regclass")[0]
                       .as<int>() > 0 ||
                   promote.ended();
        }));
        REQUIRE_MESSAGE(!promote.ended(), promote.err_so_far());
        promote.signal(SIGKILL);
        CHECK(promote.wait().status == 128 + SIGKILL);
        hold.abort();
        // The killed run's sessions end without committing what they waited to write.
        REQUIRE(wait_until([&] {
            pqxx::nontransaction ask(watcher);
            return ask.exec1("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'geo-ssf'")[0]
                       .as<int>() == 0;
        }));
        CHECK(site.geo_db.scalar("SELECT step || ' ' || (finished_at IS NULL) FROM geo_ssf_promotions") ==
              stop.step_done + " true");
        RunResult refused = site.secondary({"verify"});
        CHECK(refused.status == 3);
        CHECK(has(refused.err, "is not finished (last step done: " + stop.step_done + ")"));
    }

    RunResult finished = site.secondary({"promote", "--format", "json"});
    CAPTURE(finished.err);
    REQUIRE(finished.status == 0);
    json result = json::parse(finished.out);
    CHECK(result["resumed"] == true);
    CHECK(reported(result["report"]) ==
          std::set<std::pair<long long, std::string>>{{2, "checksum_differs"}, {5, "not_registered"}});
    CHECK(site.on_standby("SELECT string_agg(cool_widget_id::text, ',' ORDER BY cool_widget_id) FROM "
                          "cool_widget_states WHERE verification_state = 0 AND verification_checksum IS NULL") == "2,5");
    CHECK(site.on_standby("SELECT count(*) || ' ' || max(site_name) FROM geo_ssf_primaries") == "1 secondary");
    CHECK(site.geo_db.scalar("SELECT count(*) FROM geo_ssf_promotion_records") == "2");
    CHECK(site.geo_db.scalar("SELECT step FROM geo_ssf_promotions WHERE finished_at IS NOT NULL") == "finished");
    // The event log goes on from the newest event kept, with no gap.
    std::string newest = site.on_standby("SELECT max(id) FROM geo_events");
    REQUIRE(site.secondary({"event", "cool_widget", "updated", "1"}).status == 0);
    CHECK(site.on_standby("SELECT max(id) FROM geo_events") == std::to_string(std::stoll(newest) + 1));
}

}  // TEST_SUITE
