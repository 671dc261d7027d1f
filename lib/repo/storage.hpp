// Repository paths under a site's storage root. No path may leave the root: not by "..", not
// by being absolute, not through a symbolic link.
#pragma once

#include "site/config.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace geo_ssf {

// ROOT / RELATIVE, or a RuntimeError saying why RELATIVE is refused: empty, absolute, an empty
// segment ("//" or a trailing '/'), a "." or ".." segment, a NUL byte, a first segment in
// geo-ssf's own folders (.geo-ssf-*), or an existing part of it that resolves (through symbolic
// links) outside ROOT.
std::filesystem::path repository_location(const std::filesystem::path& root, const std::string& relative);

// Why ROOT, a secondary's storage root, is not for the user running geo-ssf to work in: it
// belongs to another user (the units' geo-ssf), whom the message names with the command to run
// as that user. What a run writes there would belong to the wrong user, and libgit2 refuses to
// read another user's copies. Nothing when this user owns ROOT, or when ROOT cannot be looked
// at (what uses it then says why).
std::optional<std::string> foreign_storage_root(const std::filesystem::path& root);

// Throws that refusal for the first of CONFIG's storage roots that has one, as a RuntimeError
// (exit status 5), before a run touches any record.
void require_own_storage_roots(const Config& config);

// DIR, created (mode 0700) when missing and CREATE; an empty path when it is missing and not
// CREATE. Refused (RuntimeError) unless it is a real folder, not a symbolic link, owned by the
// running user: geo-ssf's own folders under the root hold what it removes, so they must not
// lead anywhere else.
std::filesystem::path own_folder(const std::filesystem::path& dir, bool create);

// The repository that LOCATION (under ROOT) would lie inside: a folder between the two that is
// a bare repository, the nearest first; nullopt when there is none.
std::optional<std::filesystem::path> repository_around(const std::filesystem::path& root,
                                                       const std::filesystem::path& location);
// An entry of FOLDER that no repository has (another repository, a user's file), or FOLDER
// itself when it is a symbolic link: what makes FOLDER no partial repository of geo-ssf's, never
// to be deleted to make room for a copy. nullopt when there is none.
std::optional<std::string> foreign_entry(const std::filesystem::path& folder);
// PATH is a folder, not a symbolic link to one.
bool is_folder_not_link(const std::filesystem::path& path);

// A bare repository's own layout: HEAD, objects/ and refs/, none of them a symbolic link.
bool is_bare_repository(const std::filesystem::path& path);

// The bare repositories under ROOT, as paths relative to it ("@hashed/ab/cd/abcd.git"), sorted:
// none inside another, none in geo-ssf's own folders (.geo-ssf-*), no symbolic link followed.
std::vector<std::string> repositories_under(const std::filesystem::path& root);

}  // namespace geo_ssf
