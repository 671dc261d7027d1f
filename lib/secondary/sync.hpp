// Sync on a secondary: replay the primary's events, keep each registry in step with the
// primary's records (registry consistency), and mirror the repositories that are due.
#pragma once

#include "run/run_loop.hpp"
#include "secondary/event_replay.hpp"
#include "site/site.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace geo_ssf::secondary {

struct SyncRun {
    EventCounts events;
    std::vector<TypeTotals> types;  // succeeded: records synced
    std::vector<TypeTotals> housekeeping;  // of the copies fetched into (and failed ones due again)
    int removals_failed = 0;        // copies of removed records still on disk, rows kept for a retry
    std::vector<std::string> removals_refused;  // mass removals refused (mass_removal), one line each
};

// One sync run for every replication-enabled type in TYPES (all when empty), until nothing is
// due, LIMITS.max_runtime passes or a stop is requested, then the housekeeping of the copies
// (secondary/housekeeping.hpp) within the same bounds. A mass removal of registry rows by
// registry consistency is refused unless ALLOW_MASS_REMOVAL.
SyncRun sync(Site& site, const std::vector<std::string>& types, const RunLimits& limits, bool allow_mass_removal);

// What the failed sync of the record at LOCATION concerns, for its log line: "copy <path>"
// when REASON names its storage's root or a local write's lack of room or rights, else "primary
// <url>" (a primary that did not answer, refused, or has no usable repository there).
std::string sync_failure_concerns(std::string_view reason, const Config& config, const RepositoryLocation& location);
// Syncs at once those of the records IDS of R whose sync is due (follow: records events name).
// Returns the ids synced; adds what it did to TOTALS.
std::vector<long long> sync_due_records(Site& site, const Replicable& r, const std::vector<long long>& ids,
                                        const RunLimits& limits, TypeTotals& totals);

// Syncs the records IDS of REPLICABLE at once (resync --now), creating their registry rows.
std::vector<RecordResult> sync_records(Site& site, const std::string& replicable, const std::vector<long long>& ids,
                                       int jobs);

}  // namespace geo_ssf::secondary
