#include "repo/mirror.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace geo_ssf;

TEST_SUITE("mirror") {

TEST_CASE("mirror::looks_like_not_found: the primary's answer that it has no such repository") {
    const std::string https = "https://primary.example.com/git/cool_widgets/1404.git";
    CHECK(looks_like_not_found("unexpected http status code: 404", https));
    CHECK(looks_like_not_found("fatal: unable to access '" + https + "': The requested URL returned error: 404", https));
    CHECK(looks_like_not_found("remote: 404 Not Found", https));
    CHECK(looks_like_not_found("ERROR: Repository not found.", "ssh://git@primary.example.com/cool_widgets/1.git"));
    CHECK(looks_like_not_found("fatal: '/srv/cool_widgets/1.git' does not appear to be a git repository",
                               "ssh://git@primary.example.com/srv/cool_widgets/1.git"));
}

TEST_CASE("mirror::looks_like_not_found: 404 within a port, a fingerprint or the URL is no answer") {
    const std::string ssh = "ssh://git@127.0.0.1:40423/srv/cool_widgets/1404.git";
    CHECK_FALSE(looks_like_not_found("unknown host key for [127.0.0.1]:40423: ssh-ed25519 "
                                     "SHA256:q2dAbc404xyzUVW1nJk8eTq0Zg/404+Xa7Pd3cYw1mNs",
                                     ssh));
    CHECK_FALSE(looks_like_not_found("HOST KEY CHANGED for [127.0.0.1]:34045: it offers ssh-ed25519 SHA256:404abc", ssh));
    CHECK_FALSE(looks_like_not_found("failed to connect to " + ssh + ": Connection refused", ssh));
    CHECK_FALSE(looks_like_not_found("the fetch took longer than storage.fetch_timeout (404s)", ssh));
}

}
