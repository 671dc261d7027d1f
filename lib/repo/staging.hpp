// Staging folders under a storage root (<root>/.geo-ssf-tmp): a new copy is built there and
// renamed into place, and a copy being replaced or removed is renamed there first, so that a
// repository's path always holds one whole repository or none, even after kill -9. What an
// interrupted run left there is removed by the next.
#pragma once

#include <filesystem>

namespace geo_ssf {

// A new folder name in STORAGE_ROOT's staging folder (made when missing); the folder itself is
// not made.
std::filesystem::path new_staging_folder(const std::filesystem::path& storage_root);

// Renames the copy built at STAGED (in the staging folder) to TARGET; the copy at TARGET, if
// any, is put aside first and removed after.
void install_staged_copy(const std::filesystem::path& staged, const std::filesystem::path& target,
                         const std::filesystem::path& storage_root);

// Copies the bare repository at SOURCE into a staging folder of STORAGE_ROOT and renames it to
// TARGET, which must hold nothing: a copy made from a copy this site already has. Only folders
// and regular files are copied; anything else (a symbolic link, a FIFO, a device) is refused
// with a RuntimeError naming it, as is a SOURCE that is not a bare repository; a stop request
// ends the copy. Nothing half-copied stays behind.
void copy_into_place(const std::filesystem::path& source, const std::filesystem::path& target,
                     const std::filesystem::path& storage_root);

// Removes what interrupted runs left in STORAGE_ROOT's staging folder (folders of processes
// that are gone). Returns how many were removed.
int remove_abandoned_mirror_folders(const std::filesystem::path& storage_root);

// Removes the repository at TARGET (under STORAGE_ROOT) if there is one: a RuntimeError when it
// is not a bare repository.
void remove_repository(const std::filesystem::path& target, const std::filesystem::path& storage_root);

}  // namespace geo_ssf
