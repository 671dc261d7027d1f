// Base64 (RFC 4648), as OpenSSH writes keys and hashed host names, by OpenSSL's EVP block
// functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace geo_ssf {

enum class Base64Padding { kept, dropped };

// BYTES in base64; Base64Padding::dropped leaves out the trailing '=' (OpenSSH's fingerprints).
std::string base64_encoded(std::string_view bytes, Base64Padding padding = Base64Padding::kept);

// The bytes TEXT encodes; nullopt unless TEXT is base64 with its padding (a multiple of four
// characters, none outside the alphabet).
std::optional<std::string> base64_decoded(std::string_view text);

}  // namespace geo_ssf
