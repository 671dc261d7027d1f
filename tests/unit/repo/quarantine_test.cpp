#include "repo/quarantine.hpp"
#include "repo/storage.hpp"

#include "test_support.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

using namespace geo_ssf;
using geo_ssf::test::TempDir;
using geo_ssf::test::write_file;

namespace {

namespace fs = std::filesystem;

// A bare repository's own layout, enough for the quarantine to take a folder for one.
void make_bare(const fs::path& path, const std::string& mark) {
    fs::create_directories(path / "objects");
    fs::create_directories(path / "refs");
    write_file(path / "HEAD", "ref: refs/heads/main\n");
    write_file(path / "mark", mark);
}

SystemTime utc(int year, unsigned month, unsigned day) {
    return std::chrono::sys_days(std::chrono::year(year) / std::chrono::month(month) / std::chrono::day(day));
}

}  // namespace

TEST_SUITE("quarantine") {

TEST_CASE("quarantine::purge and restore act only on names geo-ssf writes") {
    TempDir root;
    fs::path record = root / ".geo-ssf-removed" / "cool_widget" / "7";
    fs::create_directories(record);
    fs::permissions(root / ".geo-ssf-removed", fs::perms::owner_all, fs::perm_options::replace);
    for (const char* name : {"20261129T182800Z.git", "20261129T182800Z-2.git", "22001231T235959Z.git",
                             "99991231T235959Z.git", "2026112T182800Z.git", "20261329T182800Z.git",
                             "20260230T000000Z.git", "20261129T182800Z-1.git", "20261129T182800Z-02.git",
                             "20261129T182800Z.git.old", "x20261129T182800Z.git"})
        make_bare(record / name, name);
    auto now = utc(2026, 12, 6);

    SUBCASE("the newer of two copies of one second is restored; future stamps are not geo-ssf's") {
        fs::path target = root / "cool_widgets" / "7.git";
        REQUIRE(restore_from_quarantine(root.path(), "cool_widget", 7, target));
        CHECK(test::read_file(target / "mark") == "20261129T182800Z-2.git");
        CHECK(restore_from_quarantine(root.path(), "cool_widget", 7, root / "again.git"));
        CHECK(test::read_file(root / "again.git" / "mark") == "20261129T182800Z.git");
        CHECK_FALSE(restore_from_quarantine(root.path(), "cool_widget", 7, root / "third.git"));
    }
    SUBCASE("the purge removes the two real copies, past their retention, and nothing else") {
        CHECK(purge_quarantine(root.path(), "cool_widget", std::chrono::hours(24), now) == 2);
        CHECK_FALSE(fs::exists(record / "20261129T182800Z.git"));
        CHECK_FALSE(fs::exists(record / "20261129T182800Z-2.git"));
        for (const char* kept : {"22001231T235959Z.git", "99991231T235959Z.git", "2026112T182800Z.git",
                                 "20261329T182800Z.git", "20260230T000000Z.git", "20261129T182800Z-1.git",
                                 "20261129T182800Z-02.git", "20261129T182800Z.git.old", "x20261129T182800Z.git"}) {
            CAPTURE(kept);
            CHECK(fs::exists(record / kept / "mark"));
        }
    }
    SUBCASE("listed copies are only geo-ssf's own, oldest first") {
        auto copies = quarantined_copies(root.path(), "cool_widget", std::numeric_limits<long long>::min(), 10);
        REQUIRE(copies.size() == 2);
        CHECK(copies[0].path.filename() == "20261129T182800Z.git");
        CHECK(copies[1].path.filename() == "20261129T182800Z-2.git");
    }
}

}

TEST_SUITE("quarantine") {

TEST_CASE("quarantine::repositories no record claims are found, moved aside at their paths, and purged in time") {
    TempDir root;
    make_bare(root / "cool_widgets" / "1.git", "1");
    make_bare(root / "@hashed" / "ab" / "cd" / "abcd.git", "hashed");
    make_bare(root / "cool_widgets" / "1.git" / "inner.git", "inside another");  // not a repository of its own
    make_bare(root / ".geo-ssf-tmp" / "half.git", "geo-ssf's own");
    fs::create_directories(root / "empty" / "folder");
    write_file(root / "cool_widgets" / "notes.txt", "a file");
    fs::create_directory_symlink(root / "@hashed", root / "linked");

    CHECK(repositories_under(root.path()) ==
          std::vector<std::string>{"@hashed/ab/cd/abcd.git", "cool_widgets/1.git"});

    auto moved_at = utc(2026, 12, 1);
    fs::path folder = quarantine_unclaimed(root.path(), {"@hashed/ab/cd/abcd.git"}, moved_at);
    CHECK(folder == root / ".geo-ssf-removed" / ".unclaimed" / "20261201T000000Z");
    CHECK(test::read_file(folder / "@hashed" / "ab" / "cd" / "abcd.git" / "mark") == "hashed");
    CHECK_FALSE(fs::exists(root / "@hashed" / "ab" / "cd" / "abcd.git"));
    CHECK(repositories_under(root.path()) == std::vector<std::string>{"cool_widgets/1.git"});
    // A second sorting out in the same second gets a folder of its own.
    CHECK(quarantine_unclaimed(root.path(), {"cool_widgets/1.git"}, moved_at) ==
          root / ".geo-ssf-removed" / ".unclaimed" / "20261201T000000Z-2");
    // Not a repository: refused, left in place.
    CHECK_THROWS_WITH(quarantine_unclaimed(root.path(), {"empty"}, moved_at),
                      doctest::Contains("is not a bare repository"));
    CHECK(fs::exists(root / "empty" / "folder"));

    CHECK(purge_unclaimed(root.path(), std::chrono::hours(24 * 7), utc(2026, 12, 7)) == 0);
    CHECK(purge_unclaimed(root.path(), std::chrono::hours(24 * 7), utc(2026, 12, 9)) == 2);
    CHECK(fs::is_empty(root / ".geo-ssf-removed" / ".unclaimed"));
}

}  // TEST_SUITE
