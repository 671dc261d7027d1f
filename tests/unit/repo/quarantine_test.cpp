#include "repo/quarantine.hpp"

#include "test_support.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <string>

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
