// Housekeeping of a secondary's copies (geo_ssf_housekeeping, in the tracking database): one row
// per copy, keyed by type and record id, with the state of its housekeeping (states.hpp's
// verification states: pending, started, succeeded, failed), what the last one did, and whether
// the copy is to be packed whole. The SQL that reads and changes them besides the claims
// (claims.hpp, k_housekeeping).
#pragma once

#include "db/timed_reader.hpp"
#include "site/replicable.hpp"

#include <pqxx/pqxx>

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace geo_ssf::housekeeping_table {

// What one housekeeping gives.
struct HousekeepingOutcome {
    bool succeeded = false;
    std::string tasks;    // what it did, or tried: "incremental repack, commit-graph"
    bool full_repack = false;  // it packed the copy whole
    double seconds = 0;
    std::optional<std::string> failure;  // within its column's 255 characters
    int retry_count = 0;
    std::optional<std::chrono::seconds> retry_in;
};

HousekeepingOutcome succeeded(std::string tasks, bool full_repack, double seconds);
// Failed for REASON: one more retry, and the backoff before the next (as a failed sync).
HousekeepingOutcome failed(int previous_retry_count, std::string tasks, std::string_view reason, double seconds,
                           const std::function<int()>& random_30);
HousekeepingOutcome failed(int previous_retry_count, std::string tasks, std::string_view reason, double seconds);

// A sync fetched into the copies of SYNCED (ascending), of which FRESH (ascending) were cloned
// afresh: their housekeeping is due, the fresh ones to be packed whole. Rows are made as needed.
void request(pqxx::transaction_base& tx, const Replicable& r, const std::vector<long long>& synced,
             const std::vector<long long>& fresh);
// The rows of IDS go with their records' registry rows.
void delete_rows(pqxx::transaction_base& tx, const Replicable& r, const std::vector<long long>& ids);

// What housekeeping knows of a copy from before: whether it is fresh, and how long ago it was
// last packed whole (nullopt: never, by geo-ssf).
struct History {
    bool fresh_copy = false;
    std::optional<double> seconds_since_full_repack;
};
std::map<long long, History> history_of(pqxx::transaction_base& tx, const Replicable& r,
                                        const std::vector<long long>& ids);

// Records the outcomes for rows this run (CLAIM_TIME) still holds. Returns how many.
long long record_outcomes(pqxx::connection& geo, const Replicable& r, const std::string& claim_time,
                          const std::vector<std::pair<long long, HousekeepingOutcome>>& outcomes);

// How many of R's copies' last housekeeping failed.
long long count_failed(TimedReader& reader, const Replicable& r);

}  // namespace geo_ssf::housekeeping_table
