// What a secondary must never do, whatever its input: remove folders that are not the copies of
// removed records, follow a symbolic link out of its storage root, or print a secret.
#include "one_line_error.hpp"
#include "secondary_fixture.hpp"

#include <nlohmann/json.hpp>

#include <pqxx/pqxx>

#include <csignal>
#include <thread>

#include <sys/stat.h>
#include <unistd.h>

using namespace geo_ssf::test;

namespace {

size_t entries_in(const std::filesystem::path& dir) {
    return static_cast<size_t>(
        std::distance(std::filesystem::directory_iterator(dir), std::filesystem::directory_iterator()));
}

void set_template(SecondaryFixture& site, const std::string& key, const std::string& value) {
    auto file = site.dir / "replicables" / "cool_widget.yml";
    std::string text = read_file(file);
    auto at = text.find("\n" + key + ":");
    REQUIRE(at != std::string::npos);
    auto end = text.find('\n', at + 1);
    text.replace(at + 1, end - at - 1, key + ": " + value);
    write_file(file, text);
}

// Records 1..3 with repository_path cool_widgets/{slug}: slugs "a", "b" and, for record 3, "".
void slug_records(SecondaryFixture& site) {
    site.main_db.exec("ALTER TABLE cool_widgets ADD COLUMN slug text");
    site.main_db.exec("INSERT INTO cool_widgets (id, slug) VALUES (1, 'a'), (2, 'b'), (3, '')");
    site.main_db.exec("GRANT SELECT ON ALL TABLES IN SCHEMA public TO " + site.reader);
    site.repositories.create(site.storage, "cool_widgets/a", 1);
    site.repositories.create(site.storage, "cool_widgets/b", 2);
    set_template(site, "repository_path", "\"cool_widgets/{slug}\"");
}

// RUN's result once it has ended on its own, or at the first SIGTERM (a stop request), which it
// must honour: a run is never held for good.
RunResult run_to_its_end(BackgroundRun& run) {
    if (!wait_until([&] { return run.ended(); }, std::chrono::seconds(300))) {
        run.signal(SIGTERM);
        REQUIRE_MESSAGE(wait_until([&] { return run.ended(); }, std::chrono::seconds(60)),
                        "the run ignored SIGTERM");
    }
    return run.wait();
}

// Replaces the primary's repository of record ID with what COMMAND (a shell line, run in a
// folder of its own with $from the repository and $to where the new one goes) makes.
void replace_primary_repository(SecondaryFixture& site, long long id, const std::string& command) {
    auto from = site.dir / ("original-" + std::to_string(id) + ".git");
    std::filesystem::rename(site.repository(id), from);
    shell("from='" + from.string() + "' to='" + site.repository(id).string() + "' && " + command);
}

// Points the secondary's storage.primary_url at URL.
void set_primary_url(SecondaryFixture& site, const std::string& url) {
    std::string text = read_file(site.secondary_config);
    auto at = text.find("primary_url: \"");
    REQUIRE(at != std::string::npos);
    auto end = text.find('"', at + 14);
    text.replace(at, end - at + 1, "primary_url: \"" + url + "\"");
    write_file(site.secondary_config, text);
}

}  // namespace

TEST_SUITE("safety") {

TEST_CASE("safety: an empty value in the repository path fails that record and never removes the folder above") {
    SecondaryFixture site;
    slug_records(site);
    RunResult sync = site.secondary({"sync"});
    CAPTURE(sync.err);
    CHECK(sync.status == 1);
    CHECK(site.registry(1, "state") == "2");
    CHECK(site.registry(3, "state") == "3");
    CHECK(site.registry(3, "last_sync_failure").find("it ends with '/'") != std::string::npos);
    auto a = site.secondary_storage / "cool_widgets" / "a";
    auto b = site.secondary_storage / "cool_widgets" / "b";
    REQUIRE(std::filesystem::exists(a / "HEAD"));
    // Record 3 leaves the scope: its row goes, and nothing is removed for it.
    set_template(site, "scope", "\"slug <> ''\"");
    sync = site.secondary({"sync", "--allow-mass-removal"});  // 1 of 3 rows: more than 10%
    CAPTURE(sync.err);
    CHECK(sync.status == 0);
    CHECK(site.registry_count("true") == 2);
    CHECK(std::filesystem::exists(a / "HEAD"));
    CHECK(std::filesystem::exists(b / "HEAD"));
}

TEST_CASE("safety: a removal never deletes a folder that is not a bare repository") {
    SecondaryFixture site;
    site.add_records(1, 2);
    REQUIRE(site.secondary({"sync"}).status == 0);
    // The copy of record 1 replaced by a folder of something else.
    std::filesystem::remove_all(site.copy(1));
    write_file(site.copy(1) / "notes.txt", "not a repository\n");
    site.main_db.exec("DELETE FROM cool_widgets WHERE id = 1");
    RunResult sync = site.secondary({"sync", "--allow-mass-removal"});
    CAPTURE(sync.err);
    CHECK(read_file(site.copy(1) / "notes.txt") == "not a repository\n");
    CHECK(sync.err.find("not a bare repository") != std::string::npos);
}

TEST_CASE("safety: a forged deleted event whose disk_path the template does not render removes nothing") {
    SecondaryFixture site;
    site.add_records(1, 3);
    REQUIRE(site.secondary({"sync"}).status == 0);
    write_file(site.secondary_storage / "cool_widgets" / "x.git" / "keep", "precious\n");
    site.main_db.exec("INSERT INTO geo_events (replicable_name, event_name, payload, created_at) VALUES "
                      "('cool_widget', 'deleted', '{\"model_record_id\": 999, \"disk_path\": \"cool_widgets\"}', now()),"
                      "('cool_widget', 'deleted', '{\"model_record_id\": 998, \"disk_path\": \"cool_widgets/\"}', now()),"
                      "('cool_widget', 'deleted', '{\"model_record_id\": 997, \"disk_path\": \"cool_widgets/1.git/objects\"}', now()),"
                      "('cool_widget', 'deleted', '{\"model_record_id\": 996, \"disk_path\": \"other/1.git\"}', now()),"
                      "('cool_widget', 'deleted', '{\"model_record_id\": 995, \"disk_path\": 7}', now())");
    RunResult sync = site.secondary({"sync", "--format", "json"});
    CAPTURE(sync.err);
    CHECK(sync.status == 0);
    auto json = nlohmann::json::parse(sync.out);
    CHECK(json["events_skipped"] == 5);
    CHECK(sync.err.find("disk_path \"cool_widgets\" is not a path cool_widgets/{id}.git renders") != std::string::npos);
    for (long long id = 1; id <= 3; ++id)
        CHECK(std::filesystem::exists(site.copy(id) / "HEAD"));
    CHECK(std::filesystem::exists(site.copy(1) / "objects"));
    CHECK(read_file(site.secondary_storage / "cool_widgets" / "x.git" / "keep") == "precious\n");
    // A path the template renders, but not a repository: the event is applied, the folder stays.
    site.main_db.exec("INSERT INTO geo_events (replicable_name, event_name, payload, created_at) VALUES "
                      "('cool_widget', 'deleted', '{\"model_record_id\": 994, \"disk_path\": \"cool_widgets/x.git\"}', now())");
    site.secondary({"sync"});
    CHECK(read_file(site.secondary_storage / "cool_widgets" / "x.git" / "keep") == "precious\n");
}

TEST_CASE("safety: a temporary folder that is a symbolic link is refused, and clean-up removes only its own") {
    SecondaryFixture site;
    site.add_records(1, 1);
    TempDir outside;
    for (const char* name : {"work", "2147483-0-1", "2147483-0-2"})
        write_file(outside / name / "file", "precious\n");
    std::filesystem::create_directory_symlink(outside.path(), site.secondary_storage / ".geo-ssf-tmp");
    RunResult sync = site.secondary({"sync"});
    CAPTURE(sync.err);
    CHECK(sync.status == 5);
    CHECK(sync.err.find(".geo-ssf-tmp is refused: it is a symbolic link") != std::string::npos);
    CHECK(entries_in(outside.path()) == 3);
    for (const char* name : {"work", "2147483-0-1", "2147483-0-2"})
        CHECK(read_file(outside / name / "file") == "precious\n");
    CHECK_FALSE(std::filesystem::exists(site.copy(1)));

    // A real temporary folder: only what geo-ssf's naming made and looks like a repository goes.
    std::filesystem::remove(site.secondary_storage / ".geo-ssf-tmp");
    auto tmp = site.secondary_storage / ".geo-ssf-tmp";
    write_file(tmp / "notes" / "file", "keep\n");
    write_file(tmp / "2147483-0-1" / "file", "keep\n");                // named like ours, not a repository
    write_file(tmp / "2147483-0-2" / "HEAD", "ref: refs/heads/main\n");  // an interrupted clone
    std::filesystem::create_directories(tmp / "2147483-0-2" / "objects");
    std::filesystem::create_directory_symlink(outside.path(), tmp / "2147483-0-3");
    sync = site.secondary({"sync", "-v"});
    CAPTURE(sync.err);
    CHECK(sync.status == 0);
    CHECK(std::filesystem::exists(tmp / "notes" / "file"));
    CHECK(std::filesystem::exists(tmp / "2147483-0-1" / "file"));
    CHECK_FALSE(std::filesystem::exists(tmp / "2147483-0-2"));
    CHECK(std::filesystem::is_symlink(tmp / "2147483-0-3"));
    CHECK(entries_in(outside.path()) == 3);
    CHECK(std::filesystem::exists(site.copy(1) / "HEAD"));
}

// The quarantined copies of record ID: <root>/.geo-ssf-removed/cool_widget/<id>/<UTC time>.git.
std::vector<std::filesystem::path> quarantined(SecondaryFixture& site, long long id) {
    std::vector<std::filesystem::path> out;
    auto folder = site.secondary_storage / ".geo-ssf-removed" / "cool_widget" / std::to_string(id);
    if (std::filesystem::exists(folder))
        for (const auto& entry : std::filesystem::directory_iterator(folder))
            out.push_back(entry.path());
    return out;
}

TEST_CASE("safety: records gone without a deleted event: a mass removal waits for confirmation, copies go to the quarantine") {
    SecondaryFixture site;
    site.add_records(1, 10);
    REQUIRE(site.secondary({"sync"}).status == 0);
    // The main database lost 9 of 10 records (a restore from an old backup, the wrong database).
    site.main_db.exec("DELETE FROM cool_widgets WHERE id > 1");
    RunResult refused = site.secondary({"sync"});
    CAPTURE(refused.err);
    CHECK(refused.status == 1);
    CHECK(refused.err.find("cool_widget: registry consistency would remove 9 of 10 registry rows compared (90%, more "
                           "than sync.max_removal_share 10%), so it removed none") != std::string::npos);
    CHECK(refused.err.find("geo-ssf sync --allow-mass-removal") != std::string::npos);
    CHECK(site.registry_count("true") == 10);
    for (long long id = 1; id <= 10; ++id)
        CHECK(std::filesystem::exists(site.copy(id) / "HEAD"));
    CHECK(site.secondary({"sync"}).status == 1);  // every run says so until it is confirmed

    // Confirmed: the rows go, the copies are moved aside, not deleted.
    RunResult allowed = site.secondary({"sync", "--allow-mass-removal", "--format", "json"});
    CAPTURE(allowed.err);
    CHECK(allowed.status == 0);
    CHECK(nlohmann::json::parse(allowed.out)["replicables"][0]["registry_deleted"] == 9);
    CHECK(site.registry_count("true") == 1);
    for (long long id = 2; id <= 10; ++id) {
        CHECK_FALSE(std::filesystem::exists(site.copy(id)));
        REQUIRE(quarantined(site, id).size() == 1);
        CHECK(std::filesystem::exists(quarantined(site, id)[0] / "HEAD"));
    }
    auto status = nlohmann::json::parse(site.secondary({"status", "--format", "json"}).out);
    CHECK(status["quarantined_repositories"] == 9);
    CHECK(status["quarantined_bytes"].get<long long>() > 0);
    CHECK(site.secondary({"status", "--format", "prometheus"}).out.find("geo_ssf_quarantined_repositories{site=\"secondary\"} 9\n") !=
          std::string::npos);
    RunResult check = site.secondary({"check"});
    CHECK(check.out.find("quarantine: 9 repositories") != std::string::npos);

    // list --quarantined: a page of records at a time, each copy with its removal and purge times.
    RunResult first_page = site.secondary({"list", "cool_widget", "--quarantined", "--limit", "4", "--format", "json"});
    CAPTURE(first_page.err);
    REQUIRE(first_page.status == 0);
    auto listed = nlohmann::json::parse(first_page.out);
    REQUIRE(listed["quarantined"].size() == 4);
    for (long long i = 0; i < 4; ++i) {
        const auto& copy = listed["quarantined"][i];
        CHECK(copy["id"] == i + 2);
        CHECK(copy["path"] == quarantined(site, i + 2)[0].string());
        CHECK(copy["bytes"].get<long long>() > 0);
        // sync.removed_retention, 7 days, from the stamp in the copy's name.
        std::string stamp = quarantined(site, i + 2)[0].stem().string();
        CHECK(copy["removed_at"] == stamp.substr(0, 4) + "-" + stamp.substr(4, 2) + "-" + stamp.substr(6, 2) + "T" +
                                        stamp.substr(9, 2) + ":" + stamp.substr(11, 2) + ":" + stamp.substr(13, 2) + "Z");
    }
    CHECK(listed["next_after"] == 5);
    RunResult table = site.secondary({"list", "cool_widget", "--quarantined", "--after", "5"});
    CAPTURE(table.err);
    CHECK(table.status == 0);
    CHECK(table.out.find("REMOVED") != std::string::npos);
    CHECK(table.out.find("in 6 days") != std::string::npos);  // purged 7 days after, rounded down
    CHECK(table.out.find(quarantined(site, 10)[0].string()) != std::string::npos);
    CHECK(table.out.find(quarantined(site, 5)[0].string()) == std::string::npos);
    CHECK(table.out.find("(more:") == std::string::npos);
    RunResult mixed = site.secondary({"list", "cool_widget", "--quarantined", "--sync-state", "failed"});
    CHECK(mixed.status == 2);
    CHECK(mixed.err.find("excludes") != std::string::npos);

    // Record 3 comes back: its copy is restored, not cloned again (a file only the old copy has).
    write_file(quarantined(site, 3)[0] / "restored-marker", "x");
    site.main_db.exec("INSERT INTO cool_widgets (id) VALUES (3)");
    RunResult back = site.secondary({"sync"});
    CAPTURE(back.err);
    CHECK(back.status == 0);
    CHECK(std::filesystem::exists(site.copy(3) / "restored-marker"));
    CHECK(quarantined(site, 3).empty());
    CHECK(site.registry(3, "state") == "2");

    // After sync.removed_retention (the clock moved: a copy stamped long ago), sync purges it.
    auto old = quarantined(site, 4)[0];
    std::filesystem::rename(old, old.parent_path() / "20200101T000000Z.git");
    REQUIRE(site.secondary({"sync"}).status == 0);
    CHECK(quarantined(site, 4).empty());
    CHECK_FALSE(std::filesystem::exists(site.secondary_storage / ".geo-ssf-removed" / "cool_widget" / "4"));
    CHECK(quarantined(site, 5).size() == 1);  // within the retention: kept
}

TEST_CASE("safety: an empty model table or a scope that selects none removes nothing without confirmation") {
    SecondaryFixture site;
    site.add_records(1, 3);
    REQUIRE(site.secondary({"sync"}).status == 0);
    site.main_db.exec("DELETE FROM cool_widgets");
    RunResult refused = site.secondary({"sync"});
    CAPTURE(refused.err);
    CHECK(refused.status == 1);
    CHECK(refused.err.find("would remove 3 of 3 registry rows") != std::string::npos);
    CHECK(site.registry_count("true") == 3);
    for (long long id = 1; id <= 3; ++id)
        CHECK(std::filesystem::exists(site.copy(id) / "HEAD"));
    // Deleted events are the primary's word: those copies go at once, without the guard.
    site.run({"event", "cool_widget", "deleted", "1"});
    RunResult deleted = site.secondary({"sync", "--allow-mass-removal"});
    CAPTURE(deleted.err);
    CHECK(deleted.status == 0);
    CHECK_FALSE(std::filesystem::exists(site.copy(1)));
    CHECK(quarantined(site, 1).empty());
    CHECK(quarantined(site, 2).size() == 1);
    CHECK(site.registry_count("true") == 0);
}

TEST_CASE("safety: sync.max_removal_share and sync.max_removal_count are checked and documented in errors") {
    SecondaryFixture site;
    write_file(site.secondary_config, read_file(site.secondary_config) + "sync: {max_removal_share: 12}\n");
    check_one_line_error(site.secondary({"sync"}), 3,
                         "sync.max_removal_share: expected a percentage from 0% to 100%, such as 10%, got \"12\"");
}

TEST_CASE("safety: a removal that fails keeps the registry row, exits 1, and the next sync retries") {
    SecondaryFixture site;
    site.add_records(1, 2);
    REQUIRE(site.secondary({"sync"}).status == 0);
    // HEAD gone: not a bare repository any more, so the removal is refused.
    std::filesystem::rename(site.copy(1) / "HEAD", site.dir / "HEAD.saved");
    REQUIRE(site.run({"event", "cool_widget", "deleted", "1"}).status == 0);
    site.main_db.exec("DELETE FROM cool_widgets WHERE id = 1");
    RunResult sync = site.secondary({"sync"});
    CAPTURE(sync.err);
    CHECK(sync.status == 1);
    CHECK(sync.err.find("cool_widget 1: repository not removed") != std::string::npos);
    CHECK(site.registry(1, "state") == "3");
    CHECK(site.registry(1, "last_sync_failure").rfind("repository not removed: ", 0) == 0);
    CHECK(std::filesystem::exists(site.copy(1) / "objects"));
    CHECK(tallies_folded(site.geo_db));
    // Once it is a repository again, the next run removes it and the row.
    std::filesystem::rename(site.dir / "HEAD.saved", site.copy(1) / "HEAD");
    sync = site.secondary({"sync", "--allow-mass-removal"});  // consistency sees the row of a gone record
    CAPTURE(sync.err);
    CHECK(sync.status == 0);
    CHECK_FALSE(std::filesystem::exists(site.copy(1)));
    CHECK(site.registry_count("cool_widget_id = 1") == 0);
    CHECK(std::filesystem::exists(site.copy(2) / "HEAD"));
}

TEST_CASE("safety: a secondary whose storage root overlaps the primary's storage is refused") {
    SecondaryFixture site;
    site.add_records(1, 1);
    std::string text = read_file(site.secondary_config);
    std::filesystem::create_directory_symlink(site.storage, site.dir / "link-to-primary");
    for (std::string root : {site.storage.string(), (site.storage / "cool_widgets").string(), site.dir.path().string(),
                             (site.dir / "link-to-primary").string()}) {
        CAPTURE(root);
        std::string changed = text;
        auto at = changed.find("root: secondary-repositories");
        REQUIRE(at != std::string::npos);
        changed.replace(at, std::string("root: secondary-repositories").size(), "root: \"" + root + "\"");
        write_file(site.secondary_config, changed);
        for (const char* command : {"check", "sync", "verify"}) {
            RunResult run = site.secondary({command});
            CAPTURE(run.err);
            CHECK(run.status == 3);
            CHECK(run.err.find("overlaps the primary's storage") != std::string::npos);
        }
    }
    write_file(site.secondary_config, text);
    CHECK(site.secondary({"sync"}).status == 0);
    CHECK(std::filesystem::exists(site.repository(1) / "HEAD"));
}

TEST_CASE("safety: credentials in an https primary_url never appear in output, logs or the registry") {
    SecondaryFixture site;
    site.add_records(1, 2);
    std::string secret = "S3cretT0ken";
    std::string text = read_file(site.secondary_config);
    auto at = text.find("primary_url: \"");
    REQUIRE(at != std::string::npos);
    auto end = text.find('"', at + 14);
    text.replace(at, end - at + 1, "primary_url: \"https://alice:" + secret + "@127.0.0.1:1/repositories\"");
    write_file(site.secondary_config, text);
    std::vector<RunResult> runs;
    runs.push_back(site.secondary({"sync", "-vv"}));
    CHECK(runs.back().status == 1);
    runs.push_back(site.secondary({"sync", "-vv", "--log-format", "json", "--format", "json"}));
    runs.push_back(site.secondary({"show", "cool_widget", "1"}));
    runs.push_back(site.secondary({"show", "cool_widget", "1", "--format", "json"}));
    runs.push_back(site.secondary({"list", "cool_widget", "--format", "json"}));
    runs.push_back(site.secondary({"resync", "cool_widget", "1", "--now"}));
    runs.push_back(site.secondary({"resync", "cool_widget", "2", "--now", "-v", "--log-format", "json"}));
    runs.push_back(site.secondary({"check"}));
    bool named = false;
    for (const auto& run : runs) {
        CAPTURE(run.out);
        CAPTURE(run.err);
        CHECK(run.out.find(secret) == std::string::npos);
        CHECK(run.err.find(secret) == std::string::npos);
        named = named || run.err.find("https://***@127.0.0.1:1/") != std::string::npos ||
                run.out.find("https://***@127.0.0.1:1/") != std::string::npos;
    }
    CHECK(named);
    std::string stored = site.geo_db.scalar("SELECT string_agg(r::text, ' ') FROM cool_widget_registry r");
    CAPTURE(stored);
    CHECK(stored.find(secret) == std::string::npos);
    CHECK(site.registry(1, "state") == "3");
}

TEST_CASE("safety: list --after takes a record id only") {
    SecondaryFixture site;
    RunResult text = site.secondary({"list", "cool_widget", "--after", "abc"});
    CHECK(text.status == 2);
    CHECK(text.err.find("\"abc\" must be a record id") != std::string::npos);
    CHECK(text.err.find("300") == std::string::npos);
    RunResult huge = site.secondary({"list", "cool_widget", "--after", "99999999999999999999"});
    CHECK(huge.status == 2);
    CHECK(huge.err.find("must be a record id") != std::string::npos);
    CHECK(site.secondary({"list", "cool_widget", "--after", "0"}).status == 0);
    RunResult long_id = site.secondary({"show", "cool_widget", std::string(200, '7') + "\x1b[2J"});
    CHECK(long_id.status == 2);
    CHECK(long_id.err.find(std::string(65, '7')) == std::string::npos);
    CHECK(long_id.err.find('\x1b') == std::string::npos);
}

TEST_CASE("safety: a record's copy never lies inside, around or at another record's, nor in geo-ssf's folders") {
    SecondaryFixture site;
    site.main_db.exec("ALTER TABLE cool_widgets ADD COLUMN slug text");
    site.main_db.exec("GRANT SELECT ON ALL TABLES IN SCHEMA public TO " + site.reader);
    set_template(site, "repository_path", "\"{slug}\"");
    auto add = [&](long long id, const std::string& slug, bool with_repository = true) {
        site.main_db.exec("INSERT INTO cool_widgets (id, slug) VALUES (" + std::to_string(id) + ", '" + slug + "')");
        if (with_repository)
            site.repositories.create(site.storage, slug, id);
    };
    auto copy = [&](const std::string& slug) { return site.secondary_storage / slug; };

    SUBCASE("the inner copy first, then one around it") {
        add(1, "nest/a.git/b.git");
        REQUIRE(site.secondary({"sync"}).status == 0);
        add(2, "nest/a.git");  // a repository around b.git on the primary too
        RunResult sync = site.secondary({"sync"});
        CAPTURE(sync.err);
        CHECK(sync.status == 1);
        CHECK(site.registry(2, "state") == "3");
        CHECK(site.registry(2, "last_sync_failure").find("cool_widget 1 holds a path inside it") != std::string::npos);
        CHECK(site.registry(1, "state") == "2");
        CHECK(show_ref_checksum(copy("nest/a.git/b.git")) == show_ref_checksum(site.storage / "nest/a.git/b.git"));
    }
    SUBCASE("the outer copy first, then one inside it") {
        add(2, "nest/a.git");
        REQUIRE(site.secondary({"sync"}).status == 0);
        add(1, "nest/a.git/b.git", false);
        RunResult sync = site.secondary({"sync"});
        CAPTURE(sync.err);
        CHECK(sync.status == 1);
        CHECK(site.registry(1, "last_sync_failure").find("cool_widget 2 holds a folder around it") != std::string::npos);
        CHECK_FALSE(std::filesystem::exists(copy("nest/a.git/b.git")));
        CHECK(site.registry(2, "state") == "2");
    }
    SUBCASE("two records rendering one path: the first keeps it") {
        add(1, "same.git");
        add(2, "same.git", false);
        RunResult sync = site.secondary({"sync"});
        CAPTURE(sync.err);
        CHECK(sync.status == 1);
        CHECK(site.registry(1, "state") == "2");
        CHECK(site.registry(2, "state") == "3");
        CHECK(site.registry(2, "last_sync_failure").find("renders that path") != std::string::npos);
        // The next run finds the path held by record 1.
        site.geo_db.exec("UPDATE cool_widget_registry SET state = 0 WHERE cool_widget_id = 2");
        sync = site.secondary({"sync"});
        CHECK(site.registry(2, "last_sync_failure").find("cool_widget 1 holds that path") != std::string::npos);
        CHECK(show_ref_checksum(copy("same.git")) == show_ref_checksum(site.storage / "same.git"));
    }
    SUBCASE("a folder that is not a repository is never removed to make room") {
        add(1, "taken.git");
        write_file(copy("taken.git") / "notes.txt", "precious\n");
        RunResult sync = site.secondary({"sync"});
        CAPTURE(sync.err);
        CHECK(sync.status == 1);
        CHECK(site.registry(1, "last_sync_failure").find("is in the way and is left in place: it holds notes.txt") !=
              std::string::npos);
        CHECK(read_file(copy("taken.git") / "notes.txt") == "precious\n");
    }
    SUBCASE("geo-ssf's own folders are no record's") {
        add(1, "ok.git");
        REQUIRE(site.secondary({"sync"}).status == 0);
        site.main_db.exec("DELETE FROM cool_widgets");
        REQUIRE(site.secondary({"sync", "--allow-mass-removal"}).status == 0);  // ok.git quarantined
        REQUIRE(quarantined(site, 1).size() == 1);
        std::string stamp = quarantined(site, 1)[0].filename().string();
        add(7, ".geo-ssf-removed/cool_widget/1/" + stamp, false);
        add(8, ".geo-ssf-removed/cool_widget", false);
        add(9, ".geo-ssf-tmp/123-0-1", false);
        RunResult sync = site.secondary({"sync"});
        CAPTURE(sync.err);
        for (long long id : {7, 8, 9}) {
            CAPTURE(id);
            CHECK(site.registry(id, "state") == "3");
            CHECK(site.registry(id, "last_sync_failure").find("a folder of geo-ssf's own") != std::string::npos);
        }
        CHECK(quarantined(site, 1).size() == 1);
        CHECK(std::filesystem::exists(quarantined(site, 1)[0] / "HEAD"));
    }
}

TEST_CASE("safety: check refuses two types whose repository paths can meet") {
    SecondaryFixture site;
    REQUIRE(site.run({"generate", "replicable", "Gadget", "--repository-path", "cool_widgets/{id}.git"}).status == 0);
    site.main_db.exec("CREATE TABLE gadgets (id bigserial PRIMARY KEY)");
    RunResult check = site.run({"check"});
    CAPTURE(check.out);
    CHECK(check.status == 1);
    CHECK(check.out.find("cool_widget (cool_widgets/{id}.git) and gadget (cool_widgets/{id}.git) can render the same "
                         "path") != std::string::npos);
    REQUIRE(site.run({"generate", "replicable", "Gadget", "--force", "--repository-path", "gadgets/{id}.git"}).status ==
            0);
    check = site.run({"check"});
    CHECK(check.out.find("repository paths of the types apart") != std::string::npos);
    CHECK(check.out.find("can render") == std::string::npos);
    // A type's pools are kept apart from the other types' records too.
    site.main_db.exec("ALTER TABLE gadgets ADD COLUMN pool_id bigint");
    auto definition = site.dir / "replicables" / "gadget.yml";
    std::string gadget = read_file(definition);
    write_file(definition, gadget + "pool_repository_path: \"cool_widgets/{pool_id}.git\"\n");
    check = site.run({"check"});
    CAPTURE(check.out);
    CHECK(check.status == 1);
    CHECK(check.out.find("cool_widget (cool_widgets/{id}.git) and gadget's pools (cool_widgets/{pool_id}.git) can "
                         "render the same path") != std::string::npos);
    write_file(definition, gadget + "pool_repository_path: \"@pools/{pool_id}.git\"\n");
    check = site.run({"check"});
    CHECK(check.out.find("can render") == std::string::npos);
}

TEST_CASE("safety: a run killed between removing registry rows and moving the copies leaves them for the next run") {
    SecondaryFixture site;
    site.add_records(1, 20);
    REQUIRE(site.secondary({"sync"}).status == 0);
    site.main_db.exec("DELETE FROM cool_widgets WHERE id <= 2");  // gone without a deleted event
    // This test holds the removal of record 1's copy, so the run stops right after the
    // transaction that removed the rows and requested the removals; there it is killed.
    pqxx::connection holder(site.geo_db.conninfo());
    pqxx::nontransaction(holder).exec("SELECT pg_advisory_lock(hashtextextended('geo-ssf removal ' || 'default' || ':' || "
                                      "'cool_widgets/1.git', 0))");
    BackgroundRun run({"-c", site.secondary_config.string(), "sync"});
    while (site.geo_db.scalar("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'geo-ssf' AND "
                              "datname = current_database() AND wait_event_type = 'Lock'") == "0")
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    run.signal(SIGKILL);
    run.wait();
    pqxx::nontransaction(holder).exec("SELECT pg_advisory_unlock_all()");
    CHECK(site.registry_count("cool_widget_id <= 2") == 0);
    CHECK(std::filesystem::exists(site.copy(1) / "HEAD"));
    CHECK(site.geo_db.scalar("SELECT count(*) FROM geo_ssf_copies WHERE removal = 'quarantine'") == "2");

    RunResult next = site.secondary({"sync"});
    CAPTURE(next.err);
    CHECK(next.status == 0);
    for (long long id : {1, 2}) {
        CHECK_FALSE(std::filesystem::exists(site.copy(id)));
        REQUIRE(quarantined(site, id).size() == 1);
    }
    CHECK(site.geo_db.scalar("SELECT count(*) FROM geo_ssf_copies WHERE removal IS NOT NULL") == "0");
    CHECK(std::filesystem::exists(site.copy(3) / "HEAD"));
}

TEST_CASE("safety: a deleted event removes only its own record's copy") {
    SecondaryFixture site;
    site.add_records(1, 5);
    REQUIRE(site.run({"verify"}).status == 0);
    REQUIRE(site.secondary({"sync"}).status == 0);
    REQUIRE(site.secondary({"verify"}).status == 0);
    REQUIRE(site.registry(5, "verification_state") == "2");
    site.main_db.exec("INSERT INTO geo_events (replicable_name, event_name, payload, created_at) VALUES "
                      "('cool_widget', 'deleted', '{\"model_record_id\": 999, \"disk_path\": \"cool_widgets/5.git\"}', now())");
    RunResult sync = site.secondary({"sync", "--format", "json"});
    CAPTURE(sync.err);
    CHECK(sync.status == 0);
    CHECK(nlohmann::json::parse(sync.out)["events_skipped"] == 1);
    CHECK(sync.err.find("disk_path cool_widgets/5.git is not the path of record 999, cool_widgets/999.git") !=
          std::string::npos);
    CHECK(std::filesystem::exists(site.copy(5) / "HEAD"));
    CHECK(site.registry(5, "verification_state") == "2");
}

TEST_CASE("safety: removals are bounded over a day, and records without a repository do not dilute the share") {
    SecondaryFixture site;
    site.add_records(1, 100);
    REQUIRE(site.secondary({"sync"}).status == 0);
    SUBCASE("9% a run") {
        site.main_db.exec("DELETE FROM cool_widgets WHERE id <= 9");
        RunResult first = site.secondary({"sync"});
        CAPTURE(first.err);
        CHECK(first.status == 0);
        CHECK(quarantined(site, 9).size() == 1);
        site.main_db.exec("DELETE FROM cool_widgets WHERE id <= 18");
        RunResult second = site.secondary({"sync"});
        CAPTURE(second.err);
        CHECK(second.status == 1);
        CHECK(second.err.find("18 of 100 in 24 hours (18%, more than sync.max_removal_share 10%)") !=
              std::string::npos);
        CHECK(std::filesystem::exists(site.copy(10) / "HEAD"));
        CHECK(site.registry_count("cool_widget_id BETWEEN 10 AND 18") == 9);
    }
    SUBCASE("2,700 records without a repository") {
        site.main_db.exec("INSERT INTO cool_widgets (id) SELECT generate_series(1001, 3700)");
        REQUIRE(site.secondary({"sync"}).status == 0);
        CHECK(site.registry_count("missing_on_primary") == 2700);
        site.main_db.exec("DELETE FROM cool_widgets WHERE id BETWEEN 1 AND 15");
        RunResult sync = site.secondary({"sync"});
        CAPTURE(sync.err);
        CHECK(sync.status == 1);
        CHECK(sync.err.find("would remove 15 of 100 registry rows compared (15%") != std::string::npos);
        CHECK(std::filesystem::exists(site.copy(1) / "HEAD"));
    }
}

TEST_CASE("safety: an event with a huge disk_path or payload is skipped at once, and replay goes on") {
    SecondaryFixture site;
    site.add_records(1, 2);
    REQUIRE(site.secondary({"sync"}).status == 0);
    std::string long_path = "cool_widgets/" + std::string(5000, '1') + ".git";
    std::string huge_path = "cool_widgets/" + std::string(10'000'000, '1') + ".git";
    pqxx::connection main(site.main_db.conninfo());
    pqxx::work tx(main);
    for (const auto& path : {long_path, huge_path})
        tx.exec_params("INSERT INTO geo_events (replicable_name, event_name, payload, created_at) VALUES "
                       "('cool_widget', 'deleted', jsonb_build_object('model_record_id', 1, 'disk_path', $1::text), now())",
                       path);
    tx.commit();
    REQUIRE(site.run({"event", "cool_widget", "updated", "2"}).status == 0);
    RunResult sync = site.secondary({"sync", "--format", "json"});
    CAPTURE(sync.err.substr(0, 2000));
    CHECK(sync.status == 0);
    CHECK(nlohmann::json::parse(sync.out)["events_skipped"] == 2);
    CHECK(sync.err.find("is longer than 65536") != std::string::npos);
    CHECK(sync.err.size() < 20000);  // the paths are never logged whole
    CHECK(std::filesystem::exists(site.copy(1) / "HEAD"));
    CHECK(site.geo_db.scalar("SELECT max(event_id) FROM event_log_states") ==
          site.main_db.scalar("SELECT max(id) FROM geo_events"));
}

TEST_CASE("safety: records with ids of 0 and below are listed, as status counts them") {
    SecondaryFixture site;
    site.main_db.exec("INSERT INTO cool_widgets (id) VALUES (-5), (0), (3)");
    for (long long id : {-5, 0, 3})
        site.repositories.create(site.storage, "cool_widgets/" + std::to_string(id) + ".git", id);
    REQUIRE(site.secondary({"sync"}).status == 0);
    auto listed = nlohmann::json::parse(site.secondary({"list", "cool_widget", "--format", "json"}).out);
    REQUIRE(listed["records"].size() == 3);
    CHECK(listed["records"][0]["id"] == -5);
    CHECK(listed["records"][1]["id"] == 0);
    site.main_db.exec("DELETE FROM cool_widgets");
    REQUIRE(site.secondary({"sync", "--allow-mass-removal"}).status == 0);
    auto quarantine = nlohmann::json::parse(
        site.secondary({"list", "cool_widget", "--quarantined", "--format", "json"}).out);
    CHECK(quarantine["quarantined"].size() == 3);
}

TEST_CASE("safety: a FIFO in a primary's repository fails its record with the reason; sync, checksum and verify end") {
    std::string place;
    SUBCASE("packed-refs") { place = "packed-refs"; }
    SUBCASE("objects/info/alternates") { place = "objects/info/alternates"; }
    SUBCASE("a loose ref") { place = "refs/heads/fifo"; }
    SUBCASE("config") { place = "config"; }
    CAPTURE(place);
    SecondaryFixture site;
    site.add_records(1, 2);
    auto fifo = site.repository(1) / place;
    std::filesystem::create_directories(fifo.parent_path());
    std::filesystem::remove(fifo);
    REQUIRE(mkfifo(fifo.c_str(), 0644) == 0);
    const std::string reason = place + " is a FIFO, not a regular file";

    BackgroundRun checksum({"checksum", site.repository(1).string(), site.repository(2).string()});
    RunResult summed = run_to_its_end(checksum);
    CAPTURE(summed.err);
    CHECK(summed.status == 1);
    CHECK(summed.err.find(site.repository(1).string() + ": " + reason) != std::string::npos);
    CHECK(summed.out == show_ref_checksum(site.repository(2)) + " " + site.repository(2).string() + "\n");

    BackgroundRun verify({"-c", site.config.string(), "verify"});
    RunResult verified = run_to_its_end(verify);
    CAPTURE(verified.err);
    CHECK(verified.status == 1);
    CHECK(site.state_of(1, "verification_state") == "3");
    CHECK(site.state_of(1, "verification_failure") == "Error during verification: " + reason);
    CHECK(site.state_of(2, "verification_state") == "2");

    BackgroundRun sync({"-c", site.secondary_config.string(), "sync"});
    RunResult synced = run_to_its_end(sync);
    CAPTURE(synced.err);
    CHECK(synced.status == 1);
    CHECK(site.registry(1, "state") == "3");
    CHECK(site.registry(1, "last_sync_failure") ==
          "Error syncing repository: the primary's repository is refused: " + reason);
    CHECK_FALSE(std::filesystem::exists(site.copy(1)));
    CHECK(site.registry(2, "state") == "2");
}

TEST_CASE("safety: a FIFO or a device in a secondary's copy is never opened: verify fails it, sync replaces it") {
    SecondaryFixture site;
    site.add_records(1, 1);
    REQUIRE(site.run({"verify"}).status == 0);
    REQUIRE(site.secondary({"sync"}).status == 0);
    std::filesystem::remove(site.copy(1) / "packed-refs");
    REQUIRE(mkfifo((site.copy(1) / "packed-refs").c_str(), 0644) == 0);
    std::filesystem::create_symlink("/dev/zero", site.copy(1) / "refs" / "heads" / "endless");
    BackgroundRun verify({"-c", site.secondary_config.string(), "verify"});
    RunResult verified = run_to_its_end(verify);
    CAPTURE(verified.err);
    CHECK(verified.status == 1);
    CHECK(site.registry(1, "verification_failure").find(" is a ") != std::string::npos);
    site.geo_db.exec("UPDATE cool_widget_registry SET retry_at = now() - interval '1 second'");
    BackgroundRun sync({"-c", site.secondary_config.string(), "sync"});
    RunResult synced = run_to_its_end(sync);
    CAPTURE(synced.err);
    CHECK(synced.status == 0);
    CHECK(std::filesystem::is_regular_file(site.copy(1) / "packed-refs"));
    CHECK(show_ref_checksum(site.copy(1)) == show_ref_checksum(site.repository(1)));
}

TEST_CASE("safety: a deep check finds a FIFO in a repository or a copy as damage, and ends") {
    SecondaryFixture site;
    site.add_records(1, 1);
    REQUIRE(site.run({"verify"}).status == 0);
    REQUIRE(site.secondary({"sync"}).status == 0);
    const std::string reason = "packed-refs is a FIFO, not a regular file";
    auto replace_with_fifo = [](const std::filesystem::path& repository) {
        std::filesystem::remove(repository / "packed-refs");
        REQUIRE(mkfifo((repository / "packed-refs").c_str(), 0644) == 0);
    };
    SUBCASE("on the primary") {
        replace_with_fifo(site.repository(1));
        BackgroundRun deep({"-c", site.config.string(), "reverify", "cool_widget", "1", "--deep", "--now"});
        RunResult checked = run_to_its_end(deep);
        CAPTURE(checked.err);
        CHECK(checked.status == 1);
        CHECK(checked.out.starts_with("1 failed deep check: " + reason));
    }
    SUBCASE("on a secondary") {
        replace_with_fifo(site.copy(1));
        BackgroundRun deep({"-c", site.secondary_config.string(), "reverify", "cool_widget", "1", "--deep", "--now"});
        RunResult checked = run_to_its_end(deep);
        CAPTURE(checked.err);
        CHECK(checked.status == 1);
        CHECK(checked.out.find(reason) != std::string::npos);
    }
}

TEST_CASE("safety: a primary's repository linked from outside its storage root is not copied, as its verify refuses it") {
    SecondaryFixture site;
    site.add_records(1, 2);
    // A repository outside the primary's storage, with a branch nobody may copy.
    TempDir outside;
    auto secret = outside / "secret.git";
    shell("git clone -q --bare '" + site.repository(1).string() + "' '" + secret.string() + "' && git -C '" +
          secret.string() + "' update-ref refs/heads/secret-branch main");
    std::filesystem::remove_all(site.repository(1));
    std::filesystem::create_directory_symlink(secret, site.repository(1));

    REQUIRE(site.run({"verify"}).status == 1);
    const std::string refused = "repository path \"cool_widgets/1.git\" is refused: it leads outside the storage root "
                                "through a symbolic link";
    CHECK(site.state_of(1, "verification_failure") == "Error during verification: " + refused);
    RunResult sync = site.secondary({"sync"});
    CAPTURE(sync.err);
    CHECK(sync.status == 1);
    CHECK(site.registry(1, "last_sync_failure") == "Error syncing repository: the primary's " + refused);
    CHECK_FALSE(std::filesystem::exists(site.copy(1)));
    CHECK(shell("grep -rl secret-branch '" + site.secondary_storage.string() + "' || true").empty());
    CHECK(site.registry(2, "state") == "2");
}

TEST_CASE("safety: a shallow or non-bare primary fails its record with the reason and backs off, never synced") {
    SecondaryFixture site;
    site.add_records(1, 2);
    REQUIRE(site.secondary({"sync"}).status == 0);
    // Record 1 shallow with a new commit, which a fetch into the copy would refuse while exiting 0;
    // record 3 shallow before its first sync; record 2 a work tree, its repository in .git.
    replace_primary_repository(site, 1,
                               "git clone -q --bare --depth 1 \"file://$from\" \"$to\" && cd \"$to\" && "
                               "c=$(git -c user.name=t -c user.email=t@example.com commit-tree main^{tree} -p main -m new) "
                               "&& git update-ref refs/heads/main $c");
    site.add_records(3, 3);
    replace_primary_repository(site, 3, "git clone -q --bare --depth 1 \"file://$from\" \"$to\"");
    replace_primary_repository(site, 2, "git clone -q \"$from\" \"$to\"");
    REQUIRE(site.run({"event", "cool_widget", "updated", "1", "2"}).status == 0);

    RunResult sync = site.secondary({"sync"});
    CAPTURE(sync.err);
    CHECK(sync.status == 1);
    for (long long id : {1, 3}) {
        CAPTURE(id);
        CHECK(site.registry(id, "state") == "3");
        CHECK(site.registry(id, "last_sync_failure").rfind("Error syncing repository: the primary's repository is "
                                                           "shallow: its history is cut", 0) == 0);
        CHECK(site.registry(id, "retry_at > now()") == "true");
    }
    CHECK_FALSE(std::filesystem::exists(site.copy(3)));
    CHECK(site.registry(2, "state") == "3");
    CHECK(site.registry(2, "last_sync_failure") ==
          "Error syncing repository: the primary's repository is not bare: it is a work tree, whose repository is in "
          ".git; geo-ssf copies bare repositories only");
    // The primary's own verify says why it cannot checksum the work tree.
    REQUIRE(site.run({"verify"}).status == 1);
    CHECK(site.state_of(2, "verification_failure") ==
          "Error during verification: not a bare repository: a work tree, whose repository is in .git");
    // Backing off: the next run claims none of them.
    auto next = nlohmann::json::parse(site.secondary({"sync", "--format", "json"}).out);
    CHECK(next["claimed"] == 0);
}

TEST_CASE("safety: refs the primary's configuration hides from upload-pack are copied from a local primary") {
    SecondaryFixture site;
    site.add_records(1, 1);
    // Counted by the checksum, hidden from git's upload-pack by the repository's own configuration.
    shell("git -C '" + site.repository(1).string() + "' update-ref refs/keep-around/" + site.repositories.head_commit() +
          " main && git -C '" + site.repository(1).string() + "' config uploadpack.hideRefs refs/keep-around");
    REQUIRE(site.run({"verify"}).status == 0);
    RunResult sync = site.secondary({"sync"});
    CAPTURE(sync.err);
    REQUIRE(sync.status == 0);
    CHECK(show_ref_checksum(site.copy(1)) == show_ref_checksum(site.repository(1)));
    CHECK(site.secondary({"verify"}).status == 0);
    CHECK(site.registry(1, "verification_state") == "2");
}

TEST_CASE("safety: a token as the URL's user never appears in output, logs or the registry") {
    SecondaryFixture site;
    site.add_records(1, 2);
    const std::string token = "glpat-S3cretT0ken";
    set_primary_url(site, "https://" + token + "@127.0.0.1:1/repositories");
    RunOptions with_password;
    with_password.env["GEO_SSF_PRIMARY_PASSWORD"] = "x-oauth-basic";
    std::vector<RunResult> runs;
    runs.push_back(site.secondary({"sync", "-vv"}, with_password));
    CHECK(runs.back().status == 1);
    runs.push_back(site.secondary({"sync", "-vv", "--log-format", "json", "--format", "json"}));
    runs.push_back(site.secondary({"show", "cool_widget", "1"}));
    runs.push_back(site.secondary({"show", "cool_widget", "1", "--format", "json"}));
    runs.push_back(site.secondary({"list", "cool_widget", "--format", "json"}));
    runs.push_back(site.secondary({"list", "cool_widget", "--wide"}));
    runs.push_back(site.secondary({"resync", "cool_widget", "1", "--now"}, with_password));
    runs.push_back(site.secondary({"check"}, with_password));
    bool named = false;
    for (const auto& run : runs) {
        CAPTURE(run.out);
        CAPTURE(run.err);
        CHECK(run.out.find("S3cret") == std::string::npos);
        CHECK(run.err.find("S3cret") == std::string::npos);
        named = named || run.err.find("https://***@127.0.0.1:1/") != std::string::npos ||
                run.out.find("https://***@127.0.0.1:1/") != std::string::npos;
    }
    CHECK(named);
    std::string stored = site.geo_db.scalar("SELECT string_agg(r::text, ' ') FROM cool_widget_registry r");
    CAPTURE(stored);
    CHECK(stored.find("S3cret") == std::string::npos);
    CHECK(site.registry(1, "state") == "3");
}

TEST_CASE("safety: a primary_url that reads two ways, or plain http://, is refused without being echoed") {
    SecondaryFixture site;
    site.add_records(1, 1);
    // Passwords with a raw '/', '#', '?' or '@' after it: RFC 3986 (and git, curl, libgit2) find
    // the host before the '@', and the password in the path, the fragment or the query.
    for (const char* password : {"pa/S3cret", "12/S3cret", "pa#S3cret", "12#S3cret", "pa?S3cret"}) {
        CAPTURE(password);
        set_primary_url(site, std::string("https://alice:") + password + "@127.0.0.1:1/repositories");
        for (std::vector<std::string> args : std::vector<std::vector<std::string>>{
                 {"sync", "-vv"}, {"check"}, {"show", "cool_widget", "1"}, {"list", "cool_widget"}}) {
            RunResult run = site.secondary(args);
            CAPTURE(run.out);
            CAPTURE(run.err);
            bool check = args[0] == "check";  // which reports a configuration error as a failed check
            CHECK(run.status == (check ? 1 : 3));
            CHECK((check ? run.out : run.err)
                      .find("storage.primary_url: is refused: it is no valid URL, or it has a '?', a '#' or an '@' "
                            "after its host; write a password's or a token's '/', '?', '#' and '@' as %2F, %3F, "
                            "%23 and %40") != std::string::npos);
            CHECK(run.out.find("S3cret") == std::string::npos);
            CHECK(run.err.find("S3cret") == std::string::npos);
        }
    }
    set_primary_url(site, "https://alice:pa%2FS3cret@127.0.0.1:1/repositories");  // written as it must be
    RunResult escaped = site.secondary({"sync"});
    CHECK(escaped.status == 1);
    CHECK(escaped.err.find("S3cret") == std::string::npos);
    CHECK(site.registry(1, "last_sync_failure").find("https://***@127.0.0.1:1/") != std::string::npos);
    // http:// would bypass the proxy and make a 404 "missing on the primary": refused.
    set_primary_url(site, "http://127.0.0.1:1/repositories");
    RunResult plain = site.secondary({"sync"});
    CHECK(plain.status == 3);
    CHECK(plain.err.find("storage.primary_url: http:// is refused") != std::string::npos);
    RunResult checked = site.secondary({"check"});
    CHECK(checked.status == 1);
    CHECK(checked.out.find("FAILED  configuration valid: ") != std::string::npos);
    CHECK(checked.out.find("storage.primary_url: http:// is refused") != std::string::npos);
}

TEST_CASE("safety: programs geo-ssf runs get no secret of its environment, and git none of the caller's git variables") {
    SecondaryFixture site;
    site.add_records(1, 1);
    // git and man on PATH that write down their command line and environment, then do their work.
    auto bin = site.dir / "bin";
    auto log = site.dir / "programs.log";
    std::string real_git = shell("command -v git");
    real_git.erase(real_git.find_last_not_of('\n') + 1);
    write_file(bin / "git", "#!/bin/sh\n{ echo \"ARGS $*\"; env; } >>'" + log.string() + "'\nexec '" + real_git +
                                "' \"$@\"\n");
    write_file(bin / "man", "#!/bin/sh\n{ echo \"ARGS man $*\"; env; } >>'" + log.string() + "'\nexit 0\n");
    for (const char* program : {"git", "man"})
        std::filesystem::permissions(bin / program, std::filesystem::perms::owner_all);
    RunOptions options;
    options.env["PATH"] = bin.string() + ":" + std::getenv("PATH");
    options.env["GEO_SSF_PRIMARY_PASSWORD"] = "S3cret-primary";
    options.env["GIT_TRACE"] = (site.dir / "git-trace").string();
    options.env["GIT_DIR"] = (site.dir / "nowhere").string();
    RunResult sync = site.secondary({"sync"}, options);
    CAPTURE(sync.err);
    CHECK(sync.status == 0);
    CHECK(site.secondary({"help", "sync"}, options).status == 0);
    std::string seen = read_file(log);
    CHECK(seen.find("ARGS --version") != std::string::npos);
    CHECK(seen.find(" clone --mirror") != std::string::npos);
    CHECK(seen.find("ARGS man ") != std::string::npos);
    CHECK(seen.find("S3cret") == std::string::npos);
    CHECK(seen.find("PGPASSWORD=") == std::string::npos);
    std::string seen_by_git = seen.substr(0, seen.find("ARGS man "));  // man and its pager may trace git
    CHECK(seen_by_git.find("GIT_TRACE=") == std::string::npos);  // git's packet trace is geo-ssf's own, on fd 3
    CHECK(seen_by_git.find("GIT_DIR=" + (site.dir / "nowhere").string()) == std::string::npos);
    CHECK_FALSE(std::filesystem::exists(site.dir / "git-trace"));
}

TEST_CASE("safety: show and list print control characters of a path or a stored failure escaped, never raw") {
    SecondaryFixture site;
    site.main_db.exec("ALTER TABLE cool_widgets ADD COLUMN slug text");
    site.main_db.exec("GRANT SELECT ON ALL TABLES IN SCHEMA public TO " + site.reader);
    set_template(site, "repository_path", "\"cool_widgets/{slug}.git\"");
    site.main_db.exec("INSERT INTO cool_widgets (id, slug) VALUES (1, 'x' || chr(27) || '[2J')");
    REQUIRE(site.secondary({"sync"}).status == 0);  // missing on the primary
    site.geo_db.exec("UPDATE cool_widget_registry SET state = 3, last_sync_failure = 'bad' || chr(27) || "
                     "']0;title' || chr(7)");
    std::vector<RunResult> runs = {site.secondary({"show", "cool_widget", "1"}),
                                   site.secondary({"list", "cool_widget"}),
                                   site.secondary({"list", "cool_widget", "--wide"}),
                                   site.run({"show", "cool_widget", "1"})};
    for (const auto& run : runs) {
        CAPTURE(run.out);
        CHECK(run.status == 0);
        CHECK(run.out.find('\x1b') == std::string::npos);
        CHECK(run.out.find('\x07') == std::string::npos);
    }
    CHECK(runs[0].out.find("cool_widgets/x\\x1b[2J.git") != std::string::npos);
    CHECK(runs[0].out.find("bad\\x1b]0;title\\x07") != std::string::npos);
    CHECK(runs[2].out.find("bad\\x1b]0;title\\x07") != std::string::npos);
    CHECK(runs[3].out.find("cool_widgets/x\\x1b[2J.git") != std::string::npos);
}

}  // TEST_SUITE
