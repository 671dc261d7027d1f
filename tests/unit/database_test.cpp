#include "site/database.hpp"

#include <doctest/doctest.h>

using namespace geo_ssf;

TEST_SUITE("database") {

TEST_CASE("database::redact_passwords hides passwords in URIs and key=value strings") {
    CHECK(redact_passwords("invalid URI \"postgresql://u:SECRET@[h/x\"") == "invalid URI \"postgresql://u:***@[h/x\"");
    CHECK(redact_passwords("postgres://app:p%40ss@db:5432/app") == "postgres://app:***@db:5432/app");
    CHECK(redact_passwords("host=db password=SECRET dbname=app") == "host=db password=*** dbname=app");
    CHECK(redact_passwords("host=db password = 'se cret' dbname=app") == "host=db password = *** dbname=app");
    CHECK(redact_passwords("PASSWORD=x") == "PASSWORD=***");
    CHECK(redact_passwords("postgresql://db:5432/app") == "postgresql://db:5432/app");
    CHECK(redact_passwords("no password here") == "no password here");
}

}
