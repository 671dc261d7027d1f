// Message digests by OpenSSL's libcrypto: SHA-256 (key fingerprints) and HMAC-SHA1 (OpenSSH's
// hashed host names). Each returns the raw digest bytes.
#pragma once

#include <string>
#include <string_view>

namespace geo_ssf {

// The 32 bytes of BYTES' SHA-256 digest.
std::string sha256(std::string_view bytes);

// The 20 bytes of HMAC-SHA1 of BYTES under KEY.
std::string hmac_sha1(std::string_view key, std::string_view bytes);

}  // namespace geo_ssf
