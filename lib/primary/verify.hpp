// Verification runs: checksum the repositories whose verification is due and record the
// results. On a primary the results go to the states tables and every success publishes a
// checksum_succeeded event for the secondaries.
#pragma once

#include "site/site.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace geo_ssf {

struct RunLimits {
    int batch_size = 1000;
    int jobs = 2;
    std::optional<std::chrono::seconds> max_runtime;  // stop claiming once reached
};

struct RecordFailure {
    long long id = 0;
    std::string reason;
};

struct VerifyTotals {
    std::string replicable;
    long long claimed = 0;
    long long succeeded = 0;
    long long failed = 0;
    long long released = 0;  // rows of dead runs put back to pending at the start
    std::vector<RecordFailure> failures;
};

// Verifies every verification-enabled type in TYPES (all of them when empty) on a primary,
// batch after batch, until nothing is due, LIMITS.max_runtime passes or a stop is requested.
std::vector<VerifyTotals> verify_primary(Site& site, const std::vector<std::string>& types, const RunLimits& limits);

// Verifies, on a secondary, the synced copies whose verification is due against the primary's
// checksums: equal → succeeded; different → failed with checksum_mismatch, and the sync
// fails too so the next sync fetches it again; primary not verified yet → disabled.
std::vector<VerifyTotals> verify_secondary(Site& site, const std::vector<std::string>& types, const RunLimits& limits);

struct RecordResult {
    long long id = 0;
    bool succeeded = false;
    std::string checksum;  // when succeeded
    std::string failure;   // when not
};

// Checksums the records IDS of REPLICABLE at once (reverify --now) and records the results.
// IDs already started by another run, or out of scope, are reported as failed with that reason.
std::vector<RecordResult> verify_primary_records(Site& site, const std::string& replicable,
                                                 const std::vector<long long>& ids, int jobs);
// The same on a secondary (reverify --now): the records must be synced.
std::vector<RecordResult> verify_secondary_records(Site& site, const std::string& replicable,
                                                   const std::vector<long long>& ids, int jobs);

}  // namespace geo_ssf
