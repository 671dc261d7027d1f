// Deep checks (geo_ssf_deep_checks, in both databases): one row per record of each type, keyed by
// type and record id, with the state of its last check of every object (states.hpp's verification
// states: pending, started, succeeded, failed), when the next is due, and on a secondary how
// many fresh clones of the copy failed in a row. The SQL that reads and changes them besides the
// claims (claims.hpp, k_primary_deep_check and k_registry_deep_check).
#pragma once

#include "db/states.hpp"
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

namespace geo_ssf::deep_checks {

// What one deep check gives.
struct DeepCheckOutcome {
    bool passed = false;
    double seconds = 0;                  // how long it took
    std::optional<std::string> failure;  // the reason, within its column's 255 characters
    int retry_count = 0;
    std::optional<std::chrono::seconds> retry_in;
    int repairs = 0;  // fresh clones of the copy that failed in a row (secondary)
};

DeepCheckOutcome passed(double seconds);
// Failed for REASON: one more retry, and the backoff before the next (as a failed verification).
DeepCheckOutcome failed(int previous_retry_count, std::string_view reason, double seconds, int repairs,
                        const std::function<int()>& random_30);
DeepCheckOutcome failed(int previous_retry_count, std::string_view reason, double seconds, int repairs);

// What a failed deep check does to a secondary's copy.
enum class CopyRepair {
    none,         // passed, or the copy is kept (the primary's repository fails too)
    fresh_clone,  // moved to the quarantine; the next sync clones it again
    backed_off,   // moved to the quarantine after a fresh clone failed too: sync failed, with backoff
};

struct CopyOutcome {
    DeepCheckOutcome check;
    CopyRepair repair = CopyRepair::none;
    SyncOutcome sync;  // backed_off: the sync failure, its retry count and backoff
};

// A primary's deep check, and whether the record's check had failed before it.
struct PrimaryOutcome {
    DeepCheckOutcome check;
    bool failed_before = false;
};

// Makes the missing rows of the records IDS of R, their first check not scheduled yet
// (schedule_first_checks does it). Called where a record is verified or its copy synced.
void create_rows(pqxx::transaction_base& tx, const Replicable& r, const std::vector<long long>& ids);
// The rows of IDS go with their records' registry or states rows.
void delete_rows(pqxx::transaction_base& tx, const Replicable& r, const std::vector<long long>& ids);
// Schedules the first check of up to LIMIT rows of R that have none, each at a random point
// within INTERVAL from now, so that a site's checks spread evenly. Returns how many.
long long schedule_first_checks(pqxx::connection& db, const Replicable& r, std::chrono::seconds interval, int limit);

// Records the outcomes of a primary's checks for rows this run (CLAIM_TIME) still holds; a pass
// is next due INTERVAL later. A record whose check failed, or passed after failing, has its
// verification (states row) marked pending, so that verify fails it with the check's reason, or
// proves it again. Returns how many rows were recorded.
long long record_primary_outcomes(pqxx::connection& main, const Replicable& r, const std::string& claim_time,
                                  const std::vector<std::pair<long long, PrimaryOutcome>>& outcomes,
                                  std::chrono::seconds interval);
// Records the outcomes of a secondary's checks, and for the copies moved to the quarantine, the
// registry row's fresh sync (copy_repaired) or backed-off one (copy_repair_backed_off), if it is
// still synced. Returns how many rows were recorded.
long long record_copy_outcomes(pqxx::connection& geo, const Replicable& r, const std::string& claim_time,
                               const std::vector<std::pair<long long, CopyOutcome>>& outcomes,
                               std::chrono::seconds interval);

// Of IDS, the records whose last check failed, with the reason.
std::map<long long, std::string> failures_of(pqxx::transaction_base& tx, const Replicable& r,
                                             const std::vector<long long>& ids);
// The repairs so far of the records IDS (0 for those not listed).
std::map<long long, int> repairs_of(pqxx::transaction_base& tx, const Replicable& r, const std::vector<long long>& ids);

// The primary's last deep check of a record, as a secondary reads it from the main database.
struct PrimaryCheck {
    VerificationState state = VerificationState::pending;
    std::optional<std::string> failure;
};
// Of IDS, the primary's checks; empty when the primary's database has no deep checks yet (its
// migrations not applied).
std::map<long long, PrimaryCheck> primary_checks(pqxx::transaction_base& tx, const Replicable& r,
                                                 const std::vector<long long>& ids);

// reverify --deep: which rows a selection marks due. On a secondary only those of copies here
// (AVAILABLE, an SQL predicate over the row g, from the claim's descriptor).
long long count_selection(pqxx::connection& db, const Replicable& r, BulkSelection selection,
                          const std::string& available);
std::vector<long long> selection_ids(pqxx::connection& db, const Replicable& r, BulkSelection selection,
                                     const std::string& available, int limit);
// Marks the selected rows due now, in transactions of BATCH rows, calling PROGRESS(done) after each.
long long mark_selection(pqxx::connection& db, const Replicable& r, BulkSelection selection,
                         const std::string& available, int batch, const std::function<void(long long)>& progress);
// Marks the rows of IDS due now, creating those that are missing for the records AVAILABLE
// selects; DRY_RUN counts only. Rows started are left to their run.
long long mark_ids(pqxx::transaction_base& tx, const Replicable& r, const std::vector<long long>& ids,
                   const std::string& available, bool dry_run);
// Makes the missing rows of IDS that AVAILABLE selects (reverify --deep --now).
void create_missing_rows(pqxx::connection& db, const Replicable& r, const std::vector<long long>& ids,
                         const std::string& available);

// What status counts of R's checks: those that failed, and those due now (by their schedule, or
// failed and past their retry time), of records AVAILABLE selects.
struct Counts {
    long long failed = 0;
    long long due = 0;
};
Counts count(TimedReader& reader, const Replicable& r, const std::string& available);

}  // namespace geo_ssf::deep_checks
