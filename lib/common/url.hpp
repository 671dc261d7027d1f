// URLs of the primary's repositories as the configuration gives them: file://, a plain path,
// or a network URL (https://, ssh://, git://); and the %XX escapes of URLs and connection URIs.
#pragma once

#include <cctype>
#include <filesystem>
#include <optional>
#include <string>

namespace geo_ssf {

// The folder a file:// URL or a plain path names; nullopt for a network URL.
inline std::optional<std::filesystem::path> local_path_of(const std::string& url) {
    if (url.rfind("file://", 0) == 0)
        return url.substr(7);
    if (url.find("://") != std::string::npos)
        return std::nullopt;
    return url;
}

// TEXT with its %XX escapes decoded (a user name or password in a URL or a libpq URI).
inline std::string percent_decoded(const std::string& text) {
    std::string out;
    for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '%' && i + 2 < text.size() && std::isxdigit(static_cast<unsigned char>(text[i + 1])) &&
            std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
            out += static_cast<char>(std::stoi(text.substr(i + 1, 2), nullptr, 16));
            i += 2;
        } else {
            out += text[i];
        }
    }
    return out;
}

}  // namespace geo_ssf
