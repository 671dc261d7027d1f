#include "common/digest.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace geo_ssf {

std::string sha256(std::string_view bytes) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    EVP_Digest(bytes.data(), bytes.size(), digest, &size, EVP_sha256(), nullptr);
    return std::string(reinterpret_cast<char*>(digest), size);
}

std::string hmac_sha1(std::string_view key, std::string_view bytes) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    static const char no_key = '\0';  // HMAC takes a null key for "no key set"
    HMAC(EVP_sha1(), key.empty() ? &no_key : key.data(), static_cast<int>(key.size()),
         reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest, &size);
    return std::string(reinterpret_cast<char*>(digest), size);
}

}  // namespace geo_ssf
