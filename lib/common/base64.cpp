#include "common/base64.hpp"

#include <openssl/evp.h>

namespace geo_ssf {

std::string base64_encoded(std::string_view bytes, Base64Padding padding) {
    std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');  // and EVP_EncodeBlock's NUL
    int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
    out.resize(static_cast<size_t>(n));
    if (padding == Base64Padding::dropped)
        while (!out.empty() && out.back() == '=')
            out.pop_back();
    return out;
}

std::optional<std::string> base64_decoded(std::string_view text) {
    if (text.empty() || text.size() % 4 != 0)
        return std::nullopt;
    std::string out(3 * text.size() / 4, '\0');
    int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
    if (n < 0)
        return std::nullopt;
    size_t size = static_cast<size_t>(n);
    for (size_t i = text.size(); i > 0 && text[i - 1] == '='; --i)
        --size;  // EVP_DecodeBlock counts the padding as bytes
    out.resize(size);
    return out;
}

}  // namespace geo_ssf
