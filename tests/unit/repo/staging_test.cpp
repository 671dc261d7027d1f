#include "repo/staging.hpp"

#include "common/error.hpp"

#include "test_support.hpp"

#include <doctest/doctest.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>

using namespace geo_ssf;
using geo_ssf::test::read_file;
using geo_ssf::test::TempDir;
using geo_ssf::test::write_file;

namespace {

namespace fs = std::filesystem;

// A bare repository's own layout, with a pack and a loose ref to copy.
void make_bare(const fs::path& path) {
    fs::create_directories(path / "objects" / "pack");
    fs::create_directories(path / "refs" / "heads");
    write_file(path / "HEAD", "ref: refs/heads/main\n");
    write_file(path / "objects" / "pack" / "pack-1.pack", std::string(100000, 'p'));
    write_file(path / "refs" / "heads" / "main", "0123456789012345678901234567890123456789\n");
}

bool staging_is_empty(const fs::path& root) {
    std::error_code ec;
    return !fs::exists(root / ".geo-ssf-tmp", ec) || fs::is_empty(root / ".geo-ssf-tmp", ec);
}

}  // namespace

TEST_CASE("staging::copy_into_place copies a repository's folders and files whole into place") {
    TempDir dir;
    make_bare(dir / "old" / "1.git");
    fs::create_directories(dir / "root");
    copy_into_place(dir / "old" / "1.git", dir / "root" / "widgets" / "1.git", dir / "root");
    CHECK(read_file(dir / "root" / "widgets" / "1.git" / "objects" / "pack" / "pack-1.pack") == std::string(100000, 'p'));
    CHECK(read_file(dir / "root" / "widgets" / "1.git" / "refs" / "heads" / "main") ==
          "0123456789012345678901234567890123456789\n");
    CHECK(read_file(dir / "old" / "1.git" / "HEAD") == "ref: refs/heads/main\n");  // the source stays
    CHECK(staging_is_empty(dir / "root"));
}

TEST_CASE("staging::copy_into_place refuses a symbolic link or a FIFO, and a target in the way; nothing stays behind") {
    TempDir dir;
    make_bare(dir / "old" / "1.git");
    fs::create_directories(dir / "root");
    auto target = dir / "root" / "1.git";
    SUBCASE("a symbolic link") {
        fs::create_symlink("/etc/passwd", dir / "old" / "1.git" / "refs" / "heads" / "link");
        CHECK_THROWS_WITH_AS(copy_into_place(dir / "old" / "1.git", target, dir / "root"),
                             doctest::Contains("refs/heads/link is neither a folder nor a regular file"), RuntimeError);
    }
    SUBCASE("a FIFO") {
        REQUIRE(mkfifo((dir / "old" / "1.git" / "objects" / "pack" / "pack-2.pack").c_str(), 0600) == 0);
        CHECK_THROWS_WITH_AS(copy_into_place(dir / "old" / "1.git", target, dir / "root"),
                             doctest::Contains("pack-2.pack is neither a folder nor a regular file"), RuntimeError);
    }
    SUBCASE("not a repository") {
        fs::remove(dir / "old" / "1.git" / "HEAD");
        CHECK_THROWS_WITH_AS(copy_into_place(dir / "old" / "1.git", target, dir / "root"),
                             doctest::Contains("is not a bare repository"), RuntimeError);
    }
    SUBCASE("a target that exists") {
        fs::create_directories(target);
        CHECK_THROWS_WITH_AS(copy_into_place(dir / "old" / "1.git", target, dir / "root"),
                             doctest::Contains("already exists"), RuntimeError);
        CHECK(fs::is_empty(target));
        return;
    }
    CHECK_FALSE(fs::exists(target));
    CHECK(staging_is_empty(dir / "root"));
}
