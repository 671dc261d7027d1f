#include "repo/packed_refs.hpp"

#include "repo/git.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace geo_ssf;

namespace {

const std::string k_a = "0123456789abcdef0123456789abcdef01234567";
const std::string k_b = "89abcdef0123456789abcdef0123456789abcdef";

}  // namespace

TEST_SUITE("packed_refs") {

TEST_CASE("packed_refs::parse_packed_refs reads refs and peeled lines, sorted by name") {
    std::string text = "# pack-refs with: peeled fully-peeled sorted \n" + k_a + " refs/tags/v1\n^" + k_b + "\n" + k_b +
                       " refs/heads/main\n";
    auto refs = parse_packed_refs(text);
    REQUIRE(refs.size() == 2);
    CHECK(refs[0].name == "refs/heads/main");
    CHECK(git::oid_hex(refs[0].oid) == k_b);
    CHECK(refs[1].name == "refs/tags/v1");
    CHECK(git::oid_hex(refs[1].oid) == k_a);
    CHECK(parse_packed_refs("").empty());
    CHECK(parse_packed_refs(k_a + " refs/heads/main\n").size() == 1);  // no header
}

TEST_CASE("packed_refs::parse_packed_refs refuses what git would not write") {
    auto refused = [](const std::string& text) -> std::string {
        try {
            parse_packed_refs(text);
            return "accepted";
        } catch (const GitError& e) {
            return e.what();
        }
    };
    CHECK(refused(k_a + " refs/heads/main") == "corrupt packed-refs, line 1: unterminated line");
    CHECK(refused("# something else\n") == "corrupt packed-refs, line 1: unexpected header");
    CHECK(refused(k_a + " refs/heads/main\n# pack-refs with: peeled\n") ==
          "corrupt packed-refs, line 2: not \"<object id> <reference>\"");
    CHECK(refused("^" + k_a + "\n") == "corrupt packed-refs, line 1: unexpected peeled line");
    CHECK(refused(k_a + " refs/tags/v1\n^" + k_b + "\n^" + k_b + "\n") ==
          "corrupt packed-refs, line 3: unexpected peeled line");
    CHECK(refused(k_a + " refs/heads/a..b\n") == "corrupt packed-refs, line 1: invalid reference name 'refs/heads/a..b'");
    CHECK(refused(k_a + "\n") == "corrupt packed-refs, line 1: not \"<object id> <reference>\"");
    CHECK(refused(std::string(64, 'a') + " refs/heads/main\n") ==
          "corrupt packed-refs, line 1: a SHA-256 object id: SHA-256 repositories are not supported");
    CHECK(refused(k_a + " refs/heads/main\n" + k_b + " refs/heads/main\n") ==
          "corrupt packed-refs: refs/heads/main is listed twice");
}

TEST_CASE("packed_refs::packed_refs_text writes what parse_packed_refs reads, sorted, peeled lines after their tag") {
    std::map<std::string, AdvertisedRef> refs;
    refs["refs/tags/v1"] = {k_a, k_b};
    refs["refs/heads/main"] = {k_b, ""};
    refs["refs/tags/only-peeled"] = {"", k_a};  // advertised peeled alone: not a ref to write
    std::string text = packed_refs_text(refs);
    CHECK(text == "# pack-refs with: peeled sorted \n" + k_b + " refs/heads/main\n" + k_a + " refs/tags/v1\n^" + k_b + "\n");
    auto parsed = parse_packed_refs(text);
    REQUIRE(parsed.size() == 2);
    CHECK(parsed[1].name == "refs/tags/v1");
}

TEST_CASE("packed_refs::loose_refs_allowed grows with packed-refs, as Gitaly's housekeeping") {
    geo_ssf::test::TempDir dir;
    CHECK(loose_refs_allowed(dir.path()) == 16);  // no packed-refs
    geo_ssf::test::write_file(dir.path() / "packed-refs", std::string(1000, 'x'));
    CHECK(loose_refs_allowed(dir.path()) == 16);
    geo_ssf::test::write_file(dir.path() / "packed-refs", std::string(6000000, 'x'));
    CHECK(loose_refs_allowed(dir.path()) == 78);  // log base 1.15 of 60000
    write_packed_refs(dir.path(), "# pack-refs with: peeled sorted \n");
    CHECK(geo_ssf::test::read_file(dir.path() / "packed-refs") == "# pack-refs with: peeled sorted \n");
}

}  // TEST_SUITE
