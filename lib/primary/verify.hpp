// Verification on a primary: checksum the repositories whose verification is due, record the
// results in the states tables, and publish a checksum_succeeded event for each success.
#pragma once

#include "run/run_loop.hpp"
#include "site/site.hpp"

#include <string>
#include <vector>

namespace geo_ssf::primary {

// Verifies every verification-enabled type in TYPES (all of them when empty), batch after
// batch, until nothing is due, LIMITS.max_runtime passes or a stop is requested, then checks the
// objects of the repositories whose deep check is due (primary/deep_check.hpp) within the same
// bounds. A record whose last deep check failed fails its verification with that check's reason.
VerifyRun verify(Site& site, const std::vector<std::string>& types, const RunLimits& limits);

// Checksums at once those of the records IDS of R whose verification is due (follow: records
// events name) and records the results. Returns the ids verified; adds what it did to TOTALS.
std::vector<long long> verify_due_records(Site& site, const Replicable& r, const std::vector<long long>& ids,
                                          const RunLimits& limits, TypeTotals& totals);

// Checksums the records IDS of REPLICABLE at once (reverify --now) and records the results.
// IDs already started by another run, or out of scope, are reported as failed with that reason.
std::vector<RecordResult> verify_records(Site& site, const std::string& replicable, const std::vector<long long>& ids,
                                         int jobs);

}  // namespace geo_ssf::primary
