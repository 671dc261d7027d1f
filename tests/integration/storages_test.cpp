// Several storages per site (Gitaly shards): each record names its storage in its model row
// (storage_column), and is checksummed, fetched, verified and removed in that storage; a record
// that moves to another storage on the primary is fetched there, and its old copy goes to the
// quarantine once the new one is verified; a secondary may replicate some storages only.
#include "test_support.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>

using namespace geo_ssf::test;

namespace {

bool mentions(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// A primary with the storages default and nfs-01, CoolWidget's records naming theirs in
// repository_storage; records 1 and 2 in default, 3 and 4 in nfs-01, each with its repository.
struct TwoStorages {
    TempDir dir;
    TestDatabase main_db;
    TestDatabase geo_db;
    RepositoryFactory repositories{dir.path()};
    std::filesystem::path primary_config = dir / "primary.yml";

    TwoStorages() {
        for (const char* folder : {"primary-default", "primary-nfs-01", "secondary-default", "secondary-nfs-01"})
            std::filesystem::create_directories(dir / folder);
        write_file(primary_config, "site: {name: primary-site, role: primary}\n"
                                   "databases: {main: \"" + main_db.conninfo() + "\"}\n"
                                   "storage: {root: primary-default}\n"
                                   "storages:\n  nfs-01: {root: primary-nfs-01}\n");
        REQUIRE(primary({"generate", "replicable", "CoolWidget"}).status == 0);
        append_file(dir / "replicables" / "cool_widget.yml", "storage_column: repository_storage\n");
        main_db.exec("CREATE TABLE cool_widgets (id bigserial PRIMARY KEY, repository_storage text NOT NULL)");
        RunResult migrated = primary({"migrate"});
        REQUIRE_MESSAGE(migrated.status == 0, migrated.err);
        main_db.exec("INSERT INTO cool_widgets VALUES (1, 'default'), (2, 'default'), (3, 'nfs-01'), (4, 'nfs-01')");
        for (long long id : {1, 2, 3, 4})
            repositories.create(dir / (id <= 2 ? "primary-default" : "primary-nfs-01"), path(id), id);
    }

    static std::string path(long long id) { return "cool_widgets/" + std::to_string(id) + ".git"; }

    static void append_file(const std::filesystem::path& file, const std::string& text) {
        write_file(file, read_file(file) + text);
    }

    // A secondary config (secondary.yml) with both storages, and EXTRA appended.
    std::filesystem::path write_secondary(const std::string& extra = "") {
        auto file = dir / "secondary.yml";
        write_file(file, "site: {name: secondary-site, role: secondary}\n"
                         "databases: {main: \"" + main_db.conninfo() + "\", geo: \"" + geo_db.conninfo() + "\"}\n"
                         "storage: {root: secondary-default, primary_url: \"" + (dir / "primary-default").string() +
                             "\"}\n"
                         "storages:\n  nfs-01: {root: secondary-nfs-01, primary_url: \"file://" +
                             (dir / "primary-nfs-01").string() + "\"}\n" + extra);
        return file;
    }

    RunResult primary(std::vector<std::string> args) {
        args.insert(args.begin(), {"-c", primary_config.string()});
        return run_geo_ssf(args);
    }
    RunResult secondary(std::vector<std::string> args) {
        args.insert(args.begin(), {"-c", (dir / "secondary.yml").string()});
        return run_geo_ssf(args);
    }

    std::string state(long long id) {
        return main_db.scalar("SELECT verification_state || ' ' || coalesce(verification_checksum::text, '') FROM "
                              "cool_widget_states WHERE cool_widget_id = " + std::to_string(id));
    }
    std::string registry(long long id, const std::string& column) {
        return geo_db.scalar("SELECT (" + column + ")::text FROM cool_widget_registry WHERE cool_widget_id = " +
                             std::to_string(id));
    }
    bool copy_in(const char* storage, long long id) {
        return std::filesystem::exists(dir / (std::string("secondary-") + storage) / path(id) / "HEAD");
    }
    long long quarantined_in(const char* storage) {
        long long found = 0;
        auto folder = dir / (std::string("secondary-") + storage) / ".geo-ssf-removed" / "cool_widget";
        std::error_code ec;
        if (std::filesystem::is_directory(folder, ec))
            for (auto it = std::filesystem::recursive_directory_iterator(folder); it != decltype(it)(); ++it)
                if (it->path().filename() == "HEAD")
                    ++found;
        return found;
    }
};

}  // namespace

TEST_SUITE("storages") {

TEST_CASE("two storages: each record is checksummed, fetched and verified in its own, and a deleted event names it") {
    TwoStorages sites;
    RunResult verified = sites.primary({"verify"});
    REQUIRE_MESSAGE(verified.status == 0, verified.err);
    for (long long id : {1, 2, 3, 4})
        CHECK(sites.state(id) == "2 \\x" + show_ref_checksum(sites.dir / (id <= 2 ? "primary-default" : "primary-nfs-01") /
                                                          TwoStorages::path(id)));

    sites.write_secondary();
    REQUIRE(sites.secondary({"migrate"}).status == 0);
    RunResult synced = sites.secondary({"sync"});
    REQUIRE_MESSAGE(synced.status == 0, synced.err);
    CHECK(sites.copy_in("default", 1));
    CHECK(sites.copy_in("default", 2));
    CHECK(sites.copy_in("nfs-01", 3));
    CHECK(sites.copy_in("nfs-01", 4));
    CHECK_FALSE(sites.copy_in("default", 3));
    CHECK_FALSE(sites.copy_in("nfs-01", 1));
    RunResult compared = sites.secondary({"verify"});
    REQUIRE_MESSAGE(compared.status == 0, compared.err);
    for (long long id : {1, 2, 3, 4})
        CHECK(sites.registry(id, "verification_state") == "2");

    // status breaks the counts down by storage, on both sites.
    RunResult by_storage = sites.primary({"status", "--by-storage", "--format", "json"});
    REQUIRE_MESSAGE(by_storage.status == 0, by_storage.err);
    auto primary_rows = nlohmann::json::parse(by_storage.out)["storages"];
    REQUIRE(primary_rows.size() == 2);
    CHECK(primary_rows[0]["storage"] == "default");
    CHECK(primary_rows[0]["records"] == 2);
    CHECK(primary_rows[0]["checksummed"] == 2);
    CHECK(primary_rows[1]["storage"] == "nfs-01");
    CHECK(primary_rows[1]["records"] == 2);
    by_storage = sites.secondary({"status", "--by-storage"});
    REQUIRE_MESSAGE(by_storage.status == 0, by_storage.err);
    CHECK(mentions(by_storage.out, "By storage\nTYPE         STORAGE  REGISTRY  SYNCED  VERIFIED  FAILED\n"
                                   "cool_widget  default  2         2       2         0\n"
                                   "cool_widget  nfs-01   2         2       2         0\n"));
    by_storage = sites.secondary({"status", "--by-storage", "--format", "prometheus"});
    CHECK(mentions(by_storage.out, "geo_ssf_storage_records{site=\"secondary-site\",type=\"cool_widget\",storage=\"nfs-01\","
                                   "state=\"verified\"} 2"));

    // check looks at every storage: a missing root fails its line alone.
    RunResult checked = sites.secondary({"check"});
    CHECK(mentions(checked.out, "storage root present and writable: " + (sites.dir / "secondary-default").string()));
    CHECK(mentions(checked.out, "storage root present and writable (storage nfs-01): " +
                                    (sites.dir / "secondary-nfs-01").string()));
    std::filesystem::rename(sites.dir / "secondary-nfs-01", sites.dir / "elsewhere");
    checked = sites.secondary({"check"});
    CHECK(checked.status != 0);
    CHECK(mentions(checked.out, "storage root present and writable (storage nfs-01): " +
                                    (sites.dir / "secondary-nfs-01").string() + " is not a folder"));
    std::filesystem::rename(sites.dir / "elsewhere", sites.dir / "secondary-nfs-01");
    // The primary is read in each storage, with its first record there: a repository of nfs-01's
    // that cannot be read fails that storage's line alone.
    auto third = sites.dir / "primary-nfs-01" / TwoStorages::path(3);
    auto line_of = [](const std::string& text, const std::string& start) {
        auto at = text.find(start);
        return at == std::string::npos ? std::string() : text.substr(at, text.find('\n', at) - at);
    };
    const std::string nfs_01 = "primary readable for cool_widget (storage nfs-01): " + third.string() + ": ";
    CHECK(line_of(checked.out, "primary readable for cool_widget: " + (sites.dir / "primary-default").string())
              .ends_with(" refs"));
    CHECK(line_of(checked.out, nfs_01).ends_with(" refs"));
    std::filesystem::rename(third / "objects", third / "objects-away");
    checked = sites.secondary({"check"});
    CAPTURE(checked.out);
    CHECK(checked.status != 0);
    CHECK(line_of(checked.out, "primary readable for cool_widget: " + (sites.dir / "primary-default").string())
              .ends_with(" refs"));
    std::string unreadable = line_of(checked.out, nfs_01);
    CHECK(!unreadable.empty());
    CHECK(!unreadable.ends_with(" refs"));
    std::filesystem::rename(third / "objects-away", third / "objects");

    RunResult shown = sites.secondary({"show", "cool_widget", "3"});
    CHECK(mentions(shown.out, "storage          nfs-01"));

    // The deleted event carries the record's storage: the copy goes from that storage.
    REQUIRE(sites.primary({"event", "cool_widget", "deleted", "4"}).status == 0);
    CHECK(sites.main_db.scalar("SELECT payload->>'repository_storage' FROM geo_events ORDER BY id DESC LIMIT 1") ==
          "nfs-01");
    sites.main_db.exec("DELETE FROM cool_widgets WHERE id = 4");
    synced = sites.secondary({"sync"});
    REQUIRE_MESSAGE(synced.status == 0, synced.err);
    CHECK_FALSE(sites.copy_in("nfs-01", 4));
    CHECK(sites.copy_in("nfs-01", 3));
    CHECK(sites.registry(4, "state").empty());

    // A record in a storage this secondary does not describe fails with the reason, alone.
    sites.main_db.exec("INSERT INTO cool_widgets VALUES (5, 'nfs-09')");
    synced = sites.secondary({"sync"});
    CHECK(synced.status != 0);
    CHECK(mentions(synced.err + synced.out, "its storage \"nfs-09\" is not one of this site's (default, nfs-01"));
    CHECK(sites.registry(5, "state") == "3");  // failed
    CHECK(sites.registry(1, "state") == "2");
}

TEST_CASE("two storages: a record moved to another storage starts from its old copy and is fetched there; the old "
          "copy goes once the new is verified") {
    TwoStorages sites;
    REQUIRE(sites.primary({"verify"}).status == 0);
    sites.write_secondary();
    REQUIRE(sites.secondary({"migrate"}).status == 0);
    REQUIRE(sites.secondary({"sync"}).status == 0);
    REQUIRE(sites.secondary({"verify"}).status == 0);
    REQUIRE(sites.copy_in("default", 2));

    // GitLab's storage move: the repository is copied to nfs-01, the row names it, an updated event.
    std::filesystem::create_directories(sites.dir / "primary-nfs-01" / "cool_widgets");
    std::filesystem::rename(sites.dir / "primary-default" / TwoStorages::path(2),
                            sites.dir / "primary-nfs-01" / TwoStorages::path(2));
    commit_on_main(sites.dir / "primary-nfs-01" / TwoStorages::path(2));  // and pushed to since
    sites.main_db.exec("UPDATE cool_widgets SET repository_storage = 'nfs-01' WHERE id = 2");
    REQUIRE(sites.primary({"event", "cool_widget", "updated", "2"}).status == 0);
    RunResult verified = sites.primary({"verify"});
    REQUIRE_MESSAGE(verified.status == 0, verified.err);
    CHECK(sites.state(2) == "2 \\x" + show_ref_checksum(sites.dir / "primary-nfs-01" / TwoStorages::path(2)));
    // An object only the old copy holds: a clone from the primary could not bring it.
    auto old_copy = sites.dir / "secondary-default" / TwoStorages::path(2);
    std::string only_here = shell("echo 'only in the old copy' | git --git-dir='" + old_copy.string() + "' hash-object -w --stdin");
    only_here = only_here.substr(0, only_here.find('\n'));

    RunResult synced = sites.secondary({"-v", "sync"});
    REQUIRE_MESSAGE(synced.status == 0, synced.err);
    CHECK(sites.copy_in("nfs-01", 2));
    CHECK(sites.copy_in("default", 2));  // kept until the new copy is verified
    CHECK(sites.quarantined_in("default") == 0);
    auto new_copy = sites.dir / "secondary-nfs-01" / TwoStorages::path(2);
    CHECK(mentions(synced.err, "starts as a copy of the one at"));
    CHECK(shell("git --git-dir='" + new_copy.string() + "' cat-file -t " + only_here) == "blob\n");
    CHECK(refs_of(new_copy) == refs_of(sites.dir / "primary-nfs-01" / TwoStorages::path(2)));

    RunResult compared = sites.secondary({"verify"});
    REQUIRE_MESSAGE(compared.status == 0, compared.err);
    CHECK(sites.registry(2, "verification_state") == "2");
    CHECK_FALSE(sites.copy_in("default", 2));
    CHECK(sites.quarantined_in("default") == 1);
    CHECK(sites.geo_db.scalar("SELECT string_agg(storage || ':' || path, ',') FROM geo_ssf_copies WHERE record_id = 2") ==
          "nfs-01:" + TwoStorages::path(2));
    // The others are untouched.
    CHECK(sites.copy_in("default", 1));
    CHECK(sites.copy_in("nfs-01", 3));
}

TEST_CASE("selective sync by storage: a secondary with sync.storages replicates those storages' records only") {
    TwoStorages sites;
    REQUIRE(sites.primary({"verify"}).status == 0);
    sites.write_secondary("sync: {storages: [nfs-01]}\n");
    REQUIRE(sites.secondary({"migrate"}).status == 0);
    RunResult synced = sites.secondary({"sync"});
    REQUIRE_MESSAGE(synced.status == 0, synced.err);
    CHECK(sites.geo_db.scalar("SELECT string_agg(cool_widget_id::text, ',' ORDER BY cool_widget_id) FROM cool_widget_registry") ==
          "3,4");
    CHECK(sites.copy_in("nfs-01", 3));
    CHECK(sites.copy_in("nfs-01", 4));
    CHECK_FALSE(sites.copy_in("default", 1));
    RunResult status = sites.secondary({"status", "--format", "json"});
    REQUIRE_MESSAGE(status.status == 0, status.err);
    auto counts = nlohmann::json::parse(status.out)["replicables"][0];
    CHECK(counts["cool_widgets_registry_count"] == 2);
    CHECK(counts["cool_widgets_synced_count"] == 2);
    // The promotion preflight names what selective sync leaves out.
    REQUIRE(sites.secondary({"verify"}).status == 0);
    RunResult preflight = sites.secondary({"check", "--promotion"});
    CHECK(preflight.status != 0);
    CHECK(mentions(preflight.out, "sync.storages (nfs-01) leaves out 2 of the primary's records"));

    // A record that moves into a replicated storage joins; one that moves out leaves the registry
    // (half the rows: the mass-removal guard asks for confirmation).
    sites.main_db.exec("UPDATE cool_widgets SET repository_storage = CASE id WHEN 1 THEN 'nfs-01' ELSE 'default' END "
                       "WHERE id IN (1, 3)");
    std::filesystem::rename(sites.dir / "primary-default" / TwoStorages::path(1),
                            sites.dir / "primary-nfs-01" / TwoStorages::path(1));
    synced = sites.secondary({"sync", "--allow-mass-removal"});
    REQUIRE_MESSAGE(synced.status == 0, synced.err);
    CHECK(sites.geo_db.scalar("SELECT string_agg(cool_widget_id::text, ',' ORDER BY cool_widget_id) FROM cool_widget_registry") ==
          "1,4");
    CHECK(sites.copy_in("nfs-01", 1));
}

}  // TEST_SUITE
