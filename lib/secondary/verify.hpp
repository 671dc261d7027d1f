// Verification on a secondary: checksum each synced copy whose verification is due and compare
// it with the primary's checksum. Equal: succeeded. Different: failed with checksum_mismatch,
// and the sync fails too, so the next sync fetches it again. Primary not verified yet: disabled.
#pragma once

#include "run/run_loop.hpp"
#include "site/site.hpp"

#include <string>
#include <vector>

namespace geo_ssf::secondary {

// Verifies every type in TYPES (all when empty) whose replication and verification are enabled,
// then checks the objects of the copies whose deep check is due (secondary/deep_check.hpp), within
// the same bounds.
VerifyRun verify(Site& site, const std::vector<std::string>& types, const RunLimits& limits);

// Verifies at once those of the records IDS of R whose verification is due (follow: records
// events name, or just synced). Returns the ids verified; adds what it did to TOTALS.
std::vector<long long> verify_due_records(Site& site, const Replicable& r, const std::vector<long long>& ids,
                                          const RunLimits& limits, TypeTotals& totals);

// The same for the records IDS of REPLICABLE at once (reverify --now); they must be synced.
std::vector<RecordResult> verify_records(Site& site, const std::string& replicable, const std::vector<long long>& ids,
                                         int jobs);

}  // namespace geo_ssf::secondary
