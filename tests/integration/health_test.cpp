// Copies that stay healthy: housekeeping after syncs, deep checks of every object on both sites,
// the repair of a damaged copy, and what show, status and the metrics say of them. Repositories
// are damaged in real ways: a byte flipped in a pack, a pack cut short, a packed object the refs
// reach taken out, a loose object deleted.
#include "exposition.hpp"
#include "secondary_fixture.hpp"

#include <nlohmann/json.hpp>

#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <string>
#include <thread>
#include <vector>

using namespace geo_ssf::test;
namespace fs = std::filesystem;

namespace {

const char* k_no_git = "no-programs";  // a PATH without git: libgit2 does everything

// A commit on main with FILES new files of text: objects a pack compresses, fetched as loose
// objects when there are fewer than 100.
void push(const fs::path& repository, int files, const std::string& tag) {
    shell("cd '" + repository.string() + "' && export GIT_INDEX_FILE=$(mktemp -u) && git read-tree main && "
          "for i in $(seq 1 " + std::to_string(files) + "); do blob=$(seq 1 $((200 + i)) | sed 's/^/" + tag +
          " line /' | git hash-object -w --stdin) && git update-index --add --cacheinfo 100644,$blob," + tag +
          "/$i.txt; done && commit=$(echo " + tag + " | git commit-tree -p main $(git write-tree)) && "
          "git update-ref refs/heads/main $commit && rm -f $GIT_INDEX_FILE");
}

long long loose_objects(const fs::path& repository) {
    long long files = 0;
    for (const auto& folder : fs::directory_iterator(repository / "objects"))
        if (folder.path().filename().string().size() == 2)
            for (const auto& entry : fs::directory_iterator(folder.path()))
                files += entry.is_regular_file();
    return files;
}

std::vector<fs::path> packs_of(const fs::path& repository) {
    std::vector<fs::path> packs;
    for (const auto& entry : fs::directory_iterator(repository / "objects" / "pack"))
        if (entry.path().extension() == ".pack")
            packs.push_back(entry.path());
    return packs;
}

// Makes FILE writable, as git writes packs read-only.
void writable(const fs::path& file) {
    fs::permissions(file, fs::perms::owner_write, fs::perm_options::add);
}

// REPOSITORY's first pack; a repository of loose objects alone (as push makes them) is packed first.
fs::path first_pack(const fs::path& repository) {
    if (packs_of(repository).empty())
        shell("git -C '" + repository.string() + "' repack -a -d -q");
    return packs_of(repository).front();
}

void flip_byte_in_pack(const fs::path& repository) {
    auto pack = first_pack(repository);
    writable(pack);
    std::fstream file(pack, std::ios::in | std::ios::out | std::ios::binary);
    auto middle = static_cast<std::streamoff>(fs::file_size(pack) / 2);
    file.seekg(middle);
    char byte = 0;
    file.read(&byte, 1);
    file.seekp(middle);
    byte = static_cast<char>(byte ^ 0x40);
    file.write(&byte, 1);
}

void truncate_pack(const fs::path& repository) {
    auto pack = first_pack(repository);
    writable(pack);
    fs::resize_file(pack, fs::file_size(pack) / 2);
}

// Repacks REPOSITORY without one blob that main reaches.
void drop_packed_blob(const fs::path& repository) {
    shell("cd '" + repository.string() + "' && blob=$(git rev-list --objects main | awk 'NF == 2 && $2 ~ /txt$/ "
          "{print $1; exit}') && test -n \"$blob\" && git rev-list --objects --all | cut -d' ' -f1 | grep -v $blob | "
          "git pack-objects -q objects/pack/new >/dev/null && for f in objects/pack/pack-*; do rm -f \"$f\"; done && "
          "for f in objects/pack/new-*; do mv \"$f\" \"objects/pack/pack-${f#objects/pack/new-}\"; done && "
          "! git cat-file -e $blob");
}

void delete_loose_blob(const fs::path& repository) {
    shell("cd '" + repository.string() + "' && blob=$(git rev-list --objects main -1 | awk 'NF == 2 && $2 ~ /^loose\\/.*txt$/ "
          "{print $1; exit}') && f=objects/$(echo $blob | cut -c1-2)/$(echo $blob | cut -c3-) && test -f $f && rm -f $f");
}

// Where record ID's copies went in the quarantine.
std::vector<fs::path> quarantined(const SecondaryFixture& site, long long id) {
    std::vector<fs::path> out;
    auto folder = site.secondary_storage / ".geo-ssf-removed" / "cool_widget" / std::to_string(id);
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(folder, ec))
        out.push_back(entry.path());
    return out;
}

// Every file and folder of a copy with its inode and modification time, to tell it was left alone.
std::map<std::string, std::pair<ino_t, long long>> identity_of(const fs::path& repository) {
    std::map<std::string, std::pair<ino_t, long long>> out;
    auto add = [&](const fs::path& path) {
        struct stat st {};
        REQUIRE(::lstat(path.c_str(), &st) == 0);
        out[path.string()] = {st.st_ino, static_cast<long long>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec};
    };
    add(repository);
    for (const auto& entry : fs::recursive_directory_iterator(repository))
        add(entry.path());
    return out;
}

std::string deep_check(SecondaryFixture& site, long long id, const std::string& column) {
    return site.geo_db.scalar("SELECT (" + column + ")::text FROM geo_ssf_deep_checks WHERE replicable = "
                              "'cool_widget' AND record_id = " + std::to_string(id));
}

std::string housekeeping(SecondaryFixture& site, long long id, const std::string& column) {
    return site.geo_db.scalar("SELECT (" + column + ")::text FROM geo_ssf_housekeeping WHERE replicable = "
                              "'cool_widget' AND record_id = " + std::to_string(id));
}

std::string primary_deep_check(SecondaryFixture& site, long long id, const std::string& column) {
    return site.main_db.scalar("SELECT (" + column + ")::text FROM geo_ssf_deep_checks WHERE replicable = "
                               "'cool_widget' AND record_id = " + std::to_string(id));
}

// Records FIRST..LAST with content, verified on the primary, synced and verified here.
void synced_and_verified(SecondaryFixture& site, long long first, long long last, const RunOptions& options = {}) {
    site.add_records(first, last);
    for (long long id = first; id <= last; ++id)
        push(site.repository(id), 8, "content");
    REQUIRE(site.run({"verify"}).status == 0);
    RunResult sync = site.secondary({"sync"}, options);
    REQUIRE_MESSAGE(sync.status == 0, (sync.out + sync.err));
    RunResult verify = site.secondary({"verify"}, options);
    REQUIRE_MESSAGE(verify.status == 0, (verify.out + verify.err));
    for (long long id = first; id <= last; ++id)
        REQUIRE(site.registry(id, "verification_state") == "2");
}

// A run that holds claims, as one on another host would: it keeps its run lock (the advisory
// lock of its claim time) for as long as it lives.
class LiveRun {
public:
    explicit LiveRun(TestDatabase& db) : m_connection(db.conninfo()) {
        pqxx::nontransaction tx(m_connection);
        m_claim_time = tx.exec1("SELECT now()::text").front().as<std::string>();
        tx.exec_params("SELECT pg_advisory_lock((extract(epoch FROM $1::timestamptz) * 1000000)::bigint)", m_claim_time);
    }
    const std::string& claim_time() const { return m_claim_time; }

private:
    pqxx::connection m_connection;
    std::string m_claim_time;
};

}  // namespace

TEST_SUITE("health") {

TEST_CASE("health: a first sync gives a copy its commit-graph; loose objects stay below the limit, then are rolled up") {
    SecondaryFixture site;
    site.add_records(1, 1);
    RunResult sync = site.secondary({"sync", "--format", "json"});
    REQUIRE_MESSAGE(sync.status == 0, sync.err);
    auto json = nlohmann::json::parse(sync.out);
    CHECK(json["housekeeping"]["claimed"] == 1);
    CHECK(json["housekeeping"]["succeeded"] == 1);
    CHECK(housekeeping(site, 1, "housekeeping_state") == "2");
    CHECK(housekeeping(site, 1, "housekeeping_tasks") == "commit-graph");  // a clone is one pack already
    CHECK(housekeeping(site, 1, "housekeeping_fresh_copy") == "false");
    CHECK(fs::exists(site.copy(1) / "objects" / "info" / "commit-graphs" / "commit-graph-chain"));
    CHECK(packs_of(site.copy(1)).size() == 1);

    // A small push is fetched as loose objects, which stay while they are few.
    push(site.repository(1), 10, "small");
    REQUIRE(site.run({"event", "cool_widget", "updated", "1"}).status == 0);
    REQUIRE(site.secondary({"sync"}).status == 0);
    CHECK(loose_objects(site.copy(1)) == 13);  // 10 blobs, 2 trees, a commit
    CHECK(housekeeping(site, 1, "housekeeping_tasks") == "nothing to do");

    // Past the limit they are rolled up into a pack, with a commit-graph layer.
    push(site.repository(1), 60, "larger");
    REQUIRE(site.run({"event", "cool_widget", "updated", "1"}).status == 0);
    RunResult again = site.secondary({"sync"});
    REQUIRE_MESSAGE(again.status == 0, again.err);
    CHECK(again.out.find("; housekeeping: 1 claimed, 1 succeeded, 0 failed; took ") != std::string::npos);
    CHECK(loose_objects(site.copy(1)) == 0);
    CHECK(housekeeping(site, 1, "housekeeping_tasks") == "incremental repack, commit-graph");
    CHECK(shell("git -C '" + site.copy(1).string() + "' fsck --no-dangling 2>&1").empty());
    CHECK(show_ref_checksum(site.copy(1)) == show_ref_checksum(site.repository(1)));
    REQUIRE(site.run({"verify"}).status == 0);
    REQUIRE(site.secondary({"sync"}).status == 0);
    CHECK(site.secondary({"verify"}).status == 0);
    CHECK(site.registry(1, "verification_state") == "2");
}

TEST_CASE("health: housekeeping stops at --max-runtime as the fetches do; the next sync does it") {
    SecondaryFixture site;
    site.add_records(1, 2);
    REQUIRE(site.secondary({"sync"}).status == 0);
    site.geo_db.exec("UPDATE geo_ssf_housekeeping SET housekeeping_state = 0 WHERE record_id = 1");  // due

    // The event replay waits on a row this test holds locked for longer than --max-runtime, so
    // the run is out of time before its housekeeping.
    REQUIRE(site.run({"event", "cool_widget", "updated", "2"}).status == 0);
    pqxx::connection blocker(site.geo_db.conninfo());
    pqxx::work hold(blocker);
    hold.exec("SELECT 1 FROM cool_widget_registry WHERE cool_widget_id = 2 FOR UPDATE");
    BackgroundRun run({"-c", site.secondary_config.string(), "sync", "--max-runtime", "1s", "--format", "json"});
    while (site.geo_db.scalar("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'geo-ssf' "
                              "AND datname = current_database() AND wait_event_type = 'Lock'") == "0")
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    hold.abort();
    RunResult bounded = run.wait();
    CHECK_MESSAGE(bounded.status == 0, bounded.err);
    auto json = nlohmann::json::parse(bounded.out);
    CHECK(json["housekeeping"]["claimed"] == 0);
    CHECK(housekeeping(site, 1, "housekeeping_state") == "0");

    RunResult next = site.secondary({"sync", "--format", "json"});
    CHECK_MESSAGE(next.status == 0, next.err);
    CHECK(nlohmann::json::parse(next.out)["housekeeping"]["claimed"] == 2);  // record 2 was fetched too
    CHECK(housekeeping(site, 1, "housekeeping_state") == "2");
}

TEST_CASE("health: without git, housekeeping packs the refs only, and says the objects are left as they are") {
    SecondaryFixture site;
    site.add_records(1, 1);
    RunOptions no_git;
    no_git.env["PATH"] = (site.dir / k_no_git).string();
    REQUIRE(site.secondary({"sync"}, no_git).status == 0);
    CHECK(housekeeping(site, 1, "housekeeping_state") == "2");
    CHECK(housekeeping(site, 1, "housekeeping_tasks") == "objects left as they are: git is not installed");
    RunResult check = site.secondary({"check"}, no_git);
    CHECK(check.status == 1);
    CHECK(check.out.find("housekeeping packs the copies' refs only") != std::string::npos);
    RunResult with_git = site.secondary({"check"});
    CHECK(with_git.out.find(": transfers, housekeeping and deep checks (git fsck)") != std::string::npos);
}

TEST_CASE("health: a housekeeping that fails leaves the copy synced and verified, is counted, and is tried again") {
    SecondaryFixture site;
    site.add_records(1, 1);
    REQUIRE(site.run({"verify"}).status == 0);
    REQUIRE(site.secondary({"sync"}).status == 0);
    // git repack reads this from the copy's own configuration, and refuses it.
    shell("git -C '" + site.copy(1).string() + "' config repack.writeBitmaps maybe");
    push(site.repository(1), 70, "many");
    REQUIRE(site.run({"event", "cool_widget", "updated", "1"}).status == 0);
    REQUIRE(site.run({"verify"}).status == 0);
    RunResult sync = site.secondary({"sync", "--format", "json"});
    CHECK(sync.status == 1);
    auto json = nlohmann::json::parse(sync.out);
    CHECK(json["synced"] == 1);
    CHECK(json["housekeeping"]["failed"] == 1);
    CHECK(sync.err.find("cool_widget 1: housekeeping: incremental repack failed: ") != std::string::npos);
    CHECK(site.registry(1, "state") == "2");
    CHECK(housekeeping(site, 1, "housekeeping_state") == "3");
    CHECK(housekeeping(site, 1, "housekeeping_failure").find("repack.writebitmaps") != std::string::npos);
    CHECK(housekeeping(site, 1, "housekeeping_retry_at > now()") == "true");
    REQUIRE(site.secondary({"sync"}).status == 0);  // not due yet
    CHECK(housekeeping(site, 1, "housekeeping_state") == "3");
    REQUIRE(site.secondary({"sync"}).status == 0);
    CHECK(site.secondary({"verify"}).status == 0);  // the copy is as good as before
    CHECK(site.registry(1, "verification_state") == "2");
    auto status = nlohmann::json::parse(site.secondary({"status", "--format", "json"}).out);
    CHECK(status["replicables"][0]["cool_widgets_housekeeping_failed_count"] == 1);

    shell("git -C '" + site.copy(1).string() + "' config --unset repack.writeBitmaps");
    site.geo_db.exec("UPDATE geo_ssf_housekeeping SET housekeeping_retry_at = now() - interval '1 second'");
    REQUIRE(site.secondary({"sync"}).status == 0);
    CHECK(housekeeping(site, 1, "housekeeping_state") == "2");
    CHECK(housekeeping(site, 1, "housekeeping_retry_count") == "0");
    CHECK(loose_objects(site.copy(1)) == 0);
}

TEST_CASE("health: a fetch, a verification, a housekeeping and a deep check of one copy keep off each other") {
    SecondaryFixture site;
    synced_and_verified(site, 1, 2);
    LiveRun other(site.geo_db);
    auto hold = [&](const std::string& table, const std::string& work) {
        site.geo_db.exec("UPDATE " + table + " SET " + work + "_state = 1, " + work + "_started_at = '" +
                         other.claim_time() + "' WHERE record_id = 1");
    };
    auto free = [&](const std::string& table, const std::string& work) {
        site.geo_db.exec("UPDATE " + table + " SET " + work + "_state = 2 WHERE record_id = 1");
    };

    SUBCASE("a housekeeping holds the copy") {
        hold("geo_ssf_housekeeping", "housekeeping");
        RunResult resync = site.secondary({"resync", "cool_widget", "1", "2", "--now"});
        CHECK(resync.out == "1 failed another run is syncing this record right now\n2 synced\n");
        RunResult reverify = site.secondary({"reverify", "cool_widget", "1", "2", "--now"});
        CHECK(reverify.out.starts_with("1 failed not synced yet, or another run is verifying it right now\n2 "));
        RunResult deep = site.secondary({"reverify", "cool_widget", "1", "--deep", "--now"});
        CHECK(deep.out == "1 failed no copy here yet, or another run is working on it right now\n");
        REQUIRE(site.secondary({"resync", "cool_widget", "1"}).status == 0);
        REQUIRE(site.secondary({"sync"}).status == 0);
        CHECK(site.registry(1, "state") == "0");  // left for after the housekeeping
        free("geo_ssf_housekeeping", "housekeeping");
        REQUIRE(site.secondary({"sync"}).status == 0);
        CHECK(site.registry(1, "state") == "2");
    }
    SUBCASE("a deep check holds the copy") {
        hold("geo_ssf_deep_checks", "deep_check");
        site.geo_db.exec("UPDATE geo_ssf_housekeeping SET housekeeping_state = 0");
        RunResult sync = site.secondary({"sync", "--format", "json"});
        REQUIRE(sync.status == 0);
        CHECK(nlohmann::json::parse(sync.out)["housekeeping"]["claimed"] == 1);  // record 2's only
        CHECK(housekeeping(site, 1, "housekeeping_state") == "0");
        RunResult resync = site.secondary({"resync", "cool_widget", "1", "--now"});
        CHECK(resync.out == "1 failed another run is syncing this record right now\n");
    }
    SUBCASE("a fetch holds the copy") {
        site.geo_db.exec("UPDATE cool_widget_registry SET state = 1, last_synced_at = '" + other.claim_time() +
                         "' WHERE cool_widget_id = 1");
        RunResult deep = site.secondary({"reverify", "cool_widget", "1", "2", "--deep", "--now"});
        CHECK(deep.out.starts_with("1 failed no copy here yet, or another run is working on it right now\n2 passed ("));
        site.geo_db.exec("UPDATE geo_ssf_housekeeping SET housekeeping_state = 0");
        RunResult sync = site.secondary({"sync", "--format", "json"});
        CHECK(nlohmann::json::parse(sync.out)["housekeeping"]["claimed"] == 1);
        CHECK(housekeeping(site, 1, "housekeeping_state") == "0");
    }
    SUBCASE("a verification holds the copy") {
        site.geo_db.exec("UPDATE cool_widget_registry SET verification_state = 1, verification_started_at = '" +
                         other.claim_time() + "' WHERE cool_widget_id = 1");
        RunResult deep = site.secondary({"reverify", "cool_widget", "1", "--deep", "--now"});
        CHECK(deep.out == "1 failed no copy here yet, or another run is working on it right now\n");
    }
}

namespace {

enum class Damage { flipped, truncated, dropped, deleted };

// Copies 1 to 3 synced and verified (fetched by git), copy 2 damaged, then deep-checked with
// OPTIONS (git fsck, or libgit2 when git is not on the PATH): copy 2 is repaired, the others
// are left alone.
void damaged_copy_repaired(Damage damage, const RunOptions& options) {
    SecondaryFixture site;
    synced_and_verified(site, 1, 3);
    push(site.repository(2), 5, "loose");  // fetched as loose objects
    REQUIRE(site.run({"event", "cool_widget", "updated", "2"}).status == 0);
    REQUIRE(site.run({"verify"}).status == 0);
    REQUIRE(site.secondary({"sync"}).status == 0);
    REQUIRE(site.secondary({"verify"}).status == 0);
    REQUIRE(loose_objects(site.copy(2)) > 0);

    switch (damage) {
    case Damage::flipped:
        flip_byte_in_pack(site.copy(2));
        break;
    case Damage::truncated:
        truncate_pack(site.copy(2));
        break;
    case Damage::dropped:
        drop_packed_blob(site.copy(2));
        break;
    case Damage::deleted:
        delete_loose_blob(site.copy(2));
        break;
    }
    auto untouched_1 = identity_of(site.copy(1));
    auto untouched_3 = identity_of(site.copy(3));
    // The refs still checksum as the primary's: only a deep check finds it. (A pack cut short
    // no longer matches its index's record of it, which libgit2 notices when it opens it.)
    if (damage != Damage::truncated)
        CHECK(site.secondary({"reverify", "cool_widget", "2", "--now"}, options).status == 0);

    RunResult deep = site.secondary({"reverify", "cool_widget", "--all", "--deep"}, options);
    CHECK(deep.out == "marked 3 cool_widget record(s) for a deep check\n");
    RunResult verify = site.secondary({"verify", "--format", "json"}, options);
    CAPTURE(verify.err);
    CHECK(verify.status == 1);
    auto json = nlohmann::json::parse(verify.out);
    CHECK(json["deep_checks"]["claimed"] == 3);
    CHECK(json["deep_checks"]["succeeded"] == 2);
    CHECK(json["deep_checks"]["failed"] == 1);
    CHECK(json["deep_checks"]["replicables"][0]["failures"][0]["id"] == 2);
    std::string failure = deep_check(site, 2, "deep_check_failure");
    CHECK_MESSAGE(failure.starts_with("moved to the quarantine, and cloned again by the next sync: "), failure);
    CHECK(deep_check(site, 2, "deep_check_state") == "3");
    CHECK(deep_check(site, 2, "deep_check_repairs") == "1");
    CHECK(site.registry(2, "state") == "0");
    CHECK(!fs::exists(site.copy(2)));
    CHECK(quarantined(site, 2).size() == 1);
    auto status = nlohmann::json::parse(site.secondary({"status", "--format", "json"}).out);
    CHECK(status["replicables"][0]["cool_widgets_deep_check_failed_count"] == 1);

    RunResult sync = site.secondary({"sync"});
    CHECK_MESSAGE(sync.status == 0, sync.err);
    CHECK(fs::exists(site.copy(2) / "HEAD"));
    RunResult proven = site.secondary({"verify", "--format", "json"}, options);
    CAPTURE(proven.err);
    CAPTURE(sync.err);
    CHECK_MESSAGE(proven.status == 0, proven.err);
    CHECK(nlohmann::json::parse(proven.out)["deep_checks"]["succeeded"] == 1);
    CHECK(site.registry(2, "verification_state") == "2");
    CHECK(deep_check(site, 2, "deep_check_state") == "2");
    CHECK(deep_check(site, 2, "deep_check_repairs") == "0");
    CHECK(shell("git -C '" + site.copy(2).string() + "' fsck --no-dangling 2>&1").empty());
    CHECK(identity_of(site.copy(1)) == untouched_1);
    CHECK(identity_of(site.copy(3)) == untouched_3);
}

}  // namespace

TEST_CASE("health: a damaged copy fails its deep check, goes to the quarantine, is cloned again and proven") {
    RunOptions git_fsck;
    RunOptions libgit2;  // no git on the PATH
    libgit2.env["PATH"] = "/nonexistent/no-programs";
    SUBCASE("git fsck: a byte flipped in a pack") { damaged_copy_repaired(Damage::flipped, git_fsck); }
    SUBCASE("git fsck: a pack cut short") { damaged_copy_repaired(Damage::truncated, git_fsck); }
    SUBCASE("git fsck: a packed object the refs reach taken out") { damaged_copy_repaired(Damage::dropped, git_fsck); }
    SUBCASE("git fsck: a loose object deleted") { damaged_copy_repaired(Damage::deleted, git_fsck); }
    SUBCASE("libgit2: a byte flipped in a pack") { damaged_copy_repaired(Damage::flipped, libgit2); }
    SUBCASE("libgit2: a pack cut short") { damaged_copy_repaired(Damage::truncated, libgit2); }
    SUBCASE("libgit2: a packed object the refs reach taken out") { damaged_copy_repaired(Damage::dropped, libgit2); }
    SUBCASE("libgit2: a loose object deleted") { damaged_copy_repaired(Damage::deleted, libgit2); }
}

TEST_CASE("health: a fresh clone that fails again is synced again with backoff, and reported") {
    SecondaryFixture site;
    synced_and_verified(site, 1, 1);
    flip_byte_in_pack(site.copy(1));
    RunResult first = site.secondary({"reverify", "cool_widget", "1", "--deep", "--now"});
    CHECK(first.status == 1);
    CAPTURE(first.out);
    CHECK(first.out.starts_with("1 failed deep check: moved to the quarantine, and cloned again by the next sync: git "
                                "fsck: "));
    REQUIRE(site.secondary({"sync"}).status == 0);
    flip_byte_in_pack(site.copy(1));
    RunResult second = site.secondary({"reverify", "cool_widget", "1", "--deep", "--now"});
    CAPTURE(second.out);
    CAPTURE(second.err);
    CHECK(second.status == 1);
    CHECK(second.out.starts_with("1 failed deep check: moved to the quarantine after 1 fresh clone failed in a row, "
                                 "and the primary's repository has not passed a deep check yet: git fsck: "));
    CHECK(site.registry(1, "state") == "3");
    CHECK(site.registry(1, "retry_count") == "1");
    CHECK(site.registry(1, "retry_at > now()") == "true");
    CHECK(site.registry(1, "last_sync_failure").starts_with(
        "Error syncing repository: a fresh clone failed its deep check again (1 in a row"));
    CHECK(deep_check(site, 1, "deep_check_repairs") == "2");
    CHECK(quarantined(site, 1).size() == 2);
    RunResult sync = site.secondary({"sync", "--format", "json"});
    CHECK(nlohmann::json::parse(sync.out)["claimed"] == 0);  // not before its retry time
    auto status = nlohmann::json::parse(site.secondary({"status", "--format", "json"}).out);
    CHECK(status["replicables"][0]["cool_widgets_failed_count"] == 1);
}

TEST_CASE("health: a copy whose primary's repository fails its own deep check too is kept, and reported") {
    SecondaryFixture site;
    synced_and_verified(site, 1, 1);
    flip_byte_in_pack(site.repository(1));
    flip_byte_in_pack(site.copy(1));
    RunResult primary = site.run({"reverify", "cool_widget", "1", "--deep", "--now"});
    CHECK(primary.status == 1);
    CHECK(primary_deep_check(site, 1, "deep_check_state") == "3");
    RunResult copy = site.secondary({"reverify", "cool_widget", "1", "--deep", "--now"});
    CHECK(copy.status == 1);
    CHECK(copy.out.starts_with(
        "1 failed deep check: the copy is kept: the primary's repository fails its deep check too: git fsck: "));
    CHECK(fs::exists(site.copy(1) / "HEAD"));
    CHECK(quarantined(site, 1).empty());
    CHECK(site.registry(1, "state") == "2");
    CHECK(deep_check(site, 1, "deep_check_repairs") == "0");
}

TEST_CASE("health: a primary's damaged repository fails its verification with the reason, until a deep check passes") {
    PrimaryFixture site;
    site.add_records(1, 2);
    for (long long id : {1, 2})
        push(site.repository(id), 8, "content");
    REQUIRE(site.run({"verify"}).status == 0);
    shell("cp -a '" + site.repository(1).string() + "' '" + (site.dir / "backup.git").string() + "'");
    flip_byte_in_pack(site.repository(1));
    // The refs still read: the checksum alone passes.
    CHECK(site.run({"reverify", "cool_widget", "1", "--now"}).status == 0);

    RunResult deep = site.run({"reverify", "cool_widget", "1", "--deep", "--now"});
    CHECK(deep.status == 1);
    CHECK(deep.out.starts_with("1 failed deep check: git fsck: "));
    CHECK(site.state_of(1, "verification_state") == "0");  // to be verified with what the check found
    RunResult verify = site.run({"verify", "--format", "json"});
    CHECK(verify.status == 1);
    CHECK(site.state_of(1, "verification_state") == "3");
    CHECK(site.state_of(1, "verification_failure").starts_with("Error during verification: deep check failed: git fsck: "));
    auto status = nlohmann::json::parse(site.run({"status", "--format", "json"}).out);
    CHECK(status["replicables"][0]["cool_widgets_checksum_failed_count"] == 1);
    CHECK(status["replicables"][0]["cool_widgets_deep_check_failed_count"] == 1);
    // Retried with backoff, it fails again with the same reason.
    site.main_db.exec("UPDATE cool_widget_states SET verification_retry_at = now() - interval '1 second'");
    REQUIRE(site.run({"verify"}).status == 1);
    CHECK(site.state_of(1, "verification_failure").find("deep check failed") != std::string::npos);

    fs::remove_all(site.repository(1));
    shell("cp -a '" + (site.dir / "backup.git").string() + "' '" + site.repository(1).string() + "'");
    RunResult passed = site.run({"reverify", "cool_widget", "1", "--deep", "--now"});
    CHECK(passed.status == 0);
    CHECK(passed.out.starts_with("1 passed (git fsck, "));
    CHECK(site.state_of(1, "verification_state") == "0");
    REQUIRE(site.run({"verify"}).status == 0);
    CHECK(site.state_of(1, "verification_state") == "2");
}

TEST_CASE("health: each record's first deep check falls within the first interval, then one interval after each") {
    PrimaryFixture site;
    write_file(site.config, read_file(site.config) + "verification: {deep_interval: 1h}\n");
    site.add_records(1, 20);
    REQUIRE(site.run({"verify"}).status == 0);  // makes the rows, and schedules them
    CHECK(site.main_db.scalar("SELECT count(*) FROM geo_ssf_deep_checks WHERE deep_check_due_at > now() - interval "
                              "'1 minute' AND deep_check_due_at <= now() + interval '1 hour'") == "20");
    // Spread over the hour, not bunched.
    CHECK(std::stoll(site.main_db.scalar("SELECT count(DISTINCT date_trunc('minute', deep_check_due_at)) FROM "
                                         "geo_ssf_deep_checks")) > 5);
    RunResult marked = site.run({"reverify", "cool_widget", "3", "--deep"});
    CHECK(marked.out == "marked 1 cool_widget record(s) for a deep check\n");
    RunResult verify = site.run({"verify", "--format", "json"});
    REQUIRE(verify.status == 0);
    CHECK(nlohmann::json::parse(verify.out)["deep_checks"]["succeeded"] >= 1);
    CHECK(site.main_db.scalar("SELECT deep_check_state || ' ' || (deep_check_due_at BETWEEN now() + interval '59 "
                              "minutes' AND now() + interval '1 hour') FROM geo_ssf_deep_checks WHERE record_id = 3") ==
          "2 true");
}

TEST_CASE("health: show, status and the metrics file tell the deep checks and the housekeeping") {
    SecondaryFixture site;
    synced_and_verified(site, 1, 1);
    REQUIRE(site.secondary({"reverify", "cool_widget", "1", "--deep", "--now"}).status == 0);
    RunResult show = site.secondary({"show", "cool_widget", "1"});
    CAPTURE(show.out);
    CHECK(show.out.find("\ndeep check (geo_ssf_deep_checks)\n") != std::string::npos);
    CHECK(show.out.find("  deep_check_state  ") != std::string::npos);
    CHECK(show.out.find("succeeded (2)") != std::string::npos);
    CHECK(show.out.find("  next deep check         in 29 days\n") != std::string::npos);
    CHECK(show.out.find("\nhousekeeping (geo_ssf_housekeeping)\n") != std::string::npos);
    CHECK(show.out.find("commit-graph") != std::string::npos);
    auto json = nlohmann::json::parse(site.secondary({"show", "cool_widget", "1", "--format", "json"}).out);
    CHECK(json["deep_check"]["deep_check_state"] == "succeeded");
    CHECK(json["housekeeping"]["housekeeping_tasks"] == "commit-graph");
    CHECK(json["next_deep_check"].get<std::string>().starts_with("in "));

    std::string table = site.secondary({"status"}).out;
    CAPTURE(table);
    CHECK(std::regex_search(table, std::regex("\n  Failed deep check +0\n")));
    CHECK(std::regex_search(table, std::regex("\n  Due a deep check +0\n")));
    CHECK(std::regex_search(table, std::regex("\n  Failed housekeeping +0\n")));
    auto gauges = parse_exposition(site.secondary({"status", "--format", "prometheus"}).out);
    CHECK(gauges.errors.empty());
    CHECK(gauges.value("geo_ssf_deep_check_failed_records", {{"type", "cool_widget"}}) == 0);
    CHECK(gauges.value("geo_ssf_deep_check_due_records", {{"type", "cool_widget"}}) == 0);
    CHECK(gauges.value("geo_ssf_housekeeping_failed_records", {{"type", "cool_widget"}}) == 0);
    CHECK(nlohmann::json::parse(site.run({"show", "cool_widget", "1", "--format", "json"}).out)["deep_check"].is_object());

    push(site.repository(1), 3, "more");
    REQUIRE(site.run({"event", "cool_widget", "updated", "1"}).status == 0);
    REQUIRE(site.secondary({"sync", "--metrics-file", (site.dir / "sync.prom").string()}).status == 0);
    auto sync = parse_exposition(read_file(site.dir / "sync.prom"));
    CHECK(sync.errors.empty());
    CHECK(sync.value("geo_ssf_run_last_housekeeping_claimed_records") == 1);
    CHECK(sync.value("geo_ssf_run_last_housekeeping_succeeded_records") == 1);
    CHECK(sync.value("geo_ssf_run_last_housekeeping_failed_records") == 0);
    CHECK(sync.has("geo_ssf_run_last_housekeeping_duration_seconds"));
    REQUIRE(site.secondary({"reverify", "cool_widget", "1", "--deep"}).status == 0);
    REQUIRE(site.secondary({"verify", "--metrics-file", (site.dir / "verify.prom").string()}).status == 0);
    auto verify = parse_exposition(read_file(site.dir / "verify.prom"));
    CHECK(verify.value("geo_ssf_run_last_deep_check_succeeded_records") == 1);
    CHECK(verify.has("geo_ssf_run_last_deep_check_duration_seconds"));
}

}  // TEST_SUITE
