// Repository paths under a site's storage root. No path may leave the root: not by "..", not
// by being absolute, not through a symbolic link.
#pragma once

#include <filesystem>
#include <string>

namespace geo_ssf {

// ROOT / RELATIVE, or a RuntimeError saying why RELATIVE is refused: empty, absolute, an empty
// segment ("//" or a trailing '/'), a "." or ".." segment, a NUL byte, or an existing part of it that resolves (through symbolic links)
// outside ROOT.
std::filesystem::path repository_location(const std::filesystem::path& root, const std::string& relative);

}  // namespace geo_ssf
