// Where GitLab Geo's behaviour is visible to an admin, geo-ssf behaves the same: timeout and
// failure texts, sweeps, races between a run and a re-request, bulk marks, registry
// consistency's bound, events about records that are out of scope or without a repository, a
// new secondary's first event, and status fields. Each test seeds rows, runs one command and
// compares rows and texts.
#include "secondary_fixture.hpp"
#include "two_sites_fixture.hpp"

#include "db/run_lock.hpp"

#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <sys/fanotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

using namespace geo_ssf::test;

namespace {

// Whether process PID is ANCESTOR or one of its descendants.
bool descends_from(pid_t pid, pid_t ancestor) {
    while (pid > 1 && pid != ancestor) {
        std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
        auto end = stat.rfind(')');  // after the program's name: state, then the parent's pid
        if (end == std::string::npos)
            return false;
        std::istringstream fields(stat.substr(end + 1));
        std::string state;
        fields >> state >> pid;
    }
    return pid == ancestor;
}

// Holds the opens of REPOSITORY's packed-refs (written first with git pack-refs, as after a gc)
// by a run and the programs it starts, until release(): fanotify asks this process for a
// permission before each open of the file, and a run's waits unanswered. A fetch from the
// repository or a checksum of it waits inside the run, holding its claim. Other processes'
// opens are let through whenever holding() looks. Releasing answers the opens held and closes
// the fanotify group, whose unanswered opens the kernel then lets through: it never waits for
// the run, whatever the run did. fanotify's permission events need CAP_SYS_ADMIN: the tests run
// as root (scripts/test.sh).
class HeldOpens {
public:
    explicit HeldOpens(const std::filesystem::path& repository) {
        auto file = repository / "packed-refs";
        shell("git -C '" + repository.string() + "' pack-refs --all");
        m_group = ::fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC | FAN_NONBLOCK, O_RDONLY | O_CLOEXEC);
        if (m_group < 0)
            throw std::runtime_error(std::string("fanotify_init: ") + std::strerror(errno) +
                                     ": holding a file's opens needs CAP_SYS_ADMIN: run the tests as root "
                                     "(scripts/test.sh)");
        if (::fanotify_mark(m_group, FAN_MARK_ADD, FAN_OPEN_PERM, AT_FDCWD, file.c_str()) != 0) {
            std::string error = std::strerror(errno);
            release();
            throw std::runtime_error("fanotify_mark " + file.string() + ": " + error);
        }
    }
    ~HeldOpens() { release(); }
    HeldOpens(const HeldOpens&) = delete;
    HeldOpens& operator=(const HeldOpens&) = delete;

    // Whether RUN, or a program it started, is held in its open of the file; looks at the opens
    // asked for so far, and lets the other processes' through.
    bool holding(const BackgroundRun& run) {
        alignas(fanotify_event_metadata) char buffer[4096];
        ssize_t length;
        while (m_group >= 0 && (length = ::read(m_group, buffer, sizeof buffer)) > 0) {
            auto* event = reinterpret_cast<fanotify_event_metadata*>(buffer);
            for (; FAN_EVENT_OK(event, length); event = FAN_EVENT_NEXT(event, length)) {
                if (event->fd < 0)
                    continue;
                if (descends_from(event->pid, run.pid()))
                    m_held.push_back(event->fd);
                else
                    allow(event->fd);
            }
        }
        return !m_held.empty();
    }

    // Lets every open through, now and from now on.
    void release() {
        for (int fd : m_held)
            allow(fd);
        m_held.clear();
        if (m_group >= 0)
            ::close(m_group);
        m_group = -1;
    }

private:
    void allow(int fd) {
        fanotify_response response{fd, FAN_ALLOW};
        [[maybe_unused]] auto written = ::write(m_group, &response, sizeof response);
        ::close(fd);
    }

    int m_group = -1;
    std::vector<int> m_held;  // the held opens' files, by which each is answered
};

// Waits until HELD holds an open of the file by RUN; fails the test if RUN ends first.
void wait_for_held_open(HeldOpens& held, BackgroundRun& run) {
    if (!wait_until([&] { return held.holding(run) || run.ended(); }) || !held.holding(run))
        FAIL("the run never opened the held file: " << run.err_so_far());
}

// Runs geo-ssf with ARGS while HELD holds RUN, letting the opens of the held file by others through.
RunResult run_while_held(HeldOpens& held, const BackgroundRun& run, const std::vector<std::string>& args) {
    BackgroundRun other(args);
    if (!wait_until([&] {
            held.holding(run);
            return other.ended();
        }))
        FAIL("geo-ssf " << args.back() << " did not end: " << other.err_so_far());
    return other.wait();
}

// Takes, on CONNECTION, the lock of the run whose claim time is COLUMN of record ID's row in
// TABLE: to the runs under test, that row belongs to a live run.
void hold_run_lock(pqxx::connection& connection, const std::string& table, const std::string& column, long long id) {
    pqxx::nontransaction(connection)
        .exec("SELECT pg_advisory_lock(" + geo_ssf::run_lock_key_sql(column) + ") FROM " + table +
              " WHERE cool_widget_id = " + std::to_string(id));
}

// Waits until SQL on DB returns "t" (a run reached the point the test waits for).
void wait_for(TestDatabase& db, const std::string& sql) {
    if (!wait_until([&] { return db.scalar(sql) == "t"; }))
        FAIL("never true: " << sql);
}

}  // namespace

TEST_SUITE("fidelity") {

TEST_CASE("fidelity: timeout texts give the timeout in whole seconds, as GitLab interpolates them") {
    SecondaryFixture site;
    site.add_records(1, 3);
    REQUIRE(site.run({"verify"}).status == 0);
    REQUIRE(site.secondary({"sync"}).status == 0);
    // Rows started long ago by a run that is alive (its lock is not free): the timeout sweeps fail them.
    site.main_db.exec("UPDATE cool_widget_states SET verification_state = 1, verification_started_at = now() - "
                      "interval '9 hours' WHERE cool_widget_id = 1");
    site.geo_db.exec("UPDATE cool_widget_registry SET state = 1, last_synced_at = now() - interval '4 hours' "
                     "WHERE cool_widget_id = 2");
    site.geo_db.exec("UPDATE cool_widget_registry SET verification_state = 1, verification_started_at = now() - "
                     "interval '9 hours' WHERE cool_widget_id = 3");
    // Hold the locks of those claim times, as a live run would.
    pqxx::connection main_holder(site.main_db.conninfo());
    pqxx::connection geo_holder(site.geo_db.conninfo());
    hold_run_lock(main_holder, "cool_widget_states", "verification_started_at", 1);
    hold_run_lock(geo_holder, "cool_widget_registry", "last_synced_at", 2);
    hold_run_lock(geo_holder, "cool_widget_registry", "verification_started_at", 3);

    site.run({"verify"});
    CHECK(site.state_of(1, "verification_state") == "3");
    CHECK(site.state_of(1, "verification_failure") == "Verification timed out after 28800");
    site.secondary({"sync"});
    CHECK(site.registry(2, "last_sync_failure") == "Sync timed out after 10800");
    site.secondary({"verify"});
    CHECK(site.registry(3, "verification_failure") == "Verification timed out after 28800");
    CHECK(site.registry(3, "last_sync_failure") == "Verification failed with: Verification timed out after 28800");
}

TEST_CASE("fidelity: the registry's verification-timeout sweep touches synced rows only") {
    SecondaryFixture site;
    site.add_records(1, 2);
    REQUIRE(site.run({"verify"}).status == 0);
    REQUIRE(site.secondary({"sync"}).status == 0);
    // Record 1 failed to sync after its verification started; record 2 is synced. Both started 9 hours ago.
    site.geo_db.exec("UPDATE cool_widget_registry SET verification_state = 1, verification_started_at = now() - "
                     "interval '9 hours'");
    site.geo_db.exec("UPDATE cool_widget_registry SET state = 3, retry_count = 2, retry_at = now() + interval '1 hour', "
                     "last_sync_failure = 'Error syncing repository: earlier' WHERE cool_widget_id = 1");
    pqxx::connection holder(site.geo_db.conninfo());
    hold_run_lock(holder, "cool_widget_registry", "verification_started_at", 1);
    hold_run_lock(holder, "cool_widget_registry", "verification_started_at", 2);
    site.secondary({"verify"});
    CHECK(site.registry(1, "verification_state") == "1");
    CHECK(site.registry(1, "retry_count") == "2");
    CHECK(site.registry(1, "last_sync_failure") == "Error syncing repository: earlier");
    CHECK(site.registry(2, "verification_state") == "3");
    CHECK(site.registry(2, "state") == "3");
}

TEST_CASE("fidelity: a sync that finishes after its row was marked pending leaves it pending, retries cleared") {
    SecondaryFixture site;
    site.add_records(1, 1);
    REQUIRE(site.secondary({"sync"}).status == 0);
    site.geo_db.exec("UPDATE cool_widget_registry SET state = 3, retry_count = 3, retry_at = now() - interval '1 second',"
                     " last_sync_failure = 'Error syncing repository: earlier'");
    HeldOpens held(site.repository(1));
    BackgroundRun sync({"-c", site.secondary_config.string(), "sync"});
    wait_for_held_open(held, sync);  // the fetch reads the primary's refs
    wait_for(site.geo_db, "SELECT state = 1 FROM cool_widget_registry WHERE cool_widget_id = 1");
    // A bulk resync while the fetch runs: GitLab's bulk update sets the state alone.
    REQUIRE(run_while_held(held, sync, {"-c", site.secondary_config.string(), "resync", "cool_widget", "--all"})
                .status == 0);
    CHECK(site.registry(1, "retry_count") == "3");
    held.release();
    RunResult done = sync.wait();
    CAPTURE(done.err);
    CHECK(site.registry(1, "state") == "0");  // still pending: the next sync fetches again
    CHECK(site.registry(1, "retry_count") == "0");
    CHECK(site.registry(1, "retry_at IS NULL") == "true");
    CHECK(site.registry(1, "last_sync_failure IS NULL") == "true");
}

TEST_CASE("fidelity: a checksum restarted while it ran goes back to pending and keeps the checksum it computed") {
    PrimaryFixture site;
    site.add_records(1, 1);
    REQUIRE(site.run({"verify"}).status == 0);
    std::string first = site.state_of(1, "encode(verification_checksum, 'hex')");
    site.main_db.exec("UPDATE cool_widget_states SET verification_state = 0, verification_checksum = NULL");
    HeldOpens held(site.repository(1));
    BackgroundRun verify({"-c", site.config.string(), "verify"});
    wait_for_held_open(held, verify);  // the checksum reads the refs
    wait_for(site.main_db, "SELECT verification_state = 1 FROM cool_widget_states WHERE cool_widget_id = 1");
    REQUIRE(run_while_held(held, verify, {"-c", site.config.string(), "reverify", "cool_widget", "1"}).status == 0);
    held.release();
    RunResult done = verify.wait();
    CAPTURE(done.err);
    CHECK(site.state_of(1, "verification_state") == "0");
    CHECK(site.state_of(1, "encode(verification_checksum, 'hex')") == first);
    CHECK(site.state_of(1, "verified_at > now() - interval '1 minute'") == "true");
    // No checksum_succeeded event for a row that is pending again.
    CHECK(site.main_db.scalar("SELECT count(*) FROM geo_events WHERE event_name = 'checksum_succeeded'") == "1");
}

TEST_CASE("fidelity: resync --all changes the sync state alone; resync of one record is the full transition") {
    SecondaryFixture site;
    site.add_records(1, 2);
    REQUIRE(site.run({"verify"}).status == 0);
    REQUIRE(site.secondary({"sync"}).status == 0);
    REQUIRE(site.secondary({"verify"}).status == 0);
    site.geo_db.exec("UPDATE cool_widget_registry SET retry_count = 2, retry_at = now() + interval '1 hour'");
    REQUIRE(site.secondary({"resync", "cool_widget", "1"}).status == 0);
    CHECK(site.registry(1, "state") == "0");
    CHECK(site.registry(1, "verification_state") == "4");
    CHECK(site.registry(1, "retry_count") == "0");
    REQUIRE(site.secondary({"resync", "cool_widget", "--all"}).status == 0);
    CHECK(site.registry(2, "state") == "0");
    CHECK(site.registry(2, "verification_state") == "2");  // verified counts do not collapse
    CHECK(site.registry(2, "retry_count") == "2");
    CHECK(site.registry(2, "retry_at IS NOT NULL") == "true");
}

TEST_CASE("fidelity: reverify --all and --failed set verification pending and keep the failure and retry count") {
    SecondaryFixture site;
    site.add_records(1, 2);
    REQUIRE(site.run({"verify"}).status == 0);
    REQUIRE(site.secondary({"sync"}).status == 0);
    REQUIRE(site.secondary({"verify"}).status == 0);
    site.main_db.exec("UPDATE cool_widget_states SET verification_state = 3, verification_failure = 'Error during "
                      "verification: x', verification_retry_count = 4 WHERE cool_widget_id = 1");
    REQUIRE(site.run({"reverify", "cool_widget", "--failed"}).status == 0);
    CHECK(site.state_of(1, "verification_state") == "0");
    CHECK(site.state_of(1, "verification_failure") == "Error during verification: x");
    CHECK(site.state_of(1, "verification_retry_count") == "4");
    CHECK(site.state_of(2, "verification_state") == "2");  // not failed: untouched

    site.geo_db.exec("UPDATE cool_widget_registry SET verification_state = 3, verification_failure = 'mismatch', "
                     "verification_retry_count = 5");
    REQUIRE(site.secondary({"reverify", "cool_widget", "--all"}).status == 0);
    CHECK(site.registry_count("verification_state = 0 AND verification_failure = 'mismatch' AND "
                              "verification_retry_count = 5") == 2);
    REQUIRE(site.run({"reverify", "cool_widget", "--all"}).status == 0);
    CHECK(site.state_of(1, "verification_failure") == "Error during verification: x");
}

TEST_CASE("fidelity: registry consistency registers one batch per run and resumes where it stopped") {
    SecondaryFixture site;
    write_file(site.secondary_config, read_file(site.secondary_config) + "sync: {consistency_batch_size: 3}\n");
    site.main_db.exec("INSERT INTO cool_widgets (id) SELECT generate_series(1, 10)");
    auto created = [&] {
        auto sync = nlohmann::json::parse(site.secondary({"sync", "--format", "json"}).out);
        return sync["replicables"][0]["registry_created"].get<long long>();
    };
    CHECK(created() == 3);  // ids 1-3: the registry was empty
    CHECK(site.registry_count("true") == 3);
    CHECK(created() == 6);  // the cursor's batch, 4-6, and the batch above the largest registered id, 7-9
    CHECK(created() == 1);  // 7-9 again, and above them 10
    CHECK(site.registry_count("true") == 10);
    // A record created without an event below the cursor waits at most one cycle.
    site.main_db.exec("DELETE FROM cool_widgets WHERE id = 2");
    site.geo_db.exec("DELETE FROM cool_widget_registry WHERE cool_widget_id = 5");
    int runs = 0;
    while (site.registry_count("cool_widget_id = 5") == 0 && runs < 5) {
        site.secondary({"sync", "--allow-mass-removal"});  // 1 of 3 rows of a batch: more than 10%
        ++runs;
    }
    CHECK(runs <= 4);  // ten ids in batches of three
    CHECK(site.registry_count("cool_widget_id = 5") == 1);
    CHECK(site.registry_count("cool_widget_id = 2") == 0);
}

TEST_CASE("fidelity: a primary's state-row backfill takes one batch per run and resumes where it stopped") {
    PrimaryFixture site("verification: {backfill_batch_size: 3}\n");
    site.main_db.exec("INSERT INTO cool_widgets (id) SELECT generate_series(1, 10)");
    auto verify = [&] { REQUIRE(site.run({"verify"}).status <= 1); };  // no repositories: checksums fail
    verify();
    CHECK(site.count("true") == 3);  // ids 1-3: there were no rows
    CHECK(std::stoll(site.main_db.scalar("SELECT position FROM geo_ssf_cursors WHERE name = 'state_backfill:cool_widget'")) == 3);
    verify();
    CHECK(site.count("true") == 9);  // the cursor's batch, 4-6, and the batch above the largest id with a row, 7-9
    verify();
    CHECK(site.count("true") == 10);  // 7-9 again, and above them 10
    // A row lost below the cursor (a record restored from a backup, brought into the scope) waits
    // at most one cycle; a record that left the scope loses its row within one too.
    site.main_db.exec("DELETE FROM cool_widget_states WHERE cool_widget_id = 5");
    int runs = 0;
    while (site.count("cool_widget_id = 5") == 0 && runs < 5) {
        verify();
        ++runs;
    }
    CHECK(runs <= 4);  // ten ids in batches of three
    CHECK(site.count("cool_widget_id = 5") == 1);
    // Each run walks a bounded part of the table: with the batch above the top, at most 2 batches.
    site.main_db.exec("DELETE FROM cool_widget_states");
    verify();
    CHECK(site.count("true") <= 6);
}

TEST_CASE("fidelity: an updated event for a record without a repository does not ask for a checksum") {
    PrimaryFixture site;
    site.add_records(1, 1);
    site.main_db.exec("INSERT INTO cool_widgets (id) VALUES (2)");  // no repository
    REQUIRE(site.run({"verify"}).status == 1);                     // 2 fails: no repository
    REQUIRE(site.state_of(2, "verification_state") == "3");
    REQUIRE(site.run({"event", "cool_widget", "updated", "1", "2"}).status == 0);
    CHECK(site.state_of(1, "verification_state") == "0");
    CHECK(site.state_of(2, "verification_state") == "3");
}

TEST_CASE("fidelity: records out of scope: events change nothing; consistency drops the row and keeps the copy") {
    SecondaryFixture site;
    site.add_records(1, 2);
    REQUIRE(site.run({"verify"}).status == 0);
    REQUIRE(site.secondary({"sync"}).status == 0);
    REQUIRE(site.secondary({"verify"}).status == 0);
    site.main_db.exec("ALTER TABLE cool_widgets ADD COLUMN archived boolean NOT NULL DEFAULT false");
    site.main_db.exec("UPDATE cool_widgets SET archived = true WHERE id = 2");
    std::string definition = read_file(site.dir / "replicables" / "cool_widget.yml");
    auto at = definition.find("\nscope:");
    REQUIRE(at != std::string::npos);
    definition.replace(at + 1, definition.find('\n', at + 1) - at - 1, "scope: \"archived = false\"");
    write_file(site.dir / "replicables" / "cool_widget.yml", definition);
    site.main_db.exec("INSERT INTO geo_events (replicable_name, event_name, payload, created_at) VALUES "
                      "('cool_widget', 'checksum_succeeded', '{\"model_record_id\": 2}', now()),"
                      "('cool_widget', 'updated', '{\"model_record_id\": 2}', now())");
    // One of the two rows: more than sync.max_removal_share, so confirmed.
    auto sync = nlohmann::json::parse(site.secondary({"sync", "--allow-mass-removal", "--format", "json"}).out);
    CHECK(sync["events"] == 2);
    CHECK(sync["replicables"][0]["registry_deleted"] == 1);
    CHECK(site.registry_count("cool_widget_id = 2") == 0);
    CHECK(std::filesystem::exists(site.copy(2) / "HEAD"));  // as GitLab: the repository stays
    CHECK(site.registry(1, "verification_state") == "2");
}

TEST_CASE("fidelity: a new secondary starts after the newest event instead of replaying the backlog") {
    SecondaryFixture site;
    site.add_records(1, 3);
    REQUIRE(site.run({"event", "cool_widget", "updated", "1", "2", "3"}).status == 0);
    auto sync = nlohmann::json::parse(site.secondary({"sync", "--format", "json"}).out);
    CHECK(sync["events"] == 0);
    CHECK(sync["last_event_id"] == std::stoll(site.main_db.scalar("SELECT max(id) FROM geo_events")));
    CHECK(sync["replicables"][0]["registry_created"] == 3);  // registry consistency finds the records
    REQUIRE(site.run({"event", "cool_widget", "updated", "2"}).status == 0);
    sync = nlohmann::json::parse(site.secondary({"sync", "--format", "json"}).out);
    CHECK(sync["events"] == 1);
    CHECK(sync["synced"] == 1);
}

TEST_CASE("fidelity: with verification disabled, the verified percentage is 0 and the counts nil") {
    TwoSitesFixture sites;
    sites.set_definition("cool_widget", "verification_enabled", "false");
    sites.geo_db.exec("INSERT INTO cool_widget_registry (cool_widget_id, created_at, state) VALUES (1, now(), 2)");
    RunResult status = sites.secondary_run({"status", "--format", "json"});
    REQUIRE(status.status == 0);
    auto json = nlohmann::json::parse(status.out);
    nlohmann::json widgets;
    for (const auto& t : json["replicables"])
        if (t["name"] == "cool_widget")
            widgets = t;
    CHECK(widgets["cool_widgets_verified_in_percentage"] == 0.0);
    CHECK(widgets["cool_widgets_verified_count"].is_null());
    CHECK(widgets["cool_widgets_synced_in_percentage"] == 100.0);
}


TEST_CASE("fidelity: a type whose definition fails against the database is named; the other types still run") {
    TwoSitesFixture sites;
    sites.main_db.exec("INSERT INTO cool_widgets (id) VALUES (1); INSERT INTO gadgets (id) VALUES (1)");
    sites.set_definition("gadget", "repository_path", "\"gadgets/{nope}.git\"");
    RunResult check = sites.primary_run({"check"});
    CAPTURE(check.out);
    CHECK(check.status == 1);
    CHECK(check.out.find("FAILED  definition of gadget fits its model table: ") != std::string::npos);
    CHECK(check.out.find("gadget.yml: repository_path: {nope} is not a column of gadgets") !=
          std::string::npos);
    CHECK(check.out.find("passed  definition of cool_widget fits its model table") != std::string::npos);

    RunResult verify = sites.primary_run({"verify", "--format", "json"});
    CAPTURE(verify.err);
    CHECK(verify.status == 1);
    CHECK(verify.err.find("gadget (") != std::string::npos);
    CHECK(verify.err.find("gadget.yml) did not run: ") != std::string::npos);
    CHECK(verify.err.find("nope") != std::string::npos);
    auto json = nlohmann::json::parse(verify.out);
    CHECK(json["replicables"][0]["name"] == "cool_widget");
    CHECK(json["replicables"][0]["claimed"] == 1);  // the other type ran
    CHECK(json["replicables"][1]["error"].get<std::string>().find("nope") != std::string::npos);

    sites.set_definition("gadget", "repository_path", "\"gadgets/{id}.git\"");
    sites.set_definition("gadget", "scope", "\"nope = 1\"");
    check = sites.primary_run({"check"});
    CHECK(check.out.find("gadget.yml: scope: not a condition on gadgets: ") != std::string::npos);
    verify = sites.primary_run({"verify"});
    CHECK(verify.status == 1);
    CHECK(verify.err.find("gadget (") != std::string::npos);
    CHECK(verify.err.find("column \"nope\" does not exist") != std::string::npos);
}
}
