#include "common/base64.hpp"
#include "common/digest.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace geo_ssf;

namespace {

std::string hex(const std::string& bytes) {
    const char* digits = "0123456789abcdef";
    std::string out;
    for (unsigned char c : bytes) {
        out += digits[c >> 4];
        out += digits[c & 0xf];
    }
    return out;
}

}  // namespace

TEST_SUITE("digest") {

TEST_CASE("digest::sha256 gives the FIPS 180-2 digests") {
    CHECK(hex(sha256("")) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(hex(sha256("abc")) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    // As OpenSSH prints a fingerprint: base64 without padding.
    CHECK("SHA256:" + base64_encoded(sha256("abc"), Base64Padding::dropped) ==
          "SHA256:ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0");
}

TEST_CASE("digest::hmac_sha1 gives RFC 2202's digests") {
    CHECK(hex(hmac_sha1(std::string(20, '\x0b'), "Hi There")) == "b617318655057264e28bc0b6fb378c8ef146be00");
    CHECK(hex(hmac_sha1("Jefe", "what do ya want for nothing?")) == "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
    CHECK(hmac_sha1("", "x").size() == 20);
}

}  // TEST_SUITE
