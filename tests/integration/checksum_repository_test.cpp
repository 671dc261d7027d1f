// repository_checksum and `geo-ssf checksum` on real repositories made with the git CLI:
// Gitaly's end-to-end vector, agreement with `git show-ref --head` on varied repositories, and
// every kind of broken repository.
#include "repo/checksum.hpp"
#include "repo/git.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <future>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using namespace geo_ssf;
using namespace geo_ssf::test;
namespace fs = std::filesystem;

namespace {

const std::string k_identity =
    "export GIT_AUTHOR_NAME='Scrooge McDuck' GIT_AUTHOR_EMAIL=scrooge@mcduck.com "
    "GIT_COMMITTER_NAME='Scrooge McDuck' GIT_COMMITTER_EMAIL=scrooge@mcduck.com "
    "GIT_AUTHOR_DATE='Sun, 03 Nov 2019 11:27:59 +0100' GIT_COMMITTER_DATE='Sun, 03 Nov 2019 11:27:59 +0100'; ";

std::string quoted(const fs::path& path) {
    // Appended, not "'" + string: GCC 12 warns falsely (-Wrestrict) on that at -O2 and above.
    std::string out = "'";
    out += path.string();
    return out + "'";
}

std::string trimmed(std::string text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
        text.pop_back();
    return text;
}

// The checksum Gitaly computes: `git show-ref --head` in the repository, through the pure part.
std::string git_show_ref_checksum(const fs::path& repo) {
    RunResult r = run_program("git", {"--git-dir=" + repo.string(), "show-ref", "--head"});
    CAPTURE(r.err);
    REQUIRE((r.status == 0 || (r.status == 1 && r.out.empty())));  // 1: no refs at all
    return checksum_of_show_ref(r.out);
}

// The message repository_checksum throws for REPO ("" when it does not throw).
std::string checksum_error(const fs::path& repo) {
    try {
        repository_checksum(repo);
        return "";
    } catch (const GitError& e) {
        return e.what();
    }
}

bool contains(const std::string& text, const std::string& fragment) {
    return text.find(fragment) != std::string::npos;
}

// A bare repository with HEAD on main and one commit on main; returns the commit.
std::string make_simple_repository(const fs::path& repo) {
    shell(k_identity + "git init -q --bare " + quoted(repo) + " && cd " + quoted(repo) +
          " && git symbolic-ref HEAD refs/heads/main"
          " && git update-ref refs/heads/main $(echo first | git commit-tree $(git hash-object -t tree -w /dev/null))");
    return trimmed(shell("git --git-dir=" + quoted(repo) + " rev-parse refs/heads/main"));
}

// A repository with refs in every namespace the checksum treats differently, packed and loose,
// lightweight and annotated tags, symbolic refs (one dangling), drawn from SEED.
void make_varied_repository(const fs::path& repo, unsigned seed) {
    std::mt19937 random(seed);
    auto pick = [&](int n) { return static_cast<int>(random() % static_cast<unsigned>(n)); };
    const int commits = 12;
    std::ostringstream script;
    script << k_identity << "git init -q --bare " << quoted(repo) << " && cd " << quoted(repo) << "\n"
           << "tree=$(git hash-object -t tree -w /dev/null); parent=\n"
           << "for i in $(seq 1 " << commits << "); do\n"
           << "  c=$(echo \"commit $i\" | git commit-tree $tree ${parent:+-p $parent}); parent=$c; echo $c >> commits\n"
           << "done\n"
           << "c() { sed -n \"$1p\" commits; }\n";

    const char* namespaces[] = {"refs/heads/",        "refs/tags/",     "refs/keep-around/", "refs/merge-requests/",
                                "refs/environments/", "refs/notes/",    "refs/pipelines/",   "refs/remotes/origin/",
                                "refs/tmp/",          "refs/unknown/",  "refs/heads/nested/deeper/"};
    auto refs_batch = [&](int count, const std::string& prefix) {
        script << "git update-ref --stdin <<EOF\n";
        for (int i = 0; i < count; ++i)
            script << "create " << namespaces[pick(static_cast<int>(std::size(namespaces)))] << prefix << i << " $(c " << 1 + pick(commits)
                   << ")\n";
        script << "EOF\n";
    };
    refs_batch(30, "packed-");
    for (int i = 0; i < 3; ++i)
        script << "git tag -a -m 'release " << i << "' v" << seed << "." << i << " $(c " << 1 + pick(commits) << ")\n";
    script << "git update-ref refs/remotes/origin/main $(c 1)\n"
           << "git update-ref refs/heads/shadowed $(c 1)\n"
           << "git symbolic-ref refs/remotes/origin/HEAD refs/remotes/origin/main\n"
           << "git pack-refs --all\n";
    refs_batch(20, "loose-");
    script << "git tag -a -m 'loose release' loose-v" << seed << " $(c " << 1 + pick(commits) << ")\n"
           << "git tag light-" << seed << " $(c " << 1 + pick(commits) << ")\n"
           // a loose ref that shadows a stale packed copy, and a deleted packed ref
           << "git update-ref refs/remotes/origin/main $(c 2)\n"
           << "git update-ref refs/heads/shadowed $(c 3)\n"
           << "git update-ref -d $(git for-each-ref --count=1 --format='%(refname)' refs/heads/)\n"
           // symbolic refs: one to a ref, one to nothing (git show-ref leaves it out)
           << "git symbolic-ref refs/heads/alias refs/remotes/origin/main\n"
           << "git symbolic-ref refs/heads/dangling refs/heads/does-not-exist\n"
           << "git symbolic-ref HEAD refs/heads/alias\n";
    shell(script.str());
}

// A loose object's file.
fs::path loose_object_file(const fs::path& repo, const std::string& oid) {
    return repo / "objects" / oid.substr(0, 2) / oid.substr(2);
}

}  // namespace

TEST_SUITE("checksum") {

TEST_CASE("checksum: Gitaly's populated repository gives 7e3f9735...") {
    git::Library libgit2;
    TempDir dir;
    fs::path repo = dir / "populated.git";
    shell("git init -q --bare " + quoted(repo) + " && git --git-dir=" + quoted(repo) +
          " symbolic-ref HEAD refs/heads/main");
    std::map<std::string, std::string> oids;
    for (const char* ref : {"refs/heads/branch", "refs/tags/v1.0.0", "refs/notes/note", "refs/unknown/namespace"}) {
        oids[ref] = trimmed(shell(k_identity + "cd " + quoted(repo) + " && printf '%s' " + ref +
                                  " | git commit-tree -F - $(git hash-object -t tree -w /dev/null)"));
        shell("git --git-dir=" + quoted(repo) + " update-ref " + ref + " " + oids[ref]);
    }
    // The fixture is Gitaly's: the same commits.
    CHECK(oids["refs/heads/branch"] == "c1a05cb6753c683b5c90f574bb8e630064a34fb1");
    CHECK(oids["refs/notes/note"] == "2205cce3e73cc475c93dea19b42bc5c4eb8bc431");
    CHECK(oids["refs/tags/v1.0.0"] == "b96d259eacd8eccc9da5e387b19a6406858d4cd3");
    CHECK(oids["refs/unknown/namespace"] == "489354514457439f0a9ffa9093e08aff8038f45d");

    CHECK(repository_checksum(repo) == "7e3f9735e6f6c7de4f21b123cb6e34f428118a7e");
    CHECK(git_show_ref_checksum(repo) == "7e3f9735e6f6c7de4f21b123cb6e34f428118a7e");

    // The same with every ref packed.
    shell("git --git-dir=" + quoted(repo) + " pack-refs --all");
    CHECK_FALSE(fs::exists(repo / "refs/heads/branch"));
    CHECK(repository_checksum(repo) == "7e3f9735e6f6c7de4f21b123cb6e34f428118a7e");
}

TEST_CASE("checksum: equals git show-ref --head on varied repositories") {
    git::Library libgit2;
    TempDir dir;
    for (unsigned seed : {1u, 2u, 3u}) {
        CAPTURE(seed);
        fs::path repo = dir / ("varied-" + std::to_string(seed) + ".git");
        make_varied_repository(repo, seed);
        // The fixture has what it claims: packed and loose refs, an annotated tag, a stale packed copy.
        std::string packed = read_file(repo / "packed-refs");
        CHECK(contains(packed, "refs/remotes/origin/main"));
        CHECK(contains(packed, "refs/heads/shadowed"));
        CHECK(fs::exists(repo / "refs/heads/shadowed"));
        CHECK(contains(packed, "\n^"));
        CHECK(fs::exists(repo / "refs/remotes/origin/main"));
        CHECK(trimmed(shell("git --git-dir=" + quoted(repo) + " cat-file -t loose-v" + std::to_string(seed))) == "tag");

        SUBCASE("HEAD attached, through a symbolic ref") {
            CHECK(repository_checksum(repo) == git_show_ref_checksum(repo));
        }
        SUBCASE("HEAD detached") {
            shell("cd " + quoted(repo) + " && git update-ref --no-deref HEAD $(sed -n 3p commits)");
            CHECK(repository_checksum(repo) == git_show_ref_checksum(repo));
        }
        SUBCASE("HEAD on an unborn branch") {
            shell("git --git-dir=" + quoted(repo) + " symbolic-ref HEAD refs/heads/unborn");
            CHECK(repository_checksum(repo) == git_show_ref_checksum(repo));
        }
        std::string sum = repository_checksum(repo);
        CHECK(sum != std::string(k_zero_checksum));
        CHECK(sum.size() >= 36);
    }
}

TEST_CASE("checksum: a work tree's .git folder is a repository too") {
    git::Library libgit2;
    TempDir dir;
    shell(k_identity + "git init -q " + quoted(dir / "work") + " && cd " + quoted(dir / "work") +
          " && git commit -q --allow-empty -m first && git tag -a -m tag v1");
    CHECK(repository_checksum(dir / "work/.git") == git_show_ref_checksum(dir / "work/.git"));
}

TEST_CASE("checksum: objects found through alternates exist") {
    git::Library libgit2;
    TempDir dir;
    make_varied_repository(dir / "source.git", 5);
    shell("git clone -q --bare --shared " + quoted(dir / "source.git") + " " + quoted(dir / "shared.git"));
    REQUIRE(fs::exists(dir / "shared.git/objects/info/alternates"));
    CHECK(repository_checksum(dir / "shared.git") == git_show_ref_checksum(dir / "shared.git"));
}

TEST_CASE("checksum: an empty repository gives 40 zeros") {
    git::Library libgit2;
    TempDir dir;
    shell("git init -q --bare " + quoted(dir / "empty.git"));
    CHECK(repository_checksum(dir / "empty.git") == "0000000000000000000000000000000000000000");

    // Only refs outside the counted namespaces: zero as well, and no error.
    std::string oid = make_simple_repository(dir / "pipelines.git");
    shell("cd " + quoted(dir / "pipelines.git") + " && git update-ref refs/pipelines/1 " + oid +
          " && git update-ref -d refs/heads/main");
    CHECK(repository_checksum(dir / "pipelines.git") == std::string(k_zero_checksum));
}

TEST_CASE("checksum: a missing object is an error naming the ref") {
    git::Library libgit2;
    TempDir dir;
    fs::path repo = dir / "missing.git";
    std::string oid = make_simple_repository(repo);
    CHECK(checksum_error(repo).empty());

    SUBCASE("a branch") {
        fs::remove(loose_object_file(repo, oid));
        CHECK(checksum_error(repo) == "reference refs/heads/main points at a missing object " + oid);
    }
    SUBCASE("a ref the checksum does not count still has to exist, as for git show-ref") {
        std::string orphan = trimmed(shell("cd " + quoted(repo) + " && echo orphan | git commit-tree " +
                                           "$(git hash-object -t tree -w /dev/null)"));
        shell("git --git-dir=" + quoted(repo) + " update-ref refs/pipelines/7 " + orphan);
        fs::remove(loose_object_file(repo, orphan));
        CHECK(checksum_error(repo) == "reference refs/pipelines/7 points at a missing object " + orphan);
    }
    SUBCASE("a packed ref") {
        shell("git --git-dir=" + quoted(repo) + " pack-refs --all");
        fs::remove(loose_object_file(repo, oid));
        CHECK(checksum_error(repo) == "reference refs/heads/main points at a missing object " + oid);
    }
    SUBCASE("a detached HEAD") {
        write_file(repo / "HEAD", "0123456789012345678901234567890123456789\n");
        CHECK(checksum_error(repo) == "reference HEAD points at a missing object 0123456789012345678901234567890123456789");
    }
}

TEST_CASE("checksum: corrupt refs are errors") {
    git::Library libgit2;
    TempDir dir;
    fs::path repo = dir / "corrupt.git";
    std::string oid = make_simple_repository(repo);
    shell("git --git-dir=" + quoted(repo) + " update-ref refs/tags/v1 " + oid + " && git --git-dir=" + quoted(repo) +
          " pack-refs --all");
    REQUIRE(checksum_error(repo).empty());

    SUBCASE("a garbage line in packed-refs") {
        write_file(repo / "packed-refs", read_file(repo / "packed-refs") + "this is not a ref\n");
        CHECK(contains(checksum_error(repo), "corrupt packed-refs, line"));
        CHECK(contains(checksum_error(repo), "not \"<object id> <reference>\""));
    }
    SUBCASE("an unterminated last line in packed-refs") {
        write_file(repo / "packed-refs", oid + " refs/heads/main");
        CHECK(checksum_error(repo) == "corrupt packed-refs, line 1: unterminated line");
    }
    SUBCASE("a peeled line with no ref before it") {
        write_file(repo / "packed-refs", "# pack-refs with: peeled \n^" + oid + "\n");
        CHECK(checksum_error(repo) == "corrupt packed-refs, line 2: unexpected peeled line");
    }
    SUBCASE("an invalid name in packed-refs") {
        write_file(repo / "packed-refs", oid + " refs/heads/a..b\n");
        CHECK(checksum_error(repo) == "corrupt packed-refs, line 1: invalid reference name 'refs/heads/a..b'");
    }
    SUBCASE("a ref listed twice in packed-refs") {
        write_file(repo / "packed-refs", oid + " refs/heads/x\n" + oid + " refs/heads/x\n");
        CHECK(checksum_error(repo) == "corrupt packed-refs: refs/heads/x is listed twice");
    }
    SUBCASE("packed-refs that is a folder") {
        fs::remove(repo / "packed-refs");
        fs::create_directory(repo / "packed-refs");
        CHECK(checksum_error(repo) == "cannot read packed-refs: Is a directory");
    }
    SUBCASE("a loose ref with garbage in it") {
        write_file(repo / "refs/heads/broken", "garbage\n");
        CHECK(checksum_error(repo) ==
              "corrupt reference refs/heads/broken: neither an object id nor a symbolic reference");
    }
    SUBCASE("an empty loose ref") {
        write_file(repo / "refs/heads/empty", "");
        CHECK(contains(checksum_error(repo), "corrupt reference refs/heads/empty"));
    }
    SUBCASE("a loose ref with an invalid name") {
        write_file(repo / "refs/heads/with space", oid + "\n");
        CHECK(checksum_error(repo) == "invalid reference name 'refs/heads/with space'");
    }
    SUBCASE("a SHA-256 object id") {
        write_file(repo / "refs/heads/long", std::string(64, 'a') + "\n");
        CHECK(contains(checksum_error(repo), "SHA-256 repositories are not supported"));
    }
    SUBCASE("a symbolic ref to an invalid name") {
        write_file(repo / "refs/heads/bad-link", "ref: refs/heads/../x\n");
        CHECK(checksum_error(repo) == "symbolic reference refs/heads/bad-link points at an invalid name 'refs/heads/../x'");
    }
    SUBCASE("a loop of symbolic refs") {
        write_file(repo / "refs/heads/a", "ref: refs/heads/b\n");
        write_file(repo / "refs/heads/b", "ref: refs/heads/a\n");
        CHECK(contains(checksum_error(repo), "too many levels of symbolic references"));
    }
    SUBCASE("HEAD with garbage in it") {
        write_file(repo / "HEAD", "garbage\n");
        CHECK(checksum_error(repo) == "corrupt reference HEAD: neither an object id nor a symbolic reference");
    }
    SUBCASE("lock files and dot-files are not refs, as for git") {
        write_file(repo / "refs/heads/main.lock", "garbage\n");
        write_file(repo / "refs/heads/.hidden", "garbage\n");
        CHECK(checksum_error(repo).empty());
        CHECK(repository_checksum(repo) == git_show_ref_checksum(repo));
    }
}

TEST_CASE("checksum: a path that is no repository") {
    git::Library libgit2;
    TempDir dir;
    fs::create_directories(dir / "plain");
    write_file(dir / "file", "text\n");
    CHECK(checksum_error(dir / "plain") == "repository does not exist");
    CHECK(checksum_error(dir / "nowhere") == "repository does not exist");
    CHECK(checksum_error(dir / "file") == "repository does not exist");
    // Not the repository above it, either.
    make_simple_repository(dir / "outer.git");
    fs::create_directories(dir / "outer.git/refs/heads/sub");
    CHECK(checksum_error(dir / "outer.git/refs/heads/sub") == "repository does not exist");
}

TEST_CASE("checksum: an unreadable repository says so") {
    git::Library libgit2;
    TempDir dir;
    fs::path repo = dir / "unreadable.git";
    make_simple_repository(repo);
    const std::string binary = std::getenv("GEO_SSF_BINARY") ? std::getenv("GEO_SSF_BINARY") : "";
    REQUIRE_FALSE(binary.empty());

    // Root reads whatever the mode bits say, so as root the check runs `geo-ssf checksum` as
    // nobody (setpriv) on a repository nobody owns; otherwise it runs in this process.
    const bool root = ::geteuid() == 0;
    auto check_unreadable = [&](const fs::path& make_unreadable, const std::string& expected) {
        CAPTURE(make_unreadable);
        fs::permissions(make_unreadable, fs::perms::none);
        if (root) {
            RunResult r = run_program("setpriv", {"--reuid=65534", "--regid=65534", "--clear-groups", binary,
                                                  "checksum", repo.string()});
            CAPTURE(r.err);
            CHECK(r.status == 1);
            CHECK(r.out.empty());
            CHECK(r.err == "geo-ssf: error: " + repo.string() + ": " + expected + "\n");
        } else {
            CHECK(checksum_error(repo) == expected);
        }
        fs::permissions(make_unreadable, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                             fs::perms::others_read | fs::perms::others_exec);
    };
    if (root) {
        fs::permissions(dir.path(), fs::perms::others_read | fs::perms::others_exec, fs::perm_options::add);
        shell("chown -R 65534:65534 " + quoted(repo));
        // The baseline: nobody can checksum it while it is readable.
        RunResult r = run_program("setpriv", {"--reuid=65534", "--regid=65534", "--clear-groups", binary, "checksum",
                                              repo.string()});
        CAPTURE(r.err);
        REQUIRE(r.status == 0);
        CHECK(r.out == repository_checksum(repo) + " " + repo.string() + "\n");
    }
    check_unreadable(repo / "refs/heads", "cannot read refs/heads: Permission denied");
    check_unreadable(repo, "cannot read the repository: Permission denied");
    write_file(repo / "packed-refs", "");
    if (root)
        shell("chown 65534:65534 " + quoted(repo / "packed-refs"));
    check_unreadable(repo / "packed-refs", "cannot read packed-refs: Permission denied");
}

TEST_CASE("checksum: safe on several threads at once") {
    git::Library libgit2;
    TempDir dir;
    std::vector<fs::path> repos;
    std::vector<std::string> expected;
    for (unsigned seed : {11u, 12u, 13u, 14u}) {
        repos.push_back(dir / ("repo-" + std::to_string(seed) + ".git"));
        make_varied_repository(repos.back(), seed);
        expected.push_back(git_show_ref_checksum(repos.back()));
    }
    std::vector<std::future<bool>> runs;
    for (int thread = 0; thread < 4; ++thread)
        runs.push_back(std::async(std::launch::async, [&, thread] {
            bool all_equal = true;
            for (int round = 0; round < 50; ++round) {
                size_t i = static_cast<size_t>(thread + round) % repos.size();
                all_equal = all_equal && repository_checksum(repos[i]) == expected[i];
            }
            return all_equal;
        }));
    for (auto& run : runs)
        CHECK(run.get());
}

TEST_CASE("checksum: geo-ssf checksum PATH...") {
    git::Library libgit2;
    TempDir dir;
    fs::path good = dir / "good.git", other = dir / "other.git", broken = dir / "broken.git";
    make_simple_repository(good);
    make_varied_repository(other, 7);
    std::string oid = make_simple_repository(broken);
    fs::remove(loose_object_file(broken, oid));
    fs::path nowhere = dir / "nowhere.git";

    SUBCASE("all good: exit 0, one line each, nothing on stderr") {
        RunResult r = run_geo_ssf({"checksum", good.string(), other.string()});
        CAPTURE(r.err);
        CHECK(r.status == 0);
        CHECK(r.out == git_show_ref_checksum(good) + " " + good.string() + "\n" + git_show_ref_checksum(other) + " " +
                           other.string() + "\n");
        CHECK(r.err.empty());
    }
    SUBCASE("some broken: the good ones on stdout, one error line each, exit 1") {
        RunResult r = run_geo_ssf({"checksum", broken.string(), good.string(), nowhere.string(), other.string()});
        CHECK(r.status == 1);
        CHECK(r.out == git_show_ref_checksum(good) + " " + good.string() + "\n" + git_show_ref_checksum(other) + " " +
                           other.string() + "\n");
        CHECK(r.err == "geo-ssf: error: " + broken.string() + ": reference refs/heads/main points at a missing object " +
                           oid + "\n" + "geo-ssf: error: " + nowhere.string() + ": repository does not exist\n");
    }
    SUBCASE("with --log-format json, each error line is a JSON object; stdout is the same") {
        RunResult r = run_geo_ssf(
            {"--log-format", "json", "checksum", broken.string(), good.string(), nowhere.string()});
        CHECK(r.status == 1);
        CHECK(r.out == git_show_ref_checksum(good) + " " + good.string() + "\n");
        std::istringstream lines(r.err);
        std::vector<nlohmann::json> errors;
        for (std::string line; std::getline(lines, line);)
            errors.push_back(nlohmann::json::parse(line));
        REQUIRE(errors.size() == 2);
        CHECK(errors[0]["message"] == broken.string() + ": reference refs/heads/main points at a missing object " + oid);
        CHECK(errors[1]["message"] == nowhere.string() + ": repository does not exist");
        for (const auto& error : errors) {
            CHECK(error["level"] == "error");
            CHECK(error["command"] == "checksum");
            CHECK_FALSE(error.contains("exit_status"));  // the run goes on after it
        }
    }
    SUBCASE("a relative path is printed as given, and needs no config") {
        RunOptions in_dir{dir.path(), {{"GEO_SSF_CONFIG", (dir / "no-such-config.yml").string()}}, {}};
        RunResult r = run_geo_ssf({"checksum", "good.git"}, in_dir);
        CAPTURE(r.err);
        CHECK(r.status == 0);
        CHECK(r.out == git_show_ref_checksum(good) + " good.git\n");
    }
    SUBCASE("no path is a usage error") {
        RunResult r = run_geo_ssf({"checksum"});
        CHECK(r.status == 2);
        CHECK(r.out.empty());
        CHECK(r.err.rfind("geo-ssf: error: ", 0) == 0);
    }
    SUBCASE("--help ends with examples") {
        RunResult r = run_geo_ssf({"checksum", "--help"});
        CHECK(r.status == 0);
        CHECK(contains(r.out, "Examples:\n  geo-ssf checksum "));
    }
}

}  // TEST_SUITE
