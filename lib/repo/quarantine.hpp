// The quarantine of a secondary's storage root: copies of records that registry consistency
// removed (gone from the primary without a deleted event) are moved aside, not deleted, to
// <root>/.geo-ssf-removed/<type>/<id>/<UTC time>.git, and purged after sync.removed_retention.
// A record that comes back before then gets its copy back, and a fetch brings it up to date.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace geo_ssf {

using SystemTime = std::chrono::system_clock::time_point;

// Moves the bare repository TARGET (under STORAGE_ROOT) into the quarantine as record ID of
// TYPE, stamped with NOW. Nothing when TARGET does not exist; a RuntimeError when it is not a
// bare repository or cannot be moved.
void quarantine_repository(const std::filesystem::path& storage_root, const std::string& type, long long id,
                           const std::filesystem::path& target, SystemTime now);

// Moves the newest quarantined copy of record ID of TYPE to TARGET, which must not exist.
// False when there is none.
bool restore_from_quarantine(const std::filesystem::path& storage_root, const std::string& type, long long id,
                             const std::filesystem::path& target);

// Removes the quarantined copies of TYPE stamped more than RETENTION before NOW. Returns how
// many were removed.
int purge_quarantine(const std::filesystem::path& storage_root, const std::string& type,
                     std::chrono::seconds retention, SystemTime now);

// Moves the bare repositories RELATIVE_PATHS under STORAGE_ROOT, which no record claims (a
// returning old primary's repositories that the new primary does not have), into the
// quarantine's <root>/.geo-ssf-removed/.unclaimed/<UTC time>/, each at its relative path; they
// are purged with the rest. Returns the folder they went to. A RuntimeError, before anything is
// moved, when one is not a bare repository; when one cannot be moved, those before it stay moved.
std::filesystem::path quarantine_unclaimed(const std::filesystem::path& storage_root,
                                           const std::vector<std::string>& relative_paths, SystemTime now);

// Removes the folders of unclaimed repositories moved there more than RETENTION before NOW.
// Returns how many were removed.
int purge_unclaimed(const std::filesystem::path& storage_root, std::chrono::seconds retention, SystemTime now);

struct QuarantinedCopy {
    long long id = 0;  // the record's
    std::filesystem::path path;
    SystemTime removed_at;
    long long bytes = 0;  // of its files
};

// The quarantined copies of TYPE's records with ids above AFTER, by id and oldest first, of at
// most LIMIT records (every copy of a record it lists).
std::vector<QuarantinedCopy> quarantined_copies(const std::filesystem::path& storage_root, const std::string& type,
                                                long long after, int limit);

struct QuarantineUsage {
    long long repositories = 0;
    long long bytes = 0;  // of their files
};

// What the quarantine holds, all types together.
QuarantineUsage quarantine_usage(const std::filesystem::path& storage_root);

// "1.2 MB": the size of a copy or of the quarantine.
std::string megabytes_text(long long bytes);

// "9 repositories, 1.2 MB in <root>/.geo-ssf-removed": what status and check print, for the
// quarantines of STORAGE_ROOTS together.
std::string describe_quarantine(const QuarantineUsage& usage, const std::vector<std::filesystem::path>& storage_roots);

}  // namespace geo_ssf
