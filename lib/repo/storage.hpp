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

// DIR, created (mode 0700) when missing and CREATE; an empty path when it is missing and not
// CREATE. Refused (RuntimeError) unless it is a real folder, not a symbolic link, owned by the
// running user: geo-ssf's own folders under the root hold what it removes, so they must not
// lead anywhere else.
std::filesystem::path own_folder(const std::filesystem::path& dir, bool create);

// PATH is a folder, not a symbolic link to one.
bool is_folder_not_link(const std::filesystem::path& path);

// A bare repository's own layout: HEAD, objects/ and refs/, none of them a symbolic link.
bool is_bare_repository(const std::filesystem::path& path);

}  // namespace geo_ssf
