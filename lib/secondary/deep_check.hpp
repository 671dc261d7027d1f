// Deep checks on a secondary: every synced copy's objects are checked (repo/deep_check.hpp) on
// the schedule of verification.deep_interval, claimed like every other kind of work on a copy
// (k_registry_deep_check), so never beside a fetch, a verification or a housekeeping of it. A
// copy that fails is repaired: moved to the quarantine, and its record marked for a fresh sync,
// which clones it again; the next verification and deep check prove the new copy. A fresh clone
// that fails again is synced again with backoff, as a failed sync; a copy whose primary's
// repository fails its own deep check is kept, and reported.
#pragma once

#include "db/deep_checks.hpp"
#include "run/run_loop.hpp"
#include "site/site.hpp"

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace geo_ssf::secondary {

// What becomes of a copy that failed its check, REPAIRS being the fresh clones of it that failed
// in a row before, and PRIMARY the primary's last check of the record (nullopt: none known).
deep_checks::CopyRepair repair_for(const std::optional<deep_checks::PrimaryCheck>& primary, int repairs);

// The outcome of a copy that failed its check with PROBLEM and was given REPAIR (its move to the
// quarantine done), after RETRY_COUNT failed checks and REPAIRS failed fresh clones: the texts
// say what was done and why.
deep_checks::CopyOutcome failed_copy(std::string_view problem, deep_checks::CopyRepair repair, int retry_count,
                                     int repairs, const std::optional<deep_checks::PrimaryCheck>& primary,
                                     double seconds, const std::function<int()>& random_30);

// Checks the copies of TYPES (those whose replication and verification are enabled) that are
// due, until nothing is, LIMITS.max_runtime passes since STARTED or a stop is requested.
std::vector<TypeTotals> deep_check(Site& site, const std::vector<const Replicable*>& types, const RunLimits& limits,
                                   std::chrono::steady_clock::time_point started);

// Checks the copies of the records IDS of REPLICABLE at once (reverify --deep --now).
std::vector<RecordResult> deep_check_records(Site& site, const std::string& replicable,
                                             const std::vector<long long>& ids, int jobs);

}  // namespace geo_ssf::secondary
