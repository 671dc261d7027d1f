// A secondary's replication lag, change by change (geo_ssf_changes and geo_ssf_lag_histogram in
// the tracking database): the event replay notes when each record's changes were published on
// the primary; recording a sync, then a verification, of a copy that holds them notes how long
// after that it came, and counts it in the site's histograms. Each note is made in the
// transaction of what it notes, so a killed run counts nothing twice and loses nothing.
#pragma once

#include "db/timed_reader.hpp"
#include "site/replicable.hpp"

#include <pqxx/pqxx>

#include <optional>
#include <string>
#include <vector>

namespace geo_ssf::replication_lags {

// The upper bounds of the histograms' buckets, in seconds (and +Inf after the last).
extern const std::vector<double> k_buckets;

// What a batch of replayed events brings to one record: its newest created or updated event,
// and when the first of them since the last delete was published (timestamptz text).
struct Change {
    long long id = 0;
    long long event_id = 0;
    std::string changed_at;
    std::string first_changed_at;
};

// Notes CHANGES of R's records in TX, the transaction that replays them: each row keeps its
// oldest change that no synced copy holds yet, and, when R's copies are verified on this site,
// the oldest that no verified copy holds yet.
void note_changes(pqxx::transaction_base& tx, const Replicable& r, const std::vector<Change>& changes);
// The copies of IDS were synced in TX: the changes they hold are synced, and their lags counted.
void note_synced(pqxx::transaction_base& tx, const Replicable& r, const std::vector<long long>& ids);
// The copies of IDS were verified in TX: the changes of each synced copy are verified, and
// their lags counted.
void note_verified(pqxx::transaction_base& tx, const Replicable& r, const std::vector<long long>& ids);
// The registry rows of IDS were deleted in TX.
void forget(pqxx::transaction_base& tx, const Replicable& r, const std::vector<long long>& ids);

// What status shows of a type's lag, in seconds; nullopt when there is none.
struct LagStatus {
    // The change synced last: how long after it was published it was synced, then verified
    // (nullopt while that copy is not verified), and how long ago it was synced.
    std::optional<double> last_sync_lag;
    std::optional<double> last_verification_lag;
    std::optional<double> last_synced_age;
    // How long ago the oldest change no synced (verified) copy holds yet was published.
    std::optional<double> oldest_unsynced_age;
    std::optional<double> oldest_unverified_age;
};
LagStatus read_lag_status(TimedReader& geo, const Replicable& r);

// One histogram of the site (Prometheus's cumulative buckets): the lags of a type's changes
// until STAGE, synced or verified.
struct LagHistogram {
    std::string replicable;
    std::string stage;
    std::vector<std::pair<double, long long>> buckets;  // upper bound, changes at or below it; +Inf last
    double sum = 0;
    long long count = 0;
};
// The histograms of TYPES for STAGES ("synced", "verified"), every bucket of k_buckets present.
std::vector<LagHistogram> read_lag_histograms(pqxx::connection& geo, const std::vector<const Replicable*>& types,
                                              const std::vector<std::string>& stages);

}  // namespace geo_ssf::replication_lags
