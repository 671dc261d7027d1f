#include "common/atomic_file.hpp"
#include "common/error.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

using namespace geo_ssf;
using namespace geo_ssf::test;

namespace {

std::vector<std::string> names_in(const std::filesystem::path& dir) {
    std::vector<std::string> out;
    for (const auto& entry : std::filesystem::directory_iterator(dir))
        out.push_back(entry.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace

TEST_SUITE("atomic_file") {

TEST_CASE("atomic_file: writes, replaces, leaves no temporary file, and is readable by others") {
    TempDir dir;
    auto file = dir / "geo-ssf.prom";
    CHECK_FALSE(read_file_if_exists(file));
    write_file_atomically(file, "first\n");
    CHECK(*read_file_if_exists(file) == "first\n");
    write_file_atomically(file, "second, longer\n");
    CHECK(*read_file_if_exists(file) == "second, longer\n");
    write_file_atomically(file, "");
    CHECK(*read_file_if_exists(file) == "");
    CHECK(names_in(dir.path()) == std::vector<std::string>{"geo-ssf.prom"});
    struct stat st {};
    REQUIRE(::stat(file.c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0644);
}

TEST_CASE("atomic_file: a file replaced keeps its owner, group and mode") {
    TempDir dir;
    auto file = dir / "geo-ssf.prom";
    write_file_atomically(file, "first\n");
    REQUIRE(::chmod(file.c_str(), 0640) == 0);
    bool root = ::geteuid() == 0;
    if (root)
        REQUIRE(::chown(file.c_str(), 4321, 8765) == 0);
    write_file_atomically(file, "second\n");
    struct stat st {};
    REQUIRE(::stat(file.c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0640);
    if (root) {
        CHECK(st.st_uid == 4321u);
        CHECK(st.st_gid == 8765u);
    }
    CHECK(*read_file_if_exists(file) == "second\n");
}

TEST_CASE("atomic_file: a failure names the file and leaves the old content and no temporary file") {
    TempDir dir;
    auto file = dir / "out.prom";
    write_file_atomically(file, "old\n");
    std::filesystem::create_directory(dir / "sub");
    CHECK_THROWS_AS(write_file_atomically(dir / "missing" / "x.prom", "new\n"), RuntimeError);
    try {
        write_file_atomically(dir / "missing" / "x.prom", "new\n");
    } catch (const RuntimeError& e) {
        CHECK(std::string(e.what()).find("missing/x.prom") != std::string::npos);
    }
    // A folder in the way of the rename: the write fails after the temporary file was made.
    CHECK_THROWS_AS(write_file_atomically(dir / "sub", "new\n"), RuntimeError);
    CHECK(*read_file_if_exists(file) == "old\n");
    CHECK(names_in(dir.path()) == std::vector<std::string>{"out.prom", "sub"});
}

}
