// Deep checks on a primary: every repository's objects are checked (repo/deep_check.hpp) on the
// schedule of verification.deep_interval (k_primary_deep_check). A repository that fails is a
// verification failure, with the check's reason, until a check passes again: its verification is
// marked pending, and verify fails it with that reason (primary/verify.hpp). Secondaries read
// these results to tell a copy damaged here from a repository damaged on the primary.
#pragma once

#include "run/run_loop.hpp"
#include "site/site.hpp"

#include <chrono>
#include <string>
#include <vector>

namespace geo_ssf::primary {

// Checks the repositories of TYPES whose deep check is due, until nothing is, LIMITS.max_runtime
// passes since STARTED or a stop is requested.
std::vector<TypeTotals> deep_check(Site& site, const std::vector<const Replicable*>& types, const RunLimits& limits,
                                   std::chrono::steady_clock::time_point started);

// Checks the repositories of the records IDS of REPLICABLE at once (reverify --deep --now).
std::vector<RecordResult> deep_check_records(Site& site, const std::string& replicable,
                                             const std::vector<long long>& ids, int jobs);

}  // namespace geo_ssf::primary
