// What `geo-ssf status` reports: GitLab's status fields for each replicable (GeoNodeStatus),
// read from the tallies the triggers keep (lib/tallies.hpp), plus the event log's position.
#pragma once

#include "db/cursors.hpp"
#include "db/replication_lags.hpp"
#include "db/status_reads.hpp"
#include "site/config.hpp"
#include "repo/quarantine.hpp"
#include "site/site.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace geo_ssf {

// GitLab's fields of one type. A field this site's role does not count, or that disabled
// verification leaves out, is nullopt (GitLab's nil).
struct StatusCounts {
    // <p>_count: the model records in scope on a primary; the registry rows on a secondary,
    // where GitLab overwrites it with the registry count.
    std::optional<long long> count;
    // Primary: state rows of records in scope (available to checksum), succeeded, failed.
    std::optional<long long> checksum_total;
    std::optional<long long> checksummed;
    std::optional<long long> checksum_failed;
    // Secondary: registry rows, synced, failed; and of the synced ones, those available to
    // verify (verification not disabled), verified, failed to verify.
    std::optional<long long> registry;
    std::optional<long long> synced;
    std::optional<long long> failed;
    std::optional<long long> verification_total;
    std::optional<long long> verified;
    std::optional<long long> verification_failed;
    // Ours, secondary: records in scope on the primary that have no registry row yet.
    std::optional<long long> registry_missing;
    // Ours, secondary: registry rows synced while the primary had no repository for them.
    std::optional<long long> missing_on_primary;
    // Ours: records whose repository (a secondary: its copy) failed its last deep check, and those
    // whose deep check is due; unset when verification is disabled.
    std::optional<long long> deep_check_failed;
    std::optional<long long> deep_check_due;
    // Ours, secondary: copies whose last housekeeping failed; unset when housekeeping is disabled.
    std::optional<long long> housekeeping_failed;
    // Ours: the rows that wait: on a secondary the registry rows neither synced nor failed
    // (pending, or being fetched), on a primary the state rows neither checksummed nor failed.
    std::optional<long long> pending;
    // Ours, secondary: how long, in whole seconds, the oldest change the registry waits for has
    // waited (the oldest pending_since of sync_times.hpp); 0 when none waits.
    std::optional<long long> oldest_pending_age;

    // Ours: the rows by state, named as list takes them, for the gauges with a state label: a
    // secondary's registry rows by sync state and its synced rows by verification state, a
    // primary's state rows (in scope) by verification state. Empty when not counted.
    std::map<std::string, long long> sync_states;
    std::map<std::string, long long> verification_states;
};

// GitLab's derived percentages: 0 when the registry is empty; the verified percentage is of
// the registry count, not of verification_total. nullopt when the counts are, except that with
// verification disabled the verified percentage is 0, as GitLab computes it from zero counts.
std::optional<double> synced_percentage(const StatusCounts& counts);
std::optional<double> verified_percentage(const StatusCounts& counts);

using CountField = std::optional<long long> StatusCounts::*;

enum class TypeOutcome {
    counted,    // the counts are known
    partial,    // some counts did not finish within status.timeout (or were cancelled); the others are known
    unknown,    // no count finished within status.timeout (or each was cancelled)
    disabled,   // named on the command line, but this role does not count it
};

struct TypeStatus {
    const Replicable* replicable = nullptr;
    TypeOutcome outcome = TypeOutcome::counted;
    std::string reason;  // why it is unknown, partial or disabled
    StatusCounts counts;
    std::vector<CountField> unknown_fields;  // partial: the counts that did not finish
    // The walk that checks every record once per pass (a primary's state-row backfill, a
    // secondary's registry consistency): the counts trust what it has checked (see
    // collect_status). nullopt when it could not be read.
    std::optional<WalkProgress> walk;
    // Secondary: since when the oldest change the registry waits for has waited, ISO 8601 and
    // Unix time; nullopt when none waits or it is unknown.
    std::optional<std::string> oldest_pending_since;
    std::optional<double> oldest_pending_unix_time;
    // Secondary: the replication lag of the change synced last, and the age of the oldest change
    // still pending (replication_lags.hpp); nullopt when it could not be read in time.
    std::optional<replication_lags::LagStatus> lag;
};

struct SiteStatus {
    std::string site;
    Role role = Role::primary;
    std::optional<EventMark> last_event;         // the newest event on the primary
    std::optional<EventMark> cursor_last_event;  // secondary: the last event it processed
    bool events_known = true;                    // false when reading them timed out
    std::string events_reason;
    // Secondary: why the primary's database could not be reached; empty when it was. What needs
    // it (the event log's position, the records with no registry row) is then unknown.
    std::string main_unavailable;
    // Whether the main database is a standby (pg_is_in_recovery()), as a secondary's usually
    // is, and then how far its replay lags the primary, as GitLab's db_replication_lag_seconds:
    // 0 when it has replayed all the WAL it received, else the time since the commit of the
    // last transaction it replayed. nullopt on a database that is not a standby, and when
    // unknown (the standby has replayed no transaction since it started, or the event log
    // position timed out, which is read with it).
    bool main_is_standby = false;
    std::optional<double> db_replication_lag_seconds;
    std::vector<TypeStatus> types;
    // Secondary: the copies of removed records that sync keeps for sync.removed_retention.
    std::optional<QuarantineUsage> quarantine;
    std::vector<std::filesystem::path> storage_roots;  // whose quarantines `quarantine` counts
    // status --by-storage: each counted type's rows by storage (status_reads.hpp), by type name;
    // a type whose breakdown did not finish within status.timeout is absent, and said why in
    // by_storage_unknown.
    std::map<std::string, std::map<std::string, StorageCounts>> by_storage;
    std::map<std::string, std::string> by_storage_unknown;

    // Whether everything that was asked for is known: no count and no event position timed out
    // (what geo_ssf_status_last_success_timestamp_seconds stands for).
    bool complete() const;
    // Whether some records of a counted type failed: to sync or verify on a secondary, to
    // checksum on a primary.
    bool records_failed() const;
};

// Whether a site of ROLE counts REPLICABLE in its status, as GitLab: on a primary when its
// verification is enabled, on a secondary when its replication is.
bool counted_in_status(const Replicable& replicable, Role role);

// The types status covers on a site acting as ROLE: every type that role counts
// (counted_in_status) when NAMES is empty; else the named ones, in order, once each, those the
// role does not count marked disabled with the reason. An unknown name is a UsageError.
std::vector<TypeStatus> select_status_types(const Config& config, Role role, const std::vector<std::string>& names);

// Counts TYPES (from select_status_types) on SITE. Each type gets status.timeout: a count
// that cannot finish within it leaves that type unknown and the others are still counted.
// Other database errors are thrown.
// What would read every record id is bounded by the type's walk: the records it has checked
// are trusted (a primary's records with a state row; a secondary's registered records), and
// only the records beyond it are read, so that a status run costs what changed since, not the
// table's size. Beyond it means above where the current pass stands until a pass has gone
// through to the end, and above the largest checked id after that. A record that lost its row
// where the walk has been (created without an event below the largest id, a row deleted by
// hand) goes uncounted until the walk's next pass reaches it and gives it its row back.
// With BY_STORAGE, each counted type's rows are also broken down by storage (status --by-storage):
// a count over the type's rows, within status.timeout of its own.
SiteStatus collect_status(Site& site, std::vector<TypeStatus> types, bool by_storage = false);

// status --recount: replaces the stored tallies of the counted TYPES by a count of their rows
// (writers wait meanwhile, at most status.timeout).
void recount_tallies(Site& site, const std::vector<TypeStatus>& types);

// GitLab's field names: status_field_name("cool_widgets", "synced_count") is
// "cool_widgets_synced_count", and its Prometheus gauge is "geo_cool_widgets_synced"
// ("geo_" + field without a final "_count" or "_total", as GitLab derives it).
std::string status_field_name(const std::string& plural, const std::string& field);
std::string prometheus_gauge_name(const std::string& field_name);

}  // namespace geo_ssf
