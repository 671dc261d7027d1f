#include "common/atomic_file.hpp"
#include "common/error.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>

#include <sys/stat.h>

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
    mode_t mask = ::umask(0);
    ::umask(mask);
    CHECK((st.st_mode & 0777) == (0666 & ~mask));
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
