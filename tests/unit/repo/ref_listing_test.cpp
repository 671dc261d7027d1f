#include "repo/ref_listing.hpp"

#include "common/error.hpp"
#include "repo/fetcher.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <string_view>

using namespace geo_ssf;
using namespace geo_ssf::test;

namespace {

const std::string k_one = "0123456789abcdef0123456789abcdef01234567";
const std::string k_two = "89abcdef0123456789abcdef0123456789abcdef";

std::string received(const std::string& who, const std::string& payload) {
    return "packet: " + std::string(who.size() < 12 ? 12 - who.size() : 0, ' ') + who + "< " + payload + "\n";
}

std::string sent(const std::string& who, const std::string& payload) {
    return "packet: " + std::string(who.size() < 12 ? 12 - who.size() : 0, ' ') + who + "> " + payload + "\n";
}

// A v0 listing as git fetch traces it, upload-pack's own lines (a local fetch) in between.
std::string v0_trace() {
    return sent("upload-pack", k_one + " HEAD\\0multi_ack symref=HEAD:refs/heads/main") +
           received("fetch", k_one + " HEAD\\0multi_ack thin-pack symref=HEAD:refs/heads/main agent=git/2.39.5") +
           received("fetch", k_one + " refs/heads/main") + sent("upload-pack", k_one + " refs/heads/main") +
           received("fetch", k_two + " refs/tags/v1") + received("fetch", k_one + " refs/tags/v1^{}") +
           received("fetch", k_two + " refs/heads/feature") + received("fetch", "0000") +
           sent("fetch", "want " + k_one) + received("fetch", k_two + " refs/heads/after-the-listing") +
           received("sideband", "PACK ...");
}

}  // namespace

TEST_SUITE("ref_listing") {

TEST_CASE("ref_listing: v0's listing counted, HEAD and peeled tags left out, the default branch from symref") {
    RefListingReader reader(10);
    reader.read(v0_trace());
    CHECK(reader.ended());
    CHECK(reader.refs() == 3);
    CHECK(reader.default_branch() == "refs/heads/main");
}

TEST_CASE("ref_listing: read as it arrives, a line split anywhere") {
    std::string trace = v0_trace();
    for (size_t split = 0; split <= trace.size(); split += 7) {
        CAPTURE(split);
        RefListingReader reader(10);
        reader.read(std::string_view(trace).substr(0, split));
        reader.read(std::string_view(trace).substr(split));
        CHECK(reader.ended());
        CHECK(reader.refs() == 3);
        CHECK(reader.default_branch() == "refs/heads/main");
    }
    RefListingReader unfinished(10);
    unfinished.read(trace.substr(0, trace.find("0000")));
    CHECK_FALSE(unfinished.ended());
}

TEST_CASE("ref_listing: more refs than max_refs stop the listing as soon as they are read") {
    RefListingReader reader(2);
    std::string trace = v0_trace();
    auto third = trace.find("refs/heads/feature");
    reader.read(trace.substr(0, third));  // HEAD, main, v1 and v1^{}: two refs
    CHECK_THROWS_AS(reader.read(trace.substr(third)), TooManyRefsError);
    RefListingReader enough(3);
    enough.read(trace);
    CHECK(enough.ended());
    CHECK_THROWS_WITH_AS(RefListingReader(0).read(v0_trace()),
                         "the primary lists more refs than sync.max_refs (0) allows; the fetch was stopped",
                         TooManyRefsError);
}

TEST_CASE("ref_listing: an empty repository, an unborn or a detached HEAD, remote-curl's service line") {
    RefListingReader empty(0);
    empty.read(received("fetch", std::string(40, '0') + " capabilities^{}\\0multi_ack agent=git/2.39.5") +
               received("fetch", "0000"));
    CHECK(empty.ended());
    CHECK(empty.refs() == 0);
    CHECK_FALSE(empty.default_branch());

    RefListingReader unborn(10);  // HEAD names a branch that does not exist: no HEAD line
    unborn.read(received("fetch", k_one + " refs/heads/other\\0multi_ack symref=HEAD:refs/heads/main") +
                received("fetch", "0000"));
    CHECK(unborn.refs() == 1);
    CHECK_FALSE(unborn.default_branch());

    RefListingReader detached(10);
    detached.read(received("remote-curl", "# service=git-upload-pack") + received("remote-curl", "0000") +
                  received("remote-curl", k_one + " HEAD\\0multi_ack agent=git/2.39.5") +
                  received("remote-curl", k_one + " refs/heads/main") + received("remote-curl", "0000"));
    CHECK(detached.ended());
    CHECK(detached.refs() == 1);
    CHECK_FALSE(detached.default_branch());
}

TEST_CASE("ref_listing: v2's form, and a SHA-256 repository's") {
    RefListingReader v2(10);
    v2.read(received("fetch", "version 2") + received("fetch", "ls-refs=unborn") + received("fetch", "0000") +
            received("fetch", k_one + " HEAD symref-target:refs/heads/trunk") +
            received("fetch", k_one + " refs/heads/trunk") +
            received("fetch", k_two + " refs/tags/v1 peeled:" + k_one) + received("fetch", "0000"));
    CHECK(v2.ended());
    CHECK(v2.refs() == 2);
    CHECK(v2.default_branch() == "refs/heads/trunk");

    const std::string sha256(64, 'a');
    RefListingReader long_ids(10);
    long_ids.read(received("clone", sha256 + " HEAD\\0symref=HEAD:refs/heads/main object-format=sha256") +
                  received("clone", sha256 + " refs/heads/main") + received("clone", "0000"));
    CHECK(long_ids.refs() == 1);
    CHECK(long_ids.default_branch() == "refs/heads/main");
}

TEST_CASE("ref_listing: v2 over https, remote-curl (traced as git) reading the requests it passes on") {
    std::string capabilities = received("git", "version 2") + received("git", "version 2") +
                               received("git", "ls-refs=unborn") + received("git", "0000") +
                               received("fetch", "version 2") + received("fetch", "ls-refs=unborn") +
                               received("fetch", "0000");
    std::string request = received("git", "command=ls-refs") + received("git", "0001") + received("git", "peel") +
                          received("git", "ref-prefix refs/") + received("git", "0000");
    RefListingReader reader(10);
    reader.read(capabilities + request);
    CHECK_FALSE(reader.ended());  // remote-curl's second flush-pkt ends a request, not the listing
    reader.read(received("fetch", k_one + " HEAD symref-target:refs/heads/main") +
                received("fetch", k_one + " refs/heads/main") + received("fetch", k_two + " refs/heads/other"));
    CHECK_FALSE(reader.ended());
    reader.read(received("fetch", "0000"));
    CHECK(reader.ended());
    CHECK(reader.refs() == 2);
    CHECK(reader.default_branch() == "refs/heads/main");

    // Another program's second flush-pkt ends nothing once a ref has been counted elsewhere.
    RefListingReader other(10);
    other.read(capabilities + received("fetch", k_one + " refs/heads/main") + received("sideband", "version 2") +
               received("sideband", "0000") + received("sideband", "0000"));
    CHECK_FALSE(other.ended());

    // A server that starts with a "# service=" line and its flush-pkt, then v2's capabilities.
    RefListingReader service(0);
    service.read(received("fetch", "# service=git-upload-pack") + received("fetch", "0000") +
                 received("fetch", "version 2") + received("fetch", "ls-refs=unborn") + received("fetch", "0000"));
    CHECK_FALSE(service.ended());
    service.read(received("fetch", "0000"));
    CHECK(service.ended());
    CHECK(service.refs() == 0);

    // A repository without refs lists at most its unborn HEAD: the listing ends all the same.
    RefListingReader empty(0);
    empty.read(capabilities + request + received("fetch", "unborn HEAD symref-target:refs/heads/main") +
               received("fetch", "0000"));
    CHECK(empty.ended());
    CHECK(empty.refs() == 0);
    CHECK_FALSE(empty.lists_head());
    CHECK_FALSE(empty.default_branch());
}

TEST_CASE("ref_listing: a branch name past ASCII, as git escapes it with a signed or an unsigned char") {
    // "refs/heads/café1": é is the bytes 0xc3 0xa9, and a digit follows it.
    for (std::string escaped : {std::string("caf\\37777777703\\37777777651") + "1", std::string("caf\\303\\2511")}) {
        CAPTURE(escaped);
        RefListingReader reader(10);
        reader.read(received("fetch", k_one + " HEAD\\0symref=HEAD:refs/heads/" + escaped + " agent=git") +
                    received("fetch", k_one + " refs/heads/" + escaped) + received("fetch", "0000"));
        CHECK(reader.default_branch() == "refs/heads/caf\xc3\xa9" "1");
    }
}

TEST_CASE("ref_listing: what is not a listing is passed over, never a crash") {
    RefListingReader reader(10);
    reader.read("garbage\n\n" + std::string("packet:") + "\npacket: fetch<\npacket:       fetch<x\n" +
                received("fetch", "ERR access denied") + received("fetch", k_one.substr(0, 39) + "g refs/heads/x") +
                received("fetch", "\\") + received("fetch", "trailing \\3"));
    CHECK_FALSE(reader.ended());
    CHECK(reader.refs() == 0);
}

TEST_CASE("ref_listing: the trace of a real git clone and fetch, and of an empty repository's") {
    TempDir dir;
    RepositoryFactory factory(dir.path());
    factory.create(dir.path(), "one.git", 7);
    auto repository = dir.path() / "one.git";
    shell("git --git-dir='" + repository.string() + "' symbolic-ref HEAD refs/heads/main");
    // As the fetcher runs git: protocol v2 (git's default), HEAD asked for by a fetch.
    std::string traced = "GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null GIT_TRACE_BARE=1 GIT_TRACE_PACKET=3 git ";
    auto trace_of = [&](const std::string& command) { return shell(traced + command + " 3>&1 >/dev/null 2>&1 || true"); };
    std::string trace =
        trace_of("clone -q --mirror 'file://" + repository.string() + "' '" + (dir.path() / "copy.git").string() + "'");
    std::string listed = refs_of(repository);
    size_t refs = static_cast<size_t>(std::count(listed.begin(), listed.end(), '\n'));
    REQUIRE(refs > 1);
    RefListingReader reader(100);
    reader.read(trace);
    CHECK(reader.ended());
    CHECK(reader.refs() == refs);
    CHECK(reader.default_branch() == "refs/heads/main");
    RefListingReader too_few(static_cast<long long>(refs) - 1);
    CHECK_THROWS_AS(too_few.read(trace), TooManyRefsError);

    std::string fetch = trace_of("--git-dir='" + (dir.path() / "copy.git").string() + "' fetch --prune 'file://" +
                                 repository.string() + "' '+refs/*:refs/*' HEAD");
    RefListingReader again(100);
    again.read(fetch);
    CHECK(again.ended());
    CHECK(again.refs() == refs);
    CHECK(again.default_branch() == "refs/heads/main");

    // An empty repository: its clone lists nothing, a fetch of HEAD fails after the listing.
    shell("git init -q --bare '" + (dir.path() / "empty.git").string() + "'");
    RefListingReader empty_clone(0);
    empty_clone.read(trace_of("clone -q --mirror 'file://" + (dir.path() / "empty.git").string() + "' '" +
                              (dir.path() / "empty-copy.git").string() + "'"));
    CHECK(empty_clone.ended());
    RefListingReader empty_fetch(0);
    empty_fetch.read(trace_of("--git-dir='" + (dir.path() / "copy.git").string() + "' fetch --prune 'file://" +
                              (dir.path() / "empty.git").string() + "' '+refs/*:refs/*' HEAD"));
    CHECK(empty_fetch.ended());
    CHECK_FALSE(empty_fetch.lists_head());
}

}
