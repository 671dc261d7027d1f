#include "repo/ref_names.hpp"

#include "common/error.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace geo_ssf;

namespace {

const std::string k_oid = "0123456789abcdef0123456789abcdef01234567";

std::string formatted(const git_oid& oid) {
    char hex[k_hex_size];
    format_oid(oid, hex);
    return std::string(hex, k_hex_size);
}

}  // namespace

TEST_SUITE("ref_names") {

TEST_CASE("ref_names::is_valid_refname follows git's check_refname_format") {
    for (const char* name : {"refs/heads/main", "HEAD", "refs/tags/v1.0", "refs/heads/a-b_c", "refs/merge-requests/42/head",
                             "refs/heads/x@y", "refs/heads/caf\xc3\xa9", "refs/heads/a.b", "main"}) {
        CAPTURE(name);
        CHECK(is_valid_refname(name));
    }
    for (const char* name : {"", "@", "refs/heads/.x", "refs/heads/", "refs//heads", "/refs/heads/main", "refs/heads/.hidden",
                             "refs/heads/main.lock", "refs/heads/a..b", "refs/heads/a@{1}", "refs/heads/a b",
                             "refs/heads/a~1", "refs/heads/a^", "refs/heads/a:b", "refs/heads/a?", "refs/heads/a*",
                             "refs/heads/a[", "refs/heads/a\\b", "refs/heads/a\x7f", "refs/heads/a\tb", "refs/heads/end."}) {
        CAPTURE(name);
        CHECK_FALSE(is_valid_refname(name));
    }
}

TEST_CASE("ref_names::parse_oid and format_oid: 40 hex digits either case, written lowercase") {
    git_oid oid;
    REQUIRE(parse_oid(k_oid, oid));
    CHECK(formatted(oid) == k_oid);
    REQUIRE(parse_oid("0123456789ABCDEF0123456789ABCDEF01234567", oid));
    CHECK(formatted(oid) == k_oid);
    CHECK_FALSE(parse_oid(k_oid.substr(1), oid));
    CHECK_FALSE(parse_oid(k_oid + "8", oid));
    CHECK_FALSE(parse_oid("g123456789abcdef0123456789abcdef01234567", oid));
}

TEST_CASE("ref_names::parse_ref_content reads object ids and symbolic refs") {
    auto direct = parse_ref_content(k_oid + "\n");
    CHECK(direct.valid);
    CHECK_FALSE(direct.symbolic);
    CHECK(formatted(direct.oid) == k_oid);
    CHECK(parse_ref_content(k_oid + " trailing words\n").valid);  // git reads the id and ignores the rest
    CHECK_FALSE(parse_ref_content(k_oid + "x\n").valid);
    CHECK_FALSE(parse_ref_content(k_oid.substr(0, 39) + "\n").valid);
    CHECK_FALSE(parse_ref_content("").valid);

    auto symbolic = parse_ref_content("ref: refs/heads/main\n");
    CHECK(symbolic.valid);
    CHECK(symbolic.symbolic);
    CHECK(symbolic.target == "refs/heads/main");
    CHECK(parse_ref_content("ref:refs/heads/main").target == "refs/heads/main");
    CHECK(parse_ref_content("ref: \t refs/heads/main \r\n").target == "refs/heads/main");
}

TEST_CASE("ref_names::throw_corrupt_ref tells a SHA-256 id from garbage") {
    std::string sha256(64, 'a');
    CHECK(starts_with_sha256_oid(sha256));
    CHECK(starts_with_sha256_oid(sha256 + " refs/heads/main"));
    CHECK_FALSE(starts_with_sha256_oid(sha256 + "a"));
    CHECK_FALSE(starts_with_sha256_oid(k_oid));
    CHECK_THROWS_WITH_AS(throw_corrupt_ref("refs/heads/x", sha256 + "\n"),
                         "reference refs/heads/x holds a SHA-256 object id: SHA-256 repositories are not supported",
                         GitError);
    CHECK_THROWS_WITH_AS(throw_corrupt_ref("refs/heads/x\n", "garbage"),
                         "corrupt reference refs/heads/x\\x0a: neither an object id nor a symbolic reference", GitError);
}

}  // TEST_SUITE
