// Housekeeping on a secondary: after a sync fetched into a copy, the copy is looked at and the
// cheapest sufficient tasks are run (repo/housekeeping.hpp). Claimed like every other kind of work
// (k_housekeeping), so that it runs on one host at a time for a copy and never beside a fetch or a
// deep check of it, and a failure is retried with backoff; the copy stays valid and synced.
#pragma once

#include "run/run_loop.hpp"
#include "site/site.hpp"

#include <chrono>
#include <string>
#include <vector>

namespace geo_ssf::secondary {

// Housekeeps the copies of the types in TYPES (those whose replication and housekeeping are
// enabled) that are due, until nothing is, LIMITS.max_runtime passes since STARTED or a stop is
// requested.
std::vector<TypeTotals> housekeep(Site& site, const std::vector<const Replicable*>& types, const RunLimits& limits,
                                  std::chrono::steady_clock::time_point started);

}  // namespace geo_ssf::secondary
