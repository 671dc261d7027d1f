// geo_ssf_sync_times, in the tracking database: since when each registry row waits for a sync,
// and when its last sync succeeded, kept by triggers on the registry tables (the migration
// create_geo_ssf_sync_times). The registry's own last_synced_at is GitLab's claim time.
#pragma once

#include "db/timed_reader.hpp"
#include "site/replicable.hpp"

#include <pqxx/pqxx>

#include <optional>
#include <string>

namespace geo_ssf {

// SQL for the time R's registry row (aliased ROW_ALIAS) last synced with success: its
// synced_at, else, for a synced row the triggers have no time for (one inserted synced), the
// claim of the sync that made it synced.
std::string last_success_sql(const std::string& row_alias);
// The join that last_success_sql needs, after the registry's FROM: "LEFT JOIN ... t ON ...".
std::string sync_times_join(const Replicable& r, const std::string& row_alias);

// The oldest change R's registry waits for: its oldest pending_since.
struct OldestPending {
    bool tracked = false;  // whether the registry has the triggers that keep the times
    std::optional<std::string> since;   // ISO 8601; nullopt when no row waits
    std::optional<double> unix_time;    // the same, in seconds since 1970
    std::optional<double> age_seconds;  // how long ago, on the tracking database's clock
};
OldestPending read_oldest_pending(TimedReader& geo, const Replicable& r);

// When record ID of R last synced with success (last_success_sql): ISO 8601, and seconds from
// now (negative); nullopt when it has not, or has no registry row.
struct SyncedAt {
    std::string time;
    double seconds_from_now = 0;
};
std::optional<SyncedAt> read_synced_at(pqxx::transaction_base& tx, const Replicable& r, long long id);

}  // namespace geo_ssf
