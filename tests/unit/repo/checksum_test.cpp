// The pure part of the Gitaly checksum: filter, SHA-1, XOR and formatting, against the vectors
// of Gitaly's internal/git/checksum_test.go.
#include "repo/checksum.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace geo_ssf;

namespace {

const std::string k_master = "f21f76b804422462e79f9f99d5b14856e130ed71 refs/heads/master";
const std::string k_master_checksum = "bba299616da21e268890f1691c3f6ea788c6cdc9";

std::string checksum_of(const std::vector<std::string>& lines) {
    ChecksumAccumulator accumulator;
    for (const auto& line : lines)
        accumulator.add_line(line);
    return accumulator.checksum();
}

}  // namespace

TEST_SUITE("checksum") {

TEST_CASE("checksum: Gitaly's vectors") {
    CHECK(checksum_of({k_master}) == k_master_checksum);
    CHECK(checksum_of({k_master, "f21f76b804422462e79f9f99d5b14856e130ed71 refs/heads/feature"}) ==
          "f5c4203236292be5f212710c0b042051ba3e14cf");
    CHECK(checksum_of({k_master, "860de2dde3d6673d4a494d3c2ceeae9786a556ba refs/heads/feature"}) ==
          "56ca38be577db6bdda47a840d1061ad47abc3619");
}

TEST_CASE("checksum: a ref outside the counted namespaces changes nothing") {
    CHECK(checksum_of({k_master, "860de2dde3d6673d4a494d3c2ceeae9786a556ba foo/bar"}) == k_master_checksum);
}

TEST_CASE("checksum: a duplicated line cancels out") {
    const std::string feature = "860de2dde3d6673d4a494d3c2ceeae9786a556ba refs/heads/feature";
    CHECK(checksum_of({k_master, feature, feature}) == k_master_checksum);
    CHECK(checksum_of({k_master, k_master}) == std::string(k_zero_checksum));
}

TEST_CASE("checksum: no refs give 40 zeros") {
    CHECK(checksum_of({}) == "0000000000000000000000000000000000000000");
    CHECK(std::string(k_zero_checksum).size() == 40);
    CHECK(checksum_of_show_ref("") == std::string(k_zero_checksum));
}

TEST_CASE("checksum: the unanchored pattern keeps any line containing HEAD") {
    const std::string oid = "f21f76b804422462e79f9f99d5b14856e130ed71 ";
    CHECK(checksum_counts_line(oid + "HEAD"));
    CHECK(checksum_counts_line(oid + "refs/remotes/origin/HEAD"));
    CHECK(checksum_counts_line(oid + "refs/foo/myHEAD"));
    CHECK_FALSE(checksum_counts_line(oid + "refs/remotes/origin/main"));
    CHECK_FALSE(checksum_counts_line(oid + "refs/pipelines/1"));
    CHECK_FALSE(checksum_counts_line(oid + "refs/tmp/x"));
    CHECK_FALSE(checksum_counts_line(oid + "refs/remotes/origin/head"));  // case matters

    // Counted namespaces need their trailing slash, and may appear anywhere in the line.
    for (const char* name : {"refs/heads/a", "refs/tags/a", "refs/keep-around/a", "refs/merge-requests/1/head",
                             "refs/environments/production/deployments/1", "refs/notes/commits",
                             "refs/remotes/origin/refs/heads/x", "foo/refs/tags/x"}) {
        CAPTURE(name);
        CHECK(checksum_counts_line(oid + name));
    }
    for (const char* name : {"refs/headsx/a", "refs/heads", "refs/tag/a", "refs/note/a", "Refs/heads/a"}) {
        CAPTURE(name);
        CHECK_FALSE(checksum_counts_line(oid + name));
    }

    CHECK(checksum_of({k_master, oid + "refs/remotes/origin/HEAD"}) == "9c81485671daa110f628551e6466f82e08061cf4");
    CHECK(checksum_of({k_master, oid + "HEAD"}) == "b0fe3fbfcd690f83f06ebd71b8ae74493fc130db");
    CHECK(checksum_of({k_master, oid + "refs/remotes/origin/main", oid + "refs/pipelines/1"}) == k_master_checksum);
}

TEST_CASE("checksum: add_ref is add_line of \"<oid> <name>\"") {
    ChecksumAccumulator by_ref;
    CHECK(by_ref.add_ref("f21f76b804422462e79f9f99d5b14856e130ed71", "refs/heads/master"));
    CHECK_FALSE(by_ref.add_ref("860de2dde3d6673d4a494d3c2ceeae9786a556ba", "refs/pipelines/1"));
    CHECK(by_ref.add_ref("860de2dde3d6673d4a494d3c2ceeae9786a556ba", "refs/heads/feature"));
    CHECK(by_ref.checksum() == "56ca38be577db6bdda47a840d1061ad47abc3619");
}

TEST_CASE("checksum: leading zero bytes are dropped, as big.Int.Bytes() does") {
    // Lines found by search, the expected values computed apart with Python's hashlib.
    SUBCASE("two lines whose XOR starts with one zero byte: 38 characters") {
        std::string sum = checksum_of({k_master, "860de2dde3d6673d4a494d3c2ceeae9786a556ba refs/heads/branch-220"});
        CHECK(sum == "455669ed4167ad0efcf237df58fb1913137336");
        CHECK(sum.size() == 38);
    }
    SUBCASE("one line whose SHA-1 starts with two zero bytes: 36 characters") {
        std::string sum = checksum_of({"f21f76b804422462e79f9f99d5b14856e130ed71 refs/tags/v115445"});
        CHECK(sum == "4fa850c769207aebccb7aee5174192520b7b");
        CHECK(sum.size() == 36);
    }
}

TEST_CASE("checksum: format_checksum") {
    ChecksumDigest sum{};
    CHECK(format_checksum(sum) == std::string(k_zero_checksum));
    sum[19] = 0x01;
    CHECK(format_checksum(sum) == "01");  // whole bytes: a zero nibble inside the first byte stays
    sum[0] = 0xab;
    CHECK(format_checksum(sum) == "ab00000000000000000000000000000000000001");
    sum[0] = 0x0a;
    CHECK(format_checksum(sum) == "0a00000000000000000000000000000000000001");
}

TEST_CASE("checksum: checksum_of_show_ref reads show-ref output") {
    CHECK(checksum_of_show_ref(k_master + "\n") == k_master_checksum);
    CHECK(checksum_of_show_ref(k_master) == k_master_checksum);  // no final newline
    CHECK(checksum_of_show_ref(k_master + "\r\n") == k_master_checksum);  // bufio.ScanLines drops CR
    CHECK(checksum_of_show_ref(k_master + "\n860de2dde3d6673d4a494d3c2ceeae9786a556ba refs/heads/feature\n") ==
          "56ca38be577db6bdda47a840d1061ad47abc3619");
}

}  // TEST_SUITE
