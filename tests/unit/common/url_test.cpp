#include "common/url.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace geo_ssf;

TEST_SUITE("url") {

TEST_CASE("url::parse_url reads the parts of network URLs") {
    auto url = parse_url("https://user:t0k3n@host.example:8443/a/b.git?x=1#top");
    REQUIRE(url);
    CHECK(url->scheme == "https");
    CHECK(url->has_authority);
    CHECK(url->user == "user");
    CHECK(url->password == "t0k3n");
    CHECK(url->host == "host.example");
    CHECK_FALSE(url->ip_literal);
    CHECK(url->port == "8443");
    CHECK(url->path == "/a/b.git");
    CHECK(url->query == "x=1");
    CHECK(url->fragment == "top");

    SUBCASE("schemes are lowercased, hosts kept as written") {
        auto upper = parse_url("HTTPS://Host/x");
        REQUIRE(upper);
        CHECK(upper->scheme == "https");
        CHECK(upper->host == "Host");
    }
    SUBCASE("ssh, git and a user alone") {
        auto ssh = parse_url("ssh://git@127.0.0.1:2222/srv/repositories");
        REQUIRE(ssh);
        CHECK(ssh->scheme == "ssh");
        CHECK(ssh->user == "git");
        CHECK_FALSE(ssh->password);
        CHECK(ssh->host == "127.0.0.1");
        CHECK(ssh->port == "2222");
        CHECK(ssh->path == "/srv/repositories");
        auto git = parse_url("git://127.0.0.1/repositories/1.git");
        REQUIRE(git);
        CHECK_FALSE(git->user);
        CHECK(git->port.empty());
        auto token = parse_url("https://TOKEN@host/");
        REQUIRE(token);
        CHECK(token->user == "TOKEN");
        CHECK_FALSE(token->password);
    }
    SUBCASE("an empty password, and no path at all") {
        auto empty = parse_url("https://user:@host");
        REQUIRE(empty);
        CHECK(empty->user == "user");
        CHECK(empty->password == "");
        CHECK(empty->path.empty());
        CHECK_FALSE(empty->query);
    }
}

TEST_CASE("url::parse_url reads IPv6 literals and ports") {
    auto url = parse_url("ssh://git@[::1]:22/x.git");
    REQUIRE(url);
    CHECK(url->host == "::1");
    CHECK(url->ip_literal);
    CHECK(url->port == "22");
    CHECK(url->path == "/x.git");
    auto bare = parse_url("https://[2001:db8::7]/");
    REQUIRE(bare);
    CHECK(bare->host == "2001:db8::7");
    CHECK(bare->port.empty());
    CHECK(bare->path == "/");
    CHECK_FALSE(parse_url("https://[::1/x"));
    CHECK_FALSE(parse_url("https://host:http/x"));
}

TEST_CASE("url::parse_url decodes the userinfo and keeps the path's escapes") {
    auto url = parse_url("https://us%40er:p%2Fss%3Aw%25rd@host/my%20repo.git");
    REQUIRE(url);
    CHECK(url->user == "us@er");
    CHECK(url->password == "p/ss:w%rd");
    CHECK(url->path == "/my%20repo.git");
    CHECK_FALSE(parse_url("https://u:S3cr%zzEt@host/"));
}

TEST_CASE("url::parse_url gives where the userinfo and the password are") {
    std::string text = "https://user:t0k3n@host/x";
    auto url = parse_url(text);
    REQUIRE(url);
    REQUIRE(url->userinfo_span);
    CHECK(text.substr(url->userinfo_span->begin, url->userinfo_span->size()) == "user:t0k3n");
    REQUIRE(url->password_span);
    CHECK(text.substr(url->password_span->begin, url->password_span->size()) == "t0k3n");
    auto without = parse_url("https://host/path?x=a:b@c");
    REQUIRE(without);
    CHECK_FALSE(without->userinfo_span);
    CHECK_FALSE(without->password_span);
    CHECK(without->query == "x=a:b@c");
}

TEST_CASE("url::parse_url refuses what is no absolute URL") {
    CHECK_FALSE(parse_url(""));
    CHECK_FALSE(parse_url("/srv/repositories"));
    CHECK_FALSE(parse_url("relative/path"));
    CHECK_FALSE(parse_url("https://host/a b"));     // a blank
    CHECK_FALSE(parse_url("http://u:p@q@h2/"));     // a raw '@' in the password
    CHECK_FALSE(parse_url("https://u:pa/ss@h/"));   // a raw '/' in the password: "pa" would be the port
    auto mail = parse_url("mailto:someone@example.org");
    REQUIRE(mail);
    CHECK_FALSE(mail->has_authority);
    CHECK(mail->path == "someone@example.org");
}

TEST_CASE("url::parse_url reads file URLs") {
    auto url = parse_url("file:///srv/repositories");
    REQUIRE(url);
    CHECK(url->scheme == "file");
    CHECK(url->has_authority);
    CHECK(url->host.empty());
    CHECK(url->path == "/srv/repositories");
}

TEST_CASE("url::local_path_of: file URLs and plain paths, as git reads them") {
    CHECK(local_path_of("file:///srv/repositories") == std::filesystem::path("/srv/repositories"));
    CHECK(local_path_of("file:///srv/my%20repositories") == std::filesystem::path("/srv/my repositories"));
    CHECK(local_path_of("file://localhost/srv/repositories") == std::filesystem::path("/srv/repositories"));
    CHECK(local_path_of("file:///srv/my repositories") == std::filesystem::path("/srv/my repositories"));
    CHECK(local_path_of("/srv/repositories") == std::filesystem::path("/srv/repositories"));
    CHECK(local_path_of("relative/repositories") == std::filesystem::path("relative/repositories"));
    CHECK_FALSE(local_path_of("https://host/repositories"));
    CHECK_FALSE(local_path_of("ssh://git@host/srv/repositories"));
    CHECK_FALSE(local_path_of("git://host/repositories"));
    CHECK_FALSE(local_path_of("https://host/a b"));
}

TEST_CASE("url::percent_decoded decodes escapes and keeps what is none") {
    CHECK(percent_decoded("p%40ss%2fw%3Ard") == "p@ss/w:rd");
    CHECK(percent_decoded("100%") == "100%");
    CHECK(percent_decoded("%zz%4") == "%zz%4");
    CHECK(percent_decoded("a+b") == "a+b");
    CHECK(percent_decoded("a%00b") == std::string("a\0b", 3));
    CHECK(percent_decoded(std::string("x\0%41", 5)) == std::string("x\0A", 3));
    CHECK(percent_decoded("") == "");
}

TEST_CASE("url::origin_of names the server") {
    CHECK(origin_of(*parse_url("https://user:pw@host:8443/a")) == "https://host:8443");
    CHECK(origin_of(*parse_url("https://host/a")) == "https://host");
    CHECK(origin_of(*parse_url("http://[::1]:8080/a")) == "http://[::1]:8080");
}

TEST_CASE("url::without_userinfo drops the user name and the password with their '@'") {
    CHECK(without_userinfo("https://user:pw@host:8443/a") == "https://host:8443/a");
    CHECK(without_userinfo("https://glpat-T0ken@host/a") == "https://host/a");
    CHECK(without_userinfo("https://u:p%40ss@[::1]/a") == "https://[::1]/a");
    CHECK(without_userinfo("https://host/a@b") == "https://host/a@b");
    CHECK(without_userinfo("https://u:p/x@host/a") == "https://u:p/x@host/a");  // no valid userinfo: as it is
    CHECK(without_userinfo("/srv/repositories") == "/srv/repositories");
}

}  // TEST_SUITE
