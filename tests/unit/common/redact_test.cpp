#include "common/redact.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace geo_ssf;

TEST_SUITE("redact") {

TEST_CASE("redact::redact_url_credentials hides the userinfo of every URL, a user name alone included") {
    CHECK(redact_url_credentials("cannot fetch from https://user:t0k3n@host:8443/a/b.git: refused") ==
          "cannot fetch from https://***@host:8443/a/b.git: refused");
    CHECK(redact_url_credentials("\"ssh://git:pw@h/x\" and http://u:p@q@h2/") == "\"ssh://***@h/x\" and http://***@h2/");
    CHECK(redact_url_credentials("https://host/path?x=a:b@c") == "https://host/path?x=a:b@c");
    CHECK(redact_url_credentials("https://glpat-T0ken@host/x") == "https://***@host/x");  // a token as the user
    CHECK(redact_url_credentials("https://T0ken:x-oauth-basic@host/x") == "https://***@host/x");
    CHECK(redact_url_credentials("file:///srv/repos") == "file:///srv/repos");
    CHECK(redact_url_credentials("no url") == "no url");
}

TEST_CASE("redact::redact_url_credentials: URLs no parser accepts, and URLs inside URLs") {
    CHECK(redact_url_credentials("invalid URI \"postgresql://u:SECRET@[h/x\"") == "invalid URI \"postgresql://***@[h/x\"");
    CHECK(redact_url_credentials("https://u:S3cr%zzEt@host/x") == "https://***@host/x");
    CHECK(redact_url_credentials("<https://u:p@h/x>") == "<https://***@h/x>");
    CHECK(redact_url_credentials("https://h/go?to=https://u:p@h2/x") == "https://h/go?to=https://***@h2/x");
    CHECK(redact_url_credentials("a https://u:p@h/ b git://x:y@[::1]:9/z c") == "a https://***@h/ b git://***@[::1]:9/z c");
    CHECK(redact_url_credentials("https://u:@h/") == "https://***@h/");
    CHECK(redact_url_credentials("://") == "://");
    CHECK(redact_url_credentials("https://") == "https://");
}

TEST_CASE("redact::credentials_in finds the userinfo and the password of one URL") {
    std::string valid = "https://user:t0k3n@host/x";
    auto found = credentials_in(valid);
    REQUIRE(found.userinfo);
    CHECK(valid.substr(found.userinfo->begin, found.userinfo->size()) == "user:t0k3n");
    REQUIRE(found.password);
    CHECK(valid.substr(found.password->begin, found.password->size()) == "t0k3n");

    // Not RFC 3986: the userinfo ends at the last '@'.
    std::string quoted = "postgresql://u:S3cr\"Et@db/app";
    found = credentials_in(quoted);
    REQUIRE(found.password);
    CHECK(quoted.substr(found.password->begin, found.password->size()) == "S3cr\"Et");
    std::string at_signs = "postgresql://u:S3cr@tEt@db/app";
    found = credentials_in(at_signs);
    REQUIRE(found.password);
    CHECK(at_signs.substr(found.password->begin, found.password->size()) == "S3cr@tEt");

    std::string token = "https://TOKEN@host/";
    found = credentials_in(token);
    REQUIRE(found.userinfo);
    CHECK(token.substr(found.userinfo->begin, found.userinfo->size()) == "TOKEN");
    CHECK_FALSE(found.password);
    CHECK_FALSE(credentials_in("https://host/x").userinfo);
    CHECK_FALSE(credentials_in("/srv/repositories").userinfo);
}

}  // TEST_SUITE
