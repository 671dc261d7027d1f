// The secondary: events, registry consistency, mirroring, verification against the primary,
// resync, and the runs' reliability.
#include "one_line_error.hpp"
#include "secondary_fixture.hpp"

#include <nlohmann/json.hpp>

#include <csignal>
#include <functional>
#include <set>
#include <sstream>
#include <thread>

using namespace geo_ssf::test;

namespace {

// Files under the repository's refs/: its loose refs.
long long loose_refs(const std::filesystem::path& repository) {
    long long files = 0;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(repository / "refs"))
        files += entry.is_regular_file();
    return files;
}

// Annotated tags to peel: one, a tag of that tag, and a ref outside refs/tags naming it.
void add_annotated_tags(const std::filesystem::path& repository) {
    shell("cd '" + repository.string() + "' && git tag -a -m one annotated-1 HEAD && "
          "git tag -a -m two annotated-2 annotated-1 && git update-ref refs/keep/tagged annotated-1");
}

// The refs with the objects their tags peel to (git show-ref -d), and HEAD.
std::string peeled_refs_of(const std::filesystem::path& repository) {
    return shell("git -C '" + repository.string() + "' show-ref -d && git -C '" + repository.string() +
                 "' symbolic-ref HEAD");
}

}  // namespace

TEST_SUITE("sync") {

TEST_CASE("sync: a first sync writes every ref into packed-refs, tags peeled, whether git is installed or not") {
    SecondaryFixture site;
    site.add_records(1, 1);
    add_refs(site.repository(1), 300);
    add_annotated_tags(site.repository(1));
    RunOptions options;
    SUBCASE("git fetches") {}
    SUBCASE("libgit2 fetches: no git on PATH") { options.env["PATH"] = (site.dir / "no-programs").string(); }
    CAPTURE(options.env.count("PATH"));

    RunResult sync = site.secondary({"sync"}, options);
    REQUIRE_MESSAGE(sync.status == 0, std::string(sync.out + sync.err));
    CHECK(loose_refs(site.copy(1)) == 0);
    std::string packed = read_file(site.copy(1) / "packed-refs");
    CHECK(packed.find("\n^") != std::string::npos);
    CHECK(peeled_refs_of(site.copy(1)) == peeled_refs_of(site.repository(1)));
    CHECK(show_ref_checksum(site.copy(1)) == show_ref_checksum(site.repository(1)));
    CHECK(shell("git -C '" + site.copy(1).string() + "' fsck --connectivity-only --no-dangling 2>&1").empty());
    // The copy names no remote: geo-ssf gives the primary's URL itself on every fetch.
    CHECK(shell("git -C '" + site.copy(1).string() + "' config --get-regexp '^remote\\.' || true").empty());

    // Then a fetch into the copy: refs added, moved and deleted, tags among them.
    add_refs(site.repository(1), 2, "late");
    shell("cd '" + site.repository(1).string() + "' && git tag -d annotated-2 >/dev/null && git update-ref -d refs/heads/b7 && "
          "git update-ref refs/heads/b8 $(git rev-parse HEAD~1) && git tag -a -m three annotated-3 HEAD~1");
    RunResult resync = site.secondary({"resync", "cool_widget", "1", "--now"}, options);
    REQUIRE_MESSAGE(resync.status == 0, std::string(resync.out + resync.err));
    CHECK(peeled_refs_of(site.copy(1)) == peeled_refs_of(site.repository(1)));
    CHECK(show_ref_checksum(site.copy(1)) == show_ref_checksum(site.repository(1)));
}

TEST_CASE("sync: a copy keeps its refs packed; a copy with loose refs is packed on its next sync") {
    SecondaryFixture site;
    site.add_records(1, 1);
    add_refs(site.repository(1), 250);  // 500 refs
    REQUIRE(site.secondary({"sync"}).status == 0);
    CHECK(std::filesystem::exists(site.copy(1) / "packed-refs"));
    CHECK(loose_refs(site.copy(1)) == 0);
    CHECK(!std::filesystem::exists(site.copy(1) / "refs" / "merge-requests" / "b1"));  // emptied folders go
    CHECK(refs_of(site.copy(1)) == refs_of(site.repository(1)));
    CHECK(show_ref_checksum(site.copy(1)) == show_ref_checksum(site.repository(1)));

    // A few refs changed on the primary stay loose until there are more of them than the bound.
    add_refs(site.repository(1), 3, "new");
    REQUIRE(site.secondary({"resync", "cool_widget", "1", "--now"}).status == 0);
    CHECK(loose_refs(site.copy(1)) == 6);
    CHECK(show_ref_checksum(site.copy(1)) == show_ref_checksum(site.repository(1)));

    // A copy made before refs were packed: every ref loose.
    shell("cd '" + site.copy(1).string() + "' && git for-each-ref --format='%(objectname) %(refname)' >../all-refs && "
          "while read oid name; do mkdir -p \"$(dirname \"$name\")\" && echo $oid >\"$name\"; done <../all-refs && "
          "rm packed-refs ../all-refs");
    REQUIRE(loose_refs(site.copy(1)) > 500);
    REQUIRE(site.run({"verify"}).status == 0);
    REQUIRE(site.secondary({"resync", "cool_widget", "1", "--now"}).status == 0);
    CHECK(loose_refs(site.copy(1)) == 0);
    CHECK(refs_of(site.copy(1)) == refs_of(site.repository(1)));
    RunResult verify = site.secondary({"verify"});
    CHECK_MESSAGE(verify.status == 0, verify.err);
    CHECK(site.registry(1, "verification_state") == "2");
}

TEST_CASE("sync: sync.max_refs refuses a repository with more refs, naming the key") {
    SecondaryFixture site;
    site.add_records(1, 2);
    add_refs(site.repository(1), 60);  // 120 refs, and the template's
    REQUIRE(site.secondary({"sync"}).status == 0);
    REQUIRE(std::filesystem::exists(site.copy(1)));
    write_file(site.secondary_config, read_file(site.secondary_config) + "sync: {max_refs: 100}\n");
    // Far more refs than the limit and than the trace's pipe holds (git is stopped while it is
    // still reading the listing): 3,000 more.
    add_refs(site.repository(1), 1500, "late");

    // A new copy is never made, an existing one is left as it was.
    std::filesystem::remove_all(site.copy(2));
    add_refs(site.repository(2), 1500);
    std::string before = refs_of(site.copy(1));
    RunResult sync = site.secondary({"resync", "cool_widget", "1", "2", "--now"});
    CAPTURE(sync.out);
    CHECK(sync.status == 1);
    for (long long id : {1, 2}) {
        CAPTURE(id);
        CHECK(site.registry(id, "state") == "3");
        std::string failure = site.registry(id, "last_sync_failure");
        CHECK_MESSAGE(failure.find("more refs than sync.max_refs (100) allows") != std::string::npos, failure);
    }
    CHECK(refs_of(site.copy(1)) == before);
    CHECK(!std::filesystem::exists(site.copy(2)));
    std::error_code ec;
    CHECK(std::filesystem::is_empty(site.secondary_storage / ".geo-ssf-tmp", ec));
}

TEST_CASE("sync: mirrors every record, then verify proves each copy by checksum") {
    SecondaryFixture site;
    site.add_records(1, 5);
    REQUIRE(site.run({"verify"}).status == 0);
    RunResult sync = site.secondary({"sync", "--format", "json"});
    CAPTURE(sync.err);
    CHECK(sync.status == 0);
    auto json = nlohmann::json::parse(sync.out);
    CHECK(json["synced"] == 5);
    CHECK(json["replicables"][0]["registry_created"] == 5);
    CHECK(tallies_folded(site.geo_db));
    for (long long id = 1; id <= 5; ++id) {
        CAPTURE(id);
        CHECK(refs_of(site.copy(id)) == refs_of(site.repository(id)));
        CHECK(read_file(site.copy(id) / "HEAD") == "ref: refs/heads/main\n");
        CHECK(site.registry(id, "state") == "2");
        CHECK(site.registry(id, "verification_state") == "0");  // the primary has verified it
        CHECK(site.registry(id, "last_synced_at IS NOT NULL") == "true");
    }
    RunResult verify = site.secondary({"verify"});
    CHECK(verify.status == 0);
    CHECK(verify.out.starts_with("verify: 5 claimed, 5 succeeded, 0 failed; cool_widget: 5 claimed, 5 succeeded, 0 "
                                 "failed; took "));
    CHECK(verify.out.ends_with(" s\n"));
    CHECK(site.registry(3, "encode(verification_checksum, 'hex')") == show_ref_checksum(site.repository(3)));
    CHECK(site.registry_count("verification_state = 2") == 5);
    CHECK(tallies_folded(site.geo_db));
}

TEST_CASE("sync: verification waits for the primary's checksum") {
    SecondaryFixture site;
    site.add_records(1, 2);
    REQUIRE(site.secondary({"sync"}).status == 0);
    CHECK(site.registry(1, "verification_state") == "4");  // disabled: nothing to compare with yet
    REQUIRE(site.run({"verify"}).status == 0);              // the primary checksums and publishes
    REQUIRE(site.secondary({"sync"}).status == 0);          // checksum_succeeded → pending
    CHECK(site.registry(1, "verification_state") == "0");
    CHECK(site.secondary({"verify"}).status == 0);
    CHECK(site.registry_count("verification_state = 2") == 2);
}

TEST_CASE("sync: a push and its updated event are mirrored, pruned refs included") {
    SecondaryFixture site;
    site.add_records(1, 2);
    REQUIRE(site.run({"verify"}).status == 0);
    REQUIRE(site.secondary({"sync"}).status == 0);
    shell("cd '" + site.repository(2).string() + "' && git update-ref -d refs/heads/old && "
          "git update-ref refs/heads/feature $(git rev-parse main) && git symbolic-ref HEAD refs/heads/feature");
    REQUIRE(site.run({"event", "cool_widget", "updated", "2"}).status == 0);
    RunResult sync = site.secondary({"sync", "--format", "json"});
    CHECK(sync.status == 0);
    CHECK(nlohmann::json::parse(sync.out)["claimed"] == 1);
    CHECK(refs_of(site.copy(2)) == refs_of(site.repository(2)));
    CHECK(refs_of(site.copy(2)).find("refs/heads/old") == std::string::npos);
    CHECK(read_file(site.copy(2) / "HEAD") == "ref: refs/heads/feature\n");
    REQUIRE(site.run({"verify"}).status == 0);
    REQUIRE(site.secondary({"sync"}).status == 0);
    CHECK(site.secondary({"verify"}).status == 0);
    CHECK(site.registry(2, "encode(verification_checksum, 'hex')") == show_ref_checksum(site.repository(2)));
}

TEST_CASE("sync: a mismatch names the refs that differ and the next sync repairs the copy") {
    SecondaryFixture site;
    site.add_records(1, 2);
    REQUIRE(site.run({"verify"}).status == 0);
    REQUIRE(site.secondary({"sync"}).status == 0);
    shell("git -C '" + site.copy(1).string() + "' update-ref -d refs/heads/record-1");
    RunResult verify = site.secondary({"verify", "--format", "json"});
    CHECK(verify.status == 1);
    auto json = nlohmann::json::parse(verify.out);
    CHECK(json["failed"] == 1);
    CHECK(json["replicables"][0]["failures"][0]["reason"] ==
          "checksum mismatch: refs differ: refs/heads/record-1 only on the primary");
    CHECK(site.registry(1, "checksum_mismatch") == "true");
    CHECK(site.registry(1, "verification_state") == "3");
    CHECK(site.registry(1, "state") == "3");  // the sync failed too, so it is fetched again
    CHECK(site.registry(1, "verification_failure").rfind("Checksum does not match the primary checksum {checksum: \"", 0) == 0);
    CHECK(site.registry(1, "last_sync_failure").rfind("Verification failed with: Checksum does not match", 0) == 0);
    CHECK(site.registry(1, "encode(verification_checksum_mismatched, 'hex')") ==
          site.registry(1, "encode(verification_checksum, 'hex')"));
    CHECK(site.registry(1, "retry_count") == site.registry(1, "verification_retry_count"));
    // show prints them, GitLab's verification_failure keeps its own text.
    RunResult shown = site.secondary({"show", "cool_widget", "1"});
    CAPTURE(shown.out);
    CHECK(shown.out.find("  refs that differ  ") != std::string::npos);
    CHECK(shown.out.find("refs differ: refs/heads/record-1 only on the primary\n") != std::string::npos);
    CHECK(nlohmann::json::parse(site.secondary({"show", "cool_widget", "1", "--format", "json"}).out)["ref_differences"] ==
          "refs differ: refs/heads/record-1 only on the primary");
    CHECK(site.secondary({"show", "cool_widget", "2"}).out.find("refs that differ") == std::string::npos);

    site.geo_db.exec("UPDATE cool_widget_registry SET retry_at = now() - interval '1 second'");
    REQUIRE(site.secondary({"sync"}).status == 0);
    CHECK(refs_of(site.copy(1)) == refs_of(site.repository(1)));
    CHECK(site.secondary({"verify"}).status == 0);
    CHECK(site.registry(1, "verification_state") == "2");
    CHECK(site.registry(1, "checksum_mismatch") == "false");
    CHECK(nlohmann::json::parse(site.secondary({"show", "cool_widget", "1", "--format", "json"}).out)["ref_differences"]
              .is_null());
    CHECK(site.geo_db.scalar("SELECT count(*) FROM geo_ssf_ref_differences") == "0");
}

TEST_CASE("sync: a copy's HEAD follows the primary's default branch, whether or not anything is fetched") {
    SecondaryFixture site;
    site.add_records(1, 2);
    REQUIRE(site.secondary({"sync"}).status == 0);
    site.push(2);
    REQUIRE(site.secondary({"resync", "cool_widget", "--all"}).status == 0);
    RunResult sync = site.secondary({"-vv", "sync"});
    CAPTURE(sync.err);
    CHECK(sync.status == 0);
    CHECK(refs_of(site.copy(1)) == refs_of(site.repository(1)));
    CHECK(refs_of(site.copy(2)) == refs_of(site.repository(2)));
    shell("cd '" + site.repository(1).string() + "' && git update-ref refs/heads/feature $(git rev-parse main) && "
          "git symbolic-ref HEAD refs/heads/feature");
    REQUIRE(site.secondary({"resync", "cool_widget", "1"}).status == 0);
    REQUIRE(site.secondary({"sync"}).status == 0);  // the new branch is fetched
    CHECK(read_file(site.copy(1) / "HEAD") == "ref: refs/heads/feature\n");
    shell("cd '" + site.repository(1).string() + "' && git symbolic-ref HEAD refs/heads/main");
    std::string before = refs_of(site.copy(1));
    REQUIRE(site.secondary({"resync", "cool_widget", "1"}).status == 0);
    REQUIRE(site.secondary({"sync"}).status == 0);  // no ref changed
    CHECK(read_file(site.copy(1) / "HEAD") == "ref: refs/heads/main\n");
    CHECK(refs_of(site.copy(1)) == before);
    // A HEAD naming no branch that exists leaves the copy's as it was.
    shell("cd '" + site.repository(1).string() + "' && git symbolic-ref HEAD refs/heads/gone");
    REQUIRE(site.secondary({"resync", "cool_widget", "1"}).status == 0);
    RunResult unborn = site.secondary({"sync"});
    CHECK_MESSAGE(unborn.status == 0, unborn.err);
    CHECK(read_file(site.copy(1) / "HEAD") == "ref: refs/heads/main\n");
}

TEST_CASE("sync: an empty repository is copied, filled, and emptied again as the primary's is") {
    SecondaryFixture site;
    auto ref_count = [](const std::filesystem::path& repository) {
        return shell("git --git-dir='" + repository.string() + "' for-each-ref | wc -l");
    };
    site.add_records(1, 1);
    std::filesystem::remove_all(site.repository(1));
    shell("git init -q --bare '" + site.repository(1).string() + "'");
    RunResult sync = site.secondary({"sync"});
    CAPTURE(sync.err);
    CHECK(sync.status == 0);
    CHECK(site.registry(1, "state") == "2");
    CHECK(std::filesystem::exists(site.copy(1) / "HEAD"));
    CHECK(ref_count(site.copy(1)) == "0\n");
    std::filesystem::remove_all(site.repository(1));
    site.repositories.create(site.storage, "cool_widgets/1.git", 1);
    REQUIRE(ref_count(site.repository(1)) != "0\n");
    REQUIRE(site.secondary({"resync", "cool_widget", "1"}).status == 0);
    sync = site.secondary({"sync"});
    CHECK_MESSAGE(sync.status == 0, sync.err);
    CHECK(refs_of(site.copy(1)) == refs_of(site.repository(1)));
    // Every ref deleted on the primary, HEAD unborn: the copy's go too.
    shell("git --git-dir='" + site.repository(1).string() + "' for-each-ref --format='delete %(refname)' | git --git-dir='" +
          site.repository(1).string() + "' update-ref --stdin");
    REQUIRE(ref_count(site.repository(1)) == "0\n");
    REQUIRE(site.secondary({"resync", "cool_widget", "1"}).status == 0);
    sync = site.secondary({"sync"});
    CHECK_MESSAGE(sync.status == 0, sync.err);
    CHECK(site.registry(1, "state") == "2");
    CHECK(ref_count(site.copy(1)) == "0\n");
}

TEST_CASE("sync: copies corrupted or deleted by hand heal without manual steps") {
    SecondaryFixture site;
    site.add_records(1, 3);
    REQUIRE(site.run({"verify"}).status == 0);
    REQUIRE(site.secondary({"sync"}).status == 0);
    write_file(site.copy(1) / "packed-refs", "garbage\n");
    std::filesystem::remove_all(site.copy(2));
    shell("cd '" + site.copy(3).string() + "' && rm -rf objects/pack objects/??");
    RunResult verify = site.secondary({"verify"});
    CHECK(verify.status == 1);
    CHECK(site.registry_count("state = 3") == 3);
    site.geo_db.exec("UPDATE cool_widget_registry SET retry_at = now() - interval '1 second'");
    RunResult sync = site.secondary({"sync"});
    CAPTURE(sync.err);
    CHECK(sync.status == 0);
    CHECK(site.secondary({"verify"}).status == 0);
    CHECK(site.registry_count("verification_state = 2") == 3);
    CHECK(std::filesystem::is_empty(site.secondary_storage / ".geo-ssf-tmp"));
}

TEST_CASE("sync: a repository missing on the primary is synced as missing; an unreachable primary fails with backoff") {
    SecondaryFixture site;
    site.add_records(1, 2);
    std::filesystem::remove_all(site.repository(2));
    CHECK(site.secondary({"sync"}).status == 0);
    CHECK(site.registry(2, "state") == "2");
    CHECK(site.registry(2, "missing_on_primary") == "true");
    CHECK(site.registry(1, "missing_on_primary") == "false");

    std::string text = read_file(site.secondary_config);
    text.replace(text.find("file://"), 7, "https://127.0.0.1:1/");
    write_file(site.secondary_config, text);
    REQUIRE(site.secondary({"resync", "cool_widget", "1"}).status == 0);
    RunResult sync = site.secondary({"sync"});
    CHECK(sync.status == 1);
    CHECK(site.registry(1, "state") == "3");
    CHECK(site.registry(1, "last_sync_failure").rfind("Error syncing repository: ", 0) == 0);
    CHECK(site.registry(1, "retry_count") == "1");
    CHECK(site.registry(1, "retry_at BETWEEN now() + interval '15 seconds' AND now() + interval '75 seconds'") == "true");
}

TEST_CASE("sync: under -q each failed record is an error line naming its repository and the side it concerns") {
    SecondaryFixture site;
    site.add_records(1, 4);
    for (long long id : {1, 2, 3})
        std::filesystem::remove_all(site.repository(id) / "objects");  // broken on the primary
    RunResult quiet = site.secondary({"-q", "sync"});
    CHECK(quiet.status == 1);
    CHECK(quiet.out.empty());
    CAPTURE(quiet.err);
    for (long long id : {1, 2, 3}) {
        std::string line = "geo-ssf: error: cool_widget " + std::to_string(id) + ": ";
        std::string concerns = "(primary file://" + site.repository(id).string() + ")";
        size_t at = quiet.err.find(line);
        REQUIRE(at != std::string::npos);
        CHECK(quiet.err.find(concerns, at) == quiet.err.find('\n', at) - concerns.size());
    }
    CHECK(quiet.err.find("cool_widget 4") == std::string::npos);

    // The same as JSON lines, for a log shipper.
    site.geo_db.exec("UPDATE cool_widget_registry SET retry_at = now() - interval '1 second'");
    RunResult json = site.secondary({"-q", "--log-format", "json", "sync"});
    CHECK(json.status == 1);
    std::set<long long> failed;
    std::istringstream lines(json.err);
    for (std::string line; std::getline(lines, line);) {
        auto record = nlohmann::json::parse(line);
        CHECK(record["level"] == "error");
        CHECK(record["type"] == "cool_widget");
        CHECK(record["message"].get<std::string>().find("(primary file://") != std::string::npos);
        failed.insert(record["id"].get<long long>());
    }
    CHECK(failed == std::set<long long>{1, 2, 3});

    // resync --now logs each failure too.
    RunResult now = site.secondary({"-q", "resync", "cool_widget", "2", "--now"});
    CHECK(now.status == 1);
    CHECK(now.out.rfind("2 failed Error syncing repository: ", 0) == 0);
    CHECK(now.err.find("geo-ssf: error: cool_widget 2: Error syncing repository: ") != std::string::npos);
    CHECK(now.err.find("(primary file://" + site.repository(2).string() + ")\n") != std::string::npos);
}

TEST_CASE("sync: a local primary another user owns is read only when trusted, whether git is installed or not") {
    // The NFS layout: the primary's repositories belong to the application's user (root here),
    // the secondary runs as its own (nobody), as the systemd units run it as geo-ssf.
    SecondaryFixture site;
    site.add_records(1, 2);
    REQUIRE(site.run({"verify"}).status == 0);
    open_to_others(site.dir.path());
    shell("chown -R 65534:65534 '" + site.secondary_storage.string() + "'");
    RunOptions options;
    SUBCASE("git fetches") {}
    SUBCASE("libgit2 fetches") { options.env["PATH"] = (site.dir / "no-programs").string(); }
    CAPTURE(options.env.count("PATH"));
    auto as_nobody = [&](std::vector<std::string> args) {
        args.insert(args.begin(), {"-c", site.secondary_config.string()});
        return run_geo_ssf_as_nobody(args, options);
    };
    const std::string refusal = "the primary's repository belongs to root (uid 0), not to nobody (uid 65534), which "
                                "runs geo-ssf: set storage.trust_primary_owner: true to let git and libgit2 read it "
                                "(geo-ssf.yml(5))";

    RunResult check = as_nobody({"check"});
    CAPTURE(check.out);
    CHECK(check.status == 1);
    CHECK(check.out.find("FAILED  primary readable for cool_widget: " + site.repository(1).string() + ": " + refusal +
                         "\n") != std::string::npos);
    RunResult refused = as_nobody({"-q", "sync"});
    CAPTURE(refused.err);
    CHECK(refused.status == 1);
    CHECK(refused.err.find("geo-ssf: error: cool_widget 1: Error syncing repository: " + refusal + " (primary file://" +
                           site.repository(1).string() + ")\n") != std::string::npos);
    CHECK(site.registry(1, "last_sync_failure").find("belongs to root (uid 0), not to nobody") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(site.copy(1)));

    std::string config = read_file(site.secondary_config);
    config.insert(config.find("}", config.find("storage:")), ", trust_primary_owner: true");
    write_file(site.secondary_config, config);
    CHECK(as_nobody({"check"}).out.find("passed  primary readable for cool_widget: " + site.repository(1).string()) !=
          std::string::npos);
    site.geo_db.exec("UPDATE cool_widget_registry SET retry_at = now() - interval '1 second'");
    RunResult synced = as_nobody({"sync"});
    CAPTURE(synced.err);
    CHECK(synced.status == 0);
    CHECK(site.registry_count("state = 2") == 2);
    RunResult verified = as_nobody({"verify"});
    CAPTURE(verified.err);
    CHECK(verified.status == 0);
    CHECK(site.registry_count("verification_state = 2") == 2);
}

TEST_CASE("sync: a storage root another user owns stops sync, verify and --now before any record is touched") {
    // The units run geo-ssf as its own user, who owns the storage root; root (or anyone else)
    // running a one-off command there is told whom to run it as, and changes nothing.
    SecondaryFixture site;
    site.add_records(1, 2);
    REQUIRE(site.run({"verify"}).status == 0);
    REQUIRE(site.secondary({"sync"}).status == 0);
    site.geo_db.exec("UPDATE cool_widget_registry SET state = 3, retry_count = 2, retry_at = now() - interval '1 "
                     "second', last_sync_failure = 'earlier' WHERE cool_widget_id = 2");
    auto rows = [&] {
        return site.geo_db.scalar("SELECT string_agg(r::text, ' | ' ORDER BY id) FROM cool_widget_registry r");
    };
    auto entries = [&] {
        std::set<std::string> out;
        for (const auto& entry : std::filesystem::recursive_directory_iterator(site.secondary_storage))
            out.insert(entry.path().string());
        return out;
    };
    const std::vector<std::vector<std::string>> commands = {{"sync"},
                                                            {"verify"},
                                                            {"resync", "cool_widget", "1", "2", "--now"},
                                                            {"resync", "cool_widget", "--failed", "--now"},
                                                            {"reverify", "cool_widget", "1", "--now"},
                                                            {"reverify", "cool_widget", "1", "2", "--now"},
                                                            {"reverify", "cool_widget", "1", "--deep", "--now"}};
    auto refused_all = [&](const std::function<RunResult(std::vector<std::string>)>& run, const std::string& owner,
                           const std::string& runner, const std::string& sudo_user) {
        std::string before = rows();
        auto listed = entries();
        for (const auto& command : commands) {
            std::string line;
            for (const auto& word : command)
                line += word + " ";
            CAPTURE(line);
            RunResult r = run(command);
            CAPTURE(r.out);
            CHECK(r.status == 5);
            CHECK(r.out.empty());
            CHECK(r.err == "geo-ssf: error: storage root " + site.secondary_storage.string() + " belongs to " + owner +
                               ", not to " + runner + ", which runs geo-ssf; run geo-ssf as that user: sudo -u " +
                               sudo_user + " geo-ssf ...\n");
        }
        CHECK(rows() == before);  // no state, retry count or failure changed
        CHECK(entries() == listed);
        CHECK(site.geo_db.scalar("SELECT count(*) FROM cool_widget_registry WHERE retry_count = 2") == "1");
    };

    // Another user's root, root running the command.
    shell("chown -R 65534:65534 '" + site.secondary_storage.string() + "'");
    refused_all([&](std::vector<std::string> args) { return site.secondary(args); }, "nobody (uid 65534)",
                "root (uid 0)", "nobody");
    RunResult check = site.secondary({"check"});
    CHECK(check.status == 1);
    CHECK(check.out.find("FAILED  storage root present and writable: storage root " + site.secondary_storage.string() +
                         " belongs to nobody (uid 65534), not to root (uid 0)") != std::string::npos);
    // Marking only writes the tracking database: any user may.
    CHECK(site.secondary({"resync", "cool_widget", "--failed", "--dry-run"}).status == 0);

    // The reverse: an unprivileged user on root's storage root.
    shell("chown -R 0:0 '" + site.secondary_storage.string() + "'");
    open_to_others(site.dir.path());
    refused_all(
        [&](std::vector<std::string> args) {
            args.insert(args.begin(), {"-c", site.secondary_config.string()});
            return run_geo_ssf_as_nobody(args);
        },
        "root (uid 0)", "nobody (uid 65534)", "root");

    // As the owner, the same command works the records.
    RunResult now = site.secondary({"resync", "cool_widget", "2", "--now"});
    CAPTURE(now.err);
    CHECK(now.status == 0);
    CHECK(now.out == "2 synced\n");
    CHECK(site.registry(2, "retry_count") == "0");
}

TEST_CASE("sync: a secondary without its primary's types refuses to run, naming them and the fix") {
    SecondaryFixture site;
    site.add_records(1, 2);
    REQUIRE(site.run({"event", "cool_widget", "updated", "1", "2"}).status == 0);
    // A secondary set up from the README without copying the primary's replicables/ and
    // migrations/: its folder has neither.
    auto bare = site.dir / "bare-secondary";
    std::filesystem::create_directories(bare / "secondary-repositories");
    write_file(bare / "secondary.yml", read_file(site.secondary_config));
    auto run_bare = [&](std::vector<std::string> args) {
        args.insert(args.begin(), {"-c", (bare / "secondary.yml").string()});
        return run_geo_ssf(args);
    };
    const std::string missing = "this site defines no replicable type (" + (bare / "replicables").string() +
                                " has none), and the primary's database has states tables: cool_widget_states; copy "
                                "the primary's replicables/ and migrations/ folders to " +
                                (bare / "replicables").string() + " and " + (bare / "migrations").string() +
                                ", then run geo-ssf migrate";
    RunResult check = run_bare({"check"});
    CAPTURE(check.out);
    CHECK(check.status == 1);
    CHECK(check.out.find("FAILED  every type of the primary defined here: " + missing + "\n") != std::string::npos);
    check_one_line_error(run_bare({"sync"}), 3, missing);
    CHECK(site.geo_db.scalar("SELECT count(*) FROM event_log_states") == "0");  // no event replayed, none lost
    CHECK(run_bare({"replicables"}).out.find("copy the primary's replicables/ and migrations/") != std::string::npos);

    // With the types copied, the same site runs, and the events wait for it.
    std::filesystem::copy(site.dir / "replicables", bare / "replicables", std::filesystem::copy_options::recursive);
    std::filesystem::copy(site.dir / "migrations", bare / "migrations", std::filesystem::copy_options::recursive);
    CHECK(run_bare({"check"}).out.find("passed  every type of the primary defined here: 1 states table(s)") !=
          std::string::npos);
    RunResult synced = run_bare({"sync"});
    CAPTURE(synced.err);
    CHECK(synced.status == 0);
    CHECK(site.registry_count("state = 2") == 2);
}

TEST_CASE("sync: the registry follows the primary's records, and deletions remove the copies") {
    SecondaryFixture site;
    site.add_records(1, 4);
    REQUIRE(site.secondary({"sync"}).status == 0);
    CHECK(site.registry_count("true") == 4);
    // Deleted with its event: the copy and the registry row go at once.
    REQUIRE(site.run({"event", "cool_widget", "deleted", "1"}).status == 0);
    site.main_db.exec("DELETE FROM cool_widgets WHERE id = 1");
    // Deleted without an event: the consistency pass notices.
    site.main_db.exec("DELETE FROM cool_widgets WHERE id = 2");
    site.add_records(5, 5);
    RunResult refused = site.secondary({"sync", "--format", "json"});
    CHECK(refused.status == 1);  // 1 of the 3 rows compared: more than sync.max_removal_share
    CHECK(nlohmann::json::parse(refused.out)["replicables"][0]["registry_created"] == 1);  // new records still come
    CHECK(std::filesystem::exists(site.copy(2)));
    RunResult sync = site.secondary({"sync", "--allow-mass-removal", "--format", "json"});
    CHECK(sync.status == 0);
    auto json = nlohmann::json::parse(sync.out);
    CHECK(json["replicables"][0]["registry_deleted"] == 1);
    CHECK(site.registry_count("true") == 3);
    CHECK_FALSE(std::filesystem::exists(site.copy(1)));
    CHECK_FALSE(std::filesystem::exists(site.copy(2)));
    CHECK(std::filesystem::exists(site.secondary_storage / ".geo-ssf-removed" / "cool_widget" / "2"));  // not deleted
    CHECK(std::filesystem::exists(site.copy(5)));
}

TEST_CASE("sync: events for unknown types and malformed payloads are skipped, not fatal") {
    SecondaryFixture site;
    site.add_records(1, 1);
    REQUIRE(site.secondary({"sync"}).status == 0);  // the cursor starts after the newest event
    site.main_db.exec("INSERT INTO geo_events (replicable_name, event_name, payload, created_at) VALUES "
                      "('gadget', 'updated', '{\"model_record_id\": 1}', now()),"
                      "('cool_widget', 'updated', '{\"model_record_id\": \"x\"}', now()),"
                      "('cool_widget', 'updated', '[]', now()),"
                      "('cool_widget', 'renamed', '{\"model_record_id\": 1}', now())");
    RunResult sync = site.secondary({"sync", "--format", "json"});
    CHECK(sync.status == 0);
    auto json = nlohmann::json::parse(sync.out);
    CHECK(json["events"] == 4);
    CHECK(json["events_skipped"] == 4);
    CHECK(site.geo_db.scalar("SELECT event_id FROM event_log_states") ==
          site.main_db.scalar("SELECT max(id) FROM geo_events"));
    CHECK(site.registry(1, "state") == "2");
}

TEST_CASE("sync: a recent gap in the event ids waits; an old one is passed over") {
    SecondaryFixture site;
    site.add_records(1, 1);
    REQUIRE(site.secondary({"sync"}).status == 0);
    // Event 1 committed, 2 still in flight (a transaction not yet committed), 3 committed.
    site.main_db.exec("INSERT INTO geo_events (id, replicable_name, event_name, payload, created_at) VALUES "
                      "(1, 'cool_widget', 'updated', '{\"model_record_id\": 1}', now()),"
                      "(3, 'cool_widget', 'updated', '{\"model_record_id\": 1}', now())");
    auto sync = nlohmann::json::parse(site.secondary({"sync", "--format", "json"}).out);
    CHECK(sync["events"] == 1);
    CHECK(sync["last_event_id"] == 1);
    site.main_db.exec("UPDATE geo_events SET created_at = now() - interval '11 minutes' WHERE id = 3");
    sync = nlohmann::json::parse(site.secondary({"sync", "--format", "json"}).out);
    CHECK(sync["events"] == 1);
    CHECK(sync["last_event_id"] == 3);
}

TEST_CASE("sync: a path that leads out of the storage root is refused, and nothing outside is touched") {
    SecondaryFixture site;
    site.add_records(1, 1);
    TempDir outside;
    write_file(outside / "keep" / "file", "precious\n");
    std::filesystem::create_directories(site.secondary_storage);
    std::filesystem::create_directory_symlink(outside / "keep", site.secondary_storage / "cool_widgets");
    RunResult sync = site.secondary({"sync"});
    CHECK(sync.status == 1);
    CHECK(site.registry(1, "state") == "3");
    CHECK(site.registry(1, "last_sync_failure").find("outside the storage root") != std::string::npos);
    CHECK(read_file(outside / "keep" / "file") == "precious\n");
    CHECK(std::distance(std::filesystem::directory_iterator(outside / "keep"), std::filesystem::directory_iterator()) == 1);
}

TEST_CASE("sync: a run killed with SIGKILL leaves nothing the next run cannot finish at once") {
    SecondaryFixture site;
    site.add_records(1, 120);
    BackgroundRun run({"-c", site.secondary_config.string(), "sync", "--batch-size", "1", "--jobs", "1"});
    while (site.registry_count("state = 2") < 30)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    run.signal(SIGKILL);
    CHECK(run.wait().status == 128 + SIGKILL);
    site.geo_db.wait_for_geo_ssf_connections_to_end();
    site.main_db.wait_for_geo_ssf_connections_to_end();
    long long started = site.registry_count("state = 1");
    RunResult next = site.secondary({"sync", "--format", "json"});
    CAPTURE(next.err);
    CHECK(next.status == 0);
    CHECK(nlohmann::json::parse(next.out)["replicables"][0]["released"] == started);
    CHECK(site.registry_count("state = 2") == 120);
    for (long long id : {1LL, 60LL, 120LL})
        CHECK(refs_of(site.copy(id)) == refs_of(site.repository(id)));
    CHECK(std::filesystem::is_empty(site.secondary_storage / ".geo-ssf-tmp"));
}

TEST_CASE("sync: four runs at once fetch every record once") {
    SecondaryFixture site;
    site.add_records(1, 120);
    site.geo_db.exec("INSERT INTO cool_widget_registry (cool_widget_id, created_at) SELECT generate_series(1, 120), now()");
    std::vector<RunResult> results(4);
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i)
        threads.emplace_back([&, i] { results[i] = site.secondary({"sync", "--batch-size", "3", "--format", "json"}); });
    for (auto& t : threads)
        t.join();
    long long claimed = 0;
    for (const auto& r : results) {
        CAPTURE(r.err);
        CHECK(r.status == 0);
        claimed += nlohmann::json::parse(r.out)["claimed"].get<long long>();
    }
    CHECK(claimed == 120);
    CHECK(site.registry_count("state = 2") == 120);
}

TEST_CASE("sync: the tracking database going away mid-run is exit 4; the next run completes") {
    SecondaryFixture site;
    site.add_records(1, 120);
    BackgroundRun run({"-c", site.secondary_config.string(), "sync", "--batch-size", "1", "--jobs", "1"});
    while (site.registry_count("state = 2") < 10)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    site.geo_db.exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'geo-ssf' "
                     "AND datname = current_database()");
    RunResult lost = run.wait();
    CHECK_MESSAGE(lost.status == 4, lost.err);
    CHECK(lost.out.empty());
    CHECK_MESSAGE(lost.err.find("lost the connection to the tracking database (databases.geo, database " +
                                site.geo_db.name() + "): ") != std::string::npos,
                  lost.err);
    CHECK(site.secondary({"sync"}).status == 0);
    CHECK(site.registry_count("state = 2") == 120);
}

TEST_CASE("sync: a lost connection to the primary's database is made again once; gone for good, exit 4 naming it") {
    SecondaryFixture site;
    site.add_records(1, 120);
    auto terminate = [&] {
        site.main_db.exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'geo-ssf' "
                          "AND datname = current_database()");
    };
    SUBCASE("once: the run connects again and goes on") {
        BackgroundRun run({"-c", site.secondary_config.string(), "-v", "sync", "--batch-size", "1", "--jobs", "1"});
        while (site.registry_count("state = 2") < 10)
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        terminate();
        RunResult done = run.wait();
        CAPTURE(done.err);
        CHECK(done.status == 0);
        CHECK(done.err.find("lost the connection to the primary's database: ") != std::string::npos);
        CHECK(done.err.find("; connecting again to try the read once more") != std::string::npos);
        CHECK(site.registry_count("state = 2") == 120);
    }
    SUBCASE("for good: exit 4") {
        BackgroundRun run({"-c", site.secondary_config.string(), "sync", "--batch-size", "1", "--jobs", "1"});
        while (site.registry_count("state = 2") < 10)
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        auto allow_connections = [&](bool allow) {  // from another database: not of the one connected to
            pqxx::connection other("dbname=postgres");
            pqxx::nontransaction(other).exec("ALTER DATABASE " + site.main_db.name() + " ALLOW_CONNECTIONS " +
                                             (allow ? "true" : "false"));
        };
        allow_connections(false);
        terminate();
        RunResult lost = run.wait();
        allow_connections(true);
        CHECK_MESSAGE(lost.status == 4, lost.err);
        CHECK_MESSAGE(lost.err.find("lost the connection to the main database (databases.main, database " +
                                    site.main_db.name() + "): ") != std::string::npos,
                      lost.err);
        CHECK(site.secondary({"sync"}).status == 0);
        CHECK(site.registry_count("state = 2") == 120);
    }
}

TEST_CASE("resync and reverify on a secondary") {
    SecondaryFixture site;
    site.add_records(1, 3);
    REQUIRE(site.run({"verify"}).status == 0);
    REQUIRE(site.secondary({"sync"}).status == 0);
    REQUIRE(site.secondary({"verify"}).status == 0);

    CHECK(site.secondary({"resync", "cool_widget", "--all", "--dry-run"}).out ==
          "would mark 3 cool_widget record(s) for syncing\n");
    CHECK(site.secondary({"resync", "cool_widget", "2"}).out == "marked 1 cool_widget record(s) for syncing\n");
    CHECK(site.registry(2, "state") == "0");
    CHECK(site.registry(2, "verification_state") == "4");
    RunResult now = site.secondary({"resync", "cool_widget", "2", "--now"});
    CHECK(now.status == 0);
    CHECK(now.out == "2 synced\n");
    CHECK(site.registry(2, "state") == "2");

    CHECK(site.secondary({"reverify", "cool_widget", "1"}).out == "marked 1 cool_widget record(s) for re-verification\n");
    CHECK(site.registry(1, "verification_state") == "0");
    RunResult reverified = site.secondary({"reverify", "cool_widget", "1", "2", "--now"});
    CHECK(reverified.status == 0);
    CHECK(reverified.out == "1 succeeded " + show_ref_checksum(site.repository(1)) + "\n2 succeeded " +
                                show_ref_checksum(site.repository(2)) + "\n");

    RunResult unknown = site.secondary({"resync", "cool_widget", "9"});
    CHECK(unknown.status == 2);
    CHECK(unknown.err == "geo-ssf: error: no cool_widget record with id 9 on the primary; nothing was changed\n");
    CHECK(site.secondary({"resync", "cool_widget"}).status == 2);
    CHECK(site.run({"resync", "cool_widget", "1"}).status == 2);  // a primary has no registry
}

// GitLab's snippet_repositories keys on snippet_id and has no id column: a statement that still
// named the model table's id would fail on it, so the whole loop proves every one uses the key.
TEST_CASE("sync: a type keyed on snippet_id, with no id column, through the whole loop") {
    SecondaryFixture site;
    site.main_db.exec("CREATE TABLE snippet_repositories (snippet_id bigint PRIMARY KEY, shard text NOT NULL)");
    site.main_db.exec("GRANT SELECT ON snippet_repositories TO " + site.reader);
    RunResult generated =
        site.run({"generate", "replicable", "Snippet", "--model-table", "snippet_repositories", "--model-key",
                  "snippet_id", "--repository-path", "snippets/{snippet_id}.git", "--scope", "shard <> 'archive'"});
    CAPTURE(generated.err);
    REQUIRE(generated.status == 0);
    CHECK(generated.err.empty());  // the model table was read: nothing was trusted blindly
    CHECK(read_file(site.dir / "replicables" / "snippet.yml").find("\nmodel_key: snippet_id\n") != std::string::npos);
    RunResult migrated = site.run({"migrate"});
    REQUIRE_MESSAGE(migrated.status == 0, migrated.err);
    CHECK(site.main_db.scalar("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = "
                              "'snippet_states'::regclass AND contype = 'f'") ==
          "FOREIGN KEY (snippet_id) REFERENCES snippet_repositories(snippet_id) ON DELETE CASCADE");
    site.main_db.exec("GRANT SELECT ON snippet_states TO " + site.reader);
    migrated = site.secondary({"migrate"});
    REQUIRE_MESSAGE(migrated.status == 0, migrated.err);

    site.main_db.exec("INSERT INTO snippet_repositories VALUES (10, 'a'), (20, 'a'), (30, 'b'), (40, 'archive')");
    for (long long id : {10, 20, 30, 40})
        site.repositories.create(site.storage, "snippets/" + std::to_string(id) + ".git", id);
    auto snippet = [](const std::filesystem::path& root, long long id) {
        return root / "snippets" / (std::to_string(id) + ".git");
    };
    auto registry = [&](long long id, const std::string& column) {
        return site.geo_db.scalar("SELECT (" + column + ")::text FROM snippet_registry WHERE snippet_id = " +
                                  std::to_string(id));
    };

    RunResult check = site.run({"check"});
    CAPTURE(check.out);
    CHECK(check.out.find("passed  definition of snippet fits its model table: model_key snippet_id") !=
          std::string::npos);
    RunResult event = site.run({"event", "snippet", "created", "10", "20", "30"});
    CAPTURE(event.err);
    CHECK(event.status == 0);
    RunResult verify = site.run({"verify", "--format", "json"});
    CAPTURE(verify.err);
    REQUIRE(verify.status == 0);
    CHECK(site.main_db.scalar("SELECT string_agg(snippet_id::text || ':' || verification_state, ',' ORDER BY "
                              "snippet_id) FROM snippet_states") == "10:2,20:2,30:2");  // 40 is out of scope
    CHECK(site.main_db.scalar("SELECT encode(verification_checksum, 'hex') FROM snippet_states WHERE snippet_id = 20") ==
          show_ref_checksum(snippet(site.storage, 20)));

    RunResult sync = site.secondary({"sync", "--format", "json"});
    CAPTURE(sync.err);
    REQUIRE(sync.status == 0);
    CHECK(site.geo_db.scalar("SELECT string_agg(snippet_id::text || ':' || state, ',' ORDER BY snippet_id) FROM "
                             "snippet_registry") == "10:2,20:2,30:2");
    for (long long id : {10, 20, 30}) {
        CAPTURE(id);
        CHECK(refs_of(snippet(site.secondary_storage, id)) == refs_of(snippet(site.storage, id)));
    }
    CHECK(!std::filesystem::exists(snippet(site.secondary_storage, 40)));
    RunResult secondary_verify = site.secondary({"verify"});
    CAPTURE(secondary_verify.err);
    CHECK(secondary_verify.status == 0);
    CHECK(registry(30, "verification_state") == "2");
    CHECK(registry(30, "encode(verification_checksum, 'hex')") == show_ref_checksum(snippet(site.storage, 30)));

    auto status_of = [](const RunResult& r) {
        CAPTURE(r.err);
        REQUIRE(r.status == 0);
        auto status = nlohmann::json::parse(r.out);
        for (const auto& t : status["replicables"])
            if (t["name"] == "snippet")
                return t;
        FAIL("no snippet in the status");
        return nlohmann::json();
    };
    auto primary_status = status_of(site.run({"status", "--format", "json"}));
    CHECK(primary_status["status"] == "ok");
    CHECK(primary_status["snippets_count"] == 3);
    CHECK(primary_status["snippets_checksummed_count"] == 3);
    auto secondary_status = status_of(site.secondary({"status", "--format", "json"}));
    CHECK(secondary_status["status"] == "ok");
    CHECK(secondary_status["snippets_synced_count"] == 3);
    CHECK(secondary_status["snippets_verified_count"] == 3);

    RunResult show = site.secondary({"show", "snippet", "20", "--format", "json"});
    CAPTURE(show.err);
    REQUIRE(show.status == 0);
    auto shown = nlohmann::json::parse(show.out);
    CHECK(shown["on_primary"] == true);
    CHECK(shown["in_scope"] == true);
    CHECK(shown["repository_path"] == "snippets/20.git");
    CHECK(shown["checksum_matches"] == true);
    RunResult listed = site.secondary({"list", "snippet", "--format", "json"});
    CAPTURE(listed.err);
    REQUIRE(listed.status == 0);
    auto records = nlohmann::json::parse(listed.out)["records"];
    REQUIRE(records.size() == 3);
    CHECK(records[0]["id"] == 10);
    CHECK(records[2]["id"] == 30);

    RunResult reverify = site.run({"reverify", "snippet", "10", "--now"});
    CHECK(reverify.status == 0);
    CHECK(reverify.out == "10 succeeded " + show_ref_checksum(snippet(site.storage, 10)) + "\n");
    CHECK(site.run({"reverify", "snippet", "20", "40", "--dry-run"}).out ==
          "would mark 1 snippet record(s) for re-verification\n");  // 40 is out of scope
    CHECK(site.run({"reverify", "snippet", "40"}).status == 0);
    RunResult unknown = site.run({"reverify", "snippet", "11"});
    CHECK(unknown.status == 2);
    CHECK(unknown.err == "geo-ssf: error: no snippet record with id 11; nothing was changed\n");
    RunResult resync = site.secondary({"resync", "snippet", "20", "--now"});
    CAPTURE(resync.err);
    CHECK(resync.status == 0);
    CHECK(resync.out == "20 synced\n");
    CHECK(site.secondary({"reverify", "snippet", "30", "--now"}).out ==
          "30 succeeded " + show_ref_checksum(snippet(site.storage, 30)) + "\n");

    // A record leaving the scope, and one deleted: its path comes from its key alone.
    site.main_db.exec("UPDATE snippet_repositories SET shard = 'archive' WHERE snippet_id = 10");
    site.main_db.exec("DELETE FROM snippet_repositories WHERE snippet_id = 30");
    REQUIRE(site.run({"event", "snippet", "deleted", "30"}).status == 0);
    REQUIRE(site.run({"verify"}).status == 0);
    CHECK(site.main_db.scalar("SELECT string_agg(snippet_id::text, ',' ORDER BY snippet_id) FROM snippet_states") ==
          "20");
    sync = site.secondary({"sync", "--allow-mass-removal"});  // 1 of 2 rows leaves the scope: over the share
    CAPTURE(sync.err);
    CHECK(sync.status == 0);
    CHECK(site.geo_db.scalar("SELECT string_agg(snippet_id::text, ',' ORDER BY snippet_id) FROM snippet_registry") ==
          "20");
    CHECK(!std::filesystem::exists(snippet(site.secondary_storage, 30)));
    CHECK(std::filesystem::exists(snippet(site.secondary_storage, 10)));  // out of scope: the copy stays, as in GitLab
}

TEST_CASE("sync: the secondary never writes to the main database") {
    SecondaryFixture site;
    site.add_records(1, 2);
    REQUIRE(site.run({"verify"}).status == 0);
    std::string before = site.main_db.scalar("SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) FROM "
                                             "(SELECT * FROM cool_widget_states) t");
    std::string events = site.main_db.scalar("SELECT count(*) FROM geo_events");
    REQUIRE(site.secondary({"sync"}).status == 0);
    REQUIRE(site.secondary({"verify"}).status == 0);
    REQUIRE(site.secondary({"reverify", "cool_widget", "--all"}).status == 0);
    CHECK(site.main_db.scalar("SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) FROM "
                              "(SELECT * FROM cool_widget_states) t") == before);
    CHECK(site.main_db.scalar("SELECT count(*) FROM geo_events") == events);
    // The role itself could not have: it may only read.
    pqxx::connection as_reader(site.main_db.conninfo() + " user=" + site.reader + " password=reader");
    pqxx::work tx(as_reader);
    CHECK_THROWS_AS(tx.exec("UPDATE cool_widget_states SET verification_state = 0"), pqxx::insufficient_privilege);
}

}
