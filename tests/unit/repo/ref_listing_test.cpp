#include "repo/ref_advertisement.hpp"

#include "common/error.hpp"
#include "repo/fetcher.hpp"
#include "repo/git.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>

#include <cstdio>
#include <string>
#include <string_view>

using namespace geo_ssf;
using namespace geo_ssf::test;

namespace {

const std::string k_one = "0123456789abcdef0123456789abcdef01234567";
const std::string k_two = "89abcdef0123456789abcdef0123456789abcdef";

std::string pkt(const std::string& payload) {
    char length[5];
    std::snprintf(length, sizeof length, "%04zx", payload.size() + 4);
    return length + payload;
}

// An advertisement as upload-pack sends it: HEAD first with the capabilities, a peeled tag.
std::string advertisement() {
    using namespace std::string_literals;
    return pkt(k_one + " HEAD\0multi_ack symref=HEAD:refs/heads/main agent=git/2.39\n"s) +
           pkt(k_one + " refs/heads/main\n") + pkt(k_two + " refs/tags/v1\n") + pkt(k_one + " refs/tags/v1^{}\n") +
           pkt(k_two + " refs/heads/feature\n") + "0000";
}

std::string names(const PrimaryListing& listing) {
    std::string out;
    for (const auto& [name, oid] : listing.refs)
        out += name + "=" + git::oid_hex(oid).substr(0, 4) + " ";
    return out;
}

}  // namespace

TEST_SUITE("ref_advertisement") {

TEST_CASE("ref_advertisement: refs sorted, HEAD and peeled tags left out, the default branch from symref") {
    RefAdvertisementReader reader(10);
    CHECK(reader.read(advertisement()));
    PrimaryListing listing = std::move(reader).listing();
    CHECK(names(listing) == "refs/heads/feature=89ab refs/heads/main=0123 refs/tags/v1=89ab ");
    CHECK(listing.default_branch == "refs/heads/main");
}

TEST_CASE("ref_advertisement: read as it arrives, a line split anywhere") {
    std::string all = advertisement();
    for (size_t cut : {size_t{1}, size_t{3}, size_t{4}, size_t{30}, all.size() - 4, all.size() - 1}) {
        CAPTURE(cut);
        RefAdvertisementReader reader(10);
        CHECK_FALSE(reader.read(std::string_view(all).substr(0, cut)));
        CHECK(reader.read(all));
        CHECK(std::move(reader).listing().refs.size() == 3);
    }
}

TEST_CASE("ref_advertisement: more refs than max_refs are refused as soon as they are read") {
    RefAdvertisementReader reader(2);
    std::string all = advertisement();
    // The third ref, refs/heads/feature, comes before the flush-pkt: refused without it.
    CHECK_THROWS_WITH_AS(reader.read(all.substr(0, all.size() - 4)),
                         "the primary advertises at least 3 refs, more than sync.max_refs (2); nothing was fetched",
                         TooManyRefsError);
    RefAdvertisementReader enough(3);
    CHECK(enough.read(all));
}

TEST_CASE("ref_advertisement: an empty repository, an unborn or detached HEAD, protocol v1's version line") {
    using namespace std::string_literals;
    RefAdvertisementReader empty(0);
    CHECK(empty.read(pkt(std::string(40, '0') + " capabilities^{}\0agent=git/2.39\n"s) + "0000"));
    PrimaryListing none = std::move(empty).listing();
    CHECK(none.refs.empty());
    CHECK_FALSE(none.default_branch);

    // HEAD not advertised (unborn): a symref capability alone names no default branch.
    RefAdvertisementReader unborn(10);
    CHECK(unborn.read(pkt(k_one + " refs/heads/other\0symref=HEAD:refs/heads/main\n"s) + "0000"));
    CHECK_FALSE(std::move(unborn).listing().default_branch);

    RefAdvertisementReader detached(10);
    CHECK(detached.read(pkt("version 1\n") + pkt(k_one + " HEAD\0agent=git/2.39\n"s) + pkt(k_one + " refs/heads/main\n") +
                        "0000"));
    PrimaryListing listing = std::move(detached).listing();
    CHECK(listing.refs.size() == 1);
    CHECK_FALSE(listing.default_branch);
}

TEST_CASE("ref_advertisement: the primary's ERR and what is no advertisement are errors, never a crash") {
    CHECK_THROWS_WITH_AS(RefAdvertisementReader(10).read(pkt("ERR access denied or repository not exported: /x\n")),
                         "the primary says: access denied or repository not exported: /x", GitError);
    for (std::string bad : {std::string("zzzz"), std::string("0003"), std::string("fff1") + std::string(65517, 'x'),
                            pkt("not an advertisement"), pkt(k_one.substr(0, 39) + "g refs/heads/main"),
                            pkt(k_one + " refs/heads/main\n") + pkt(k_one + std::string(" refs/heads/x\0caps\n", 19))}) {
        CAPTURE(bad.substr(0, 60));
        CHECK_THROWS_AS(RefAdvertisementReader(10).read(bad), GitError);
    }
}

TEST_CASE("ref_advertisement: the advertisement of a real git upload-pack") {
    TempDir dir;
    RepositoryFactory factory(dir.path());
    factory.create(dir.path(), "one.git", 7);
    auto repository = dir.path() / "one.git";
    // A flush-pkt on its input ends upload-pack after the advertisement, as the ssh listing does.
    std::string received = shell("printf 0000 | git upload-pack '" + repository.string() + "'");
    RefAdvertisementReader reader(100);
    CHECK(reader.read(received));
    PrimaryListing listing = std::move(reader).listing();
    CHECK(listing.default_branch == "refs/heads/main");
    std::string expected;
    for (const auto& [name, oid] : listing.refs)
        expected += git::oid_hex(oid) + " " + name + "\n";
    CHECK(expected == refs_of(repository));
}

}
