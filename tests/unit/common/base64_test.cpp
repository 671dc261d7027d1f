#include "common/base64.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace geo_ssf;

TEST_SUITE("base64") {

TEST_CASE("base64::base64_encoded writes RFC 4648 base64, with or without padding") {
    CHECK(base64_encoded("") == "");
    CHECK(base64_encoded("f") == "Zg==");
    CHECK(base64_encoded("fo") == "Zm8=");
    CHECK(base64_encoded("foo") == "Zm9v");
    CHECK(base64_encoded("foobar") == "Zm9vYmFy");
    CHECK(base64_encoded("f", Base64Padding::dropped) == "Zg");
    CHECK(base64_encoded("fo", Base64Padding::dropped) == "Zm8");
    CHECK(base64_encoded(std::string("\0\xff\xfe", 3)) == "AP/+");
}

TEST_CASE("base64::base64_decoded reads padded base64 and refuses anything else") {
    CHECK(base64_decoded("Zg==") == "f");
    CHECK(base64_decoded("Zm8=") == "fo");
    CHECK(base64_decoded("Zm9vYmFy") == "foobar");
    CHECK(base64_decoded("AP/+") == std::string("\0\xff\xfe", 3));
    CHECK_FALSE(base64_decoded(""));
    CHECK_FALSE(base64_decoded("Zg"));       // unpadded
    CHECK_FALSE(base64_decoded("Zm9v!mFy"));  // outside the alphabet
    std::string bytes;
    for (int i = 0; i < 256; ++i)
        bytes += static_cast<char>(i);
    CHECK(base64_decoded(base64_encoded(bytes)) == bytes);
}

}  // TEST_SUITE
