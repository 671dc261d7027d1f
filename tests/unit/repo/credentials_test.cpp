#include "repo/credentials.hpp"

#include "test_support.hpp"

#include <sys/stat.h>

#include <doctest/doctest.h>

#include <cstdlib>
#include <string>

using namespace geo_ssf;

namespace {

// A secret file under DIR with CONTENT and MODE.
std::filesystem::path secret_file(const geo_ssf::test::TempDir& dir, const std::string& content, mode_t mode) {
    auto file = dir.path() / "secret";
    geo_ssf::test::write_file(file, content);
    chmod(file.c_str(), mode);
    return file;
}

}  // namespace

TEST_SUITE("credentials") {

TEST_CASE("credentials::read_secret reads the first line of a file only its owner may read") {
    geo_ssf::test::TempDir dir;
    std::string failure;
    CHECK(read_secret(secret_file(dir, "s3cret \r\nsecond line\n", 0600), "storage.credentials_file", failure) == "s3cret");
    auto readable = secret_file(dir, "s3cret\n", 0640);
    CHECK_FALSE(read_secret(readable, "storage.credentials_file", failure));
    CHECK(failure == "storage.credentials_file " + readable.string() + " may be read by others; chmod 600 it");
    auto empty = secret_file(dir, "", 0600);
    CHECK_FALSE(read_secret(empty, "storage.credentials_file", failure));
    CHECK(failure == "storage.credentials_file " + empty.string() + " cannot be read or is empty");
    CHECK_FALSE(read_secret(dir.path() / "missing", "storage.ssh_key_passphrase_file", failure));
    CHECK(failure == "storage.ssh_key_passphrase_file " + (dir.path() / "missing").string() + ": No such file or directory");
}

TEST_CASE("credentials::password_for: a user and password, a token, the environment") {
    geo_ssf::test::TempDir dir;
    TransportSettings settings;
    std::string failure;
    unsetenv("GEO_SSF_PRIMARY_PASSWORD");

    settings.credentials_file = secret_file(dir, "geo:pa:ss\n", 0600);
    auto given = password_for(settings, "from-url", failure);
    REQUIRE(given);
    CHECK(given->user == "geo");
    CHECK(given->password == "pa:ss");
    CHECK(given->authentication == "the credentials of storage.credentials_file " + settings.credentials_file.string() +
                                       " (user geo)");

    settings.credentials_file = secret_file(dir, "t0ken\n", 0600);
    given = password_for(settings, "from-url", failure);
    REQUIRE(given);
    CHECK(given->user == "from-url");
    CHECK(given->password == "t0ken");

    CHECK(given->authentication == "the credentials of storage.credentials_file " + settings.credentials_file.string() +
                                       " (the URL's user)");

    settings.credentials_file.clear();
    CHECK_FALSE(password_for(settings, "", failure));
    CHECK(failure == "the primary asks for a password: set storage.credentials_file or GEO_SSF_PRIMARY_PASSWORD");
    setenv("GEO_SSF_PRIMARY_PASSWORD", "from-env", 1);
    given = password_for(settings, "", failure);
    REQUIRE(given);
    CHECK(given->user == "git");
    CHECK(given->password == "from-env");
    CHECK(given->authentication == "GEO_SSF_PRIMARY_PASSWORD (user git)");
    // A user name from the URL may be a token: never named.
    given = password_for(settings, "glpat-T0ken", failure);
    unsetenv("GEO_SSF_PRIMARY_PASSWORD");
    REQUIRE(given);
    CHECK(given->user == "glpat-T0ken");
    CHECK(given->authentication == "GEO_SSF_PRIMARY_PASSWORD (the URL's user)");
}

TEST_CASE("credentials::user_or_git") {
    CHECK(user_or_git("") == "git");
    CHECK(user_or_git("geo") == "geo");
}

}  // TEST_SUITE
