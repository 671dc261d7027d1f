// Replacing a file so that readers see the old content or the new, never a part: what
// node_exporter's textfile collector and any other poller of a file need.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace geo_ssf {

// Writes CONTENT to a temporary file in FILE's folder (".<name>.tmp-XXXXXX", so that a
// collector globbing "*.prom" never reads it), flushes it to disk, gives it the owner, group
// and mode of the FILE it replaces (mode 0644 when FILE is new), and renames it over FILE. On any failure the temporary file is removed, FILE is
// unchanged, and a RuntimeError names FILE and the reason.
void write_file_atomically(const std::filesystem::path& file, std::string_view content);

// The content of FILE, or nullopt when it does not exist or cannot be read.
std::optional<std::string> read_file_if_exists(const std::filesystem::path& file);

}  // namespace geo_ssf
