// URLs of the primary's repositories as the configuration gives them: file://, a plain path,
// or a network URL (https://, ssh://, git://).
#pragma once

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

}  // namespace geo_ssf
