// Sync runs on a secondary: replay the primary's events, keep each registry in step with the
// primary's records, and mirror the repositories that are due.
#pragma once

#include "secondary/event_replay.hpp"
#include "site/site.hpp"
#include "primary/verify.hpp"

#include <map>
#include <string>
#include <vector>

namespace geo_ssf {

struct SyncTotals {
    std::string replicable;
    long long registry_created = 0;  // rows added for records that had none
    long long registry_deleted = 0;  // rows (and repositories) removed for records that are gone
    long long released = 0;          // rows of dead runs put back to pending at the start
    long long claimed = 0;
    long long synced = 0;
    long long failed = 0;
    std::vector<RecordFailure> failures;
};

struct SyncRun {
    EventCounts events;
    std::vector<SyncTotals> types;
};

// One sync run for every replication-enabled type in TYPES (all when empty), until nothing is
// due, LIMITS.max_runtime passes or a stop is requested.
SyncRun sync_secondary(Site& site, const std::vector<std::string>& types, const RunLimits& limits);

// Syncs the records IDS of REPLICABLE at once (resync --now).
std::vector<RecordResult> sync_secondary_records(Site& site, const std::string& replicable,
                                                 const std::vector<long long>& ids, int jobs);

// The repository paths of IDS from the primary's model table; records that are gone are absent.
std::map<long long, std::string> repository_paths(Site& site, const Replicable& r, const std::vector<long long>& ids);

}  // namespace geo_ssf
