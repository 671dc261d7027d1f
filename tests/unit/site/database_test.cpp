#include "site/database.hpp"

#include <doctest/doctest.h>

using namespace geo_ssf;

TEST_SUITE("database") {

TEST_CASE("database::redact_passwords hides passwords in URIs and key=value strings") {
    CHECK(redact_passwords("invalid URI \"postgresql://u:SECRET@[h/x\"") == "invalid URI \"postgresql://***@[h/x\"");
    CHECK(redact_passwords("postgres://app:p%40ss@db:5432/app") == "postgres://***@db:5432/app");
    CHECK(redact_passwords("host=db password=SECRET dbname=app") == "host=db password=*** dbname=app");
    CHECK(redact_passwords("host=db password = 'se cret' dbname=app") == "host=db password = *** dbname=app");
    CHECK(redact_passwords("PASSWORD=x") == "PASSWORD=***");
    CHECK(redact_passwords("postgresql://db:5432/app") == "postgresql://db:5432/app");
    CHECK(redact_passwords("no password here") == "no password here");
}

}

TEST_CASE("database::redact_passwords with the connection string hides what libpq quotes of a malformed one") {
    // Each message is what libpq says about the connection string beside it.
    CHECK(redact_passwords("invalid percent-encoded token: \"S3cr%zzEt\"", "postgresql://u:S3cr%zzEt@db/app") ==
          "invalid percent-encoded token: \"***\"");
    CHECK(redact_passwords("could not translate host name \"tEt@db\" to address",
                           "postgresql://u:S3cr@tEt@db/app") == "could not translate host name \"***@db\" to address");
    std::string quoted = "postgresql://u:S3cr\"Et@db/app";
    CHECK(redact_passwords("invalid URI \"" + quoted + "\"", quoted).find("S3cr") == std::string::npos);
    CHECK(redact_passwords("bad value S3cr%Et", "postgresql://db/app?user=u&password=S3cr%25Et") == "bad value ***");
    CHECK(redact_passwords("missing \"=\" after \"junk\" in connection info string",
                           "host=db password='S3cr Et' junk") == "missing \"=\" after \"junk\" in connection info string");
    CHECK(redact_passwords("something about S3cr Et", "host=db password='S3cr Et' junk") == "something about ***");
    CHECK(redact_passwords("token S3crEt", "host=db password=S3crEt") == "token ***");
    CHECK(redact_passwords("no secret here", "host=db password=S3crEt") == "no secret here");
}
