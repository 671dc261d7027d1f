// Claimable work as data, as git's builtin/gc.c drives its maintenance tasks from a table: each
// kind of work a run claims row by row (a primary's verification and deep checks, a secondary's
// sync, verification, housekeeping and deep checks) is one ClaimableWork, and one engine claims,
// counts, records, puts back, releases and times out rows for all of them. Adding a kind of work
// is adding a descriptor.
//
// A claim stamps rows `started` with the run's claim time (run_lock.hpp), FOR UPDATE SKIP
// LOCKED, so that any number of runs on any number of hosts get disjoint rows. The rows are a
// type's own table's (registry, states) or those of one of geo-ssf's tables that every type
// shares, keyed by type and record id (deep checks, housekeeping).
//
// A secondary's copy is worked by one kind of work at a time: a fetch never runs beside a
// housekeeping or a deep check of the same copy, nor two of those beside each other. Every claim
// on a copy locks its registry row, and then, in a statement of its own, whose snapshot is
// taken once it holds those locks, drops the copies another kind of work has started. Claims on
// one copy so pass one after the other through its registry row's lock, and each sees what the
// claims before it stamped.
#pragma once

#include "db/transitions.hpp"
#include "site/config.hpp"
#include "site/migrations.hpp"
#include "site/replicable.hpp"

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace geo_ssf {

// Where a kind of work's rows are, for one type.
struct ClaimedRows {
    std::string table;
    std::string key;      // the record id column
    std::string row_id;   // the row's own id column (Claim::row_id)
    std::string of_type;  // a predicate selecting the type's rows of a shared table; empty for its own
};

// How a kind of work on a secondary's copies keeps off the copies other kinds are working on.
struct CopyExclusion {
    std::string registry_table;  // the copy's registry row, which every claim on the copy locks
    std::string registry_key;
    bool claims_registry_rows = false;  // the work's rows are the registry's: its claim locks them already
    std::string busy;  // an SQL predicate over the claimed row (g): another kind of work holds the copy
};

struct ClaimableWork {
    const char* name;                       // "sync", "verification", "housekeeping", "deep check"
    DatabaseKind database;                  // where the rows are
    const char* timeout_text;               // GitLab's word in a timeout's failure: "Sync", "Verification"
    ClaimedRows (*rows)(const Replicable&);  // the rows claimed
    Column state_column;                    // the state machine the work moves
    const char* claim_column;               // where the claim time is stamped
    const char* retry_count_column;         // the attempts so far, handed to the work
    const char* pending_order;              // pending rows are claimed in this column's order
    const char* retry_at_column;            // failed rows are claimed when this is past, in its order
    // The rows the work applies to at all: an SQL predicate over the row (g).
    std::string (*available)(const Replicable&);
    std::string (*pending)();               // due: pending ...
    std::string (*failed_and_due)();        // ... or failed and past its retry time
    Transition (*started)();                // what a claim writes
    Transition (*timed_out)();              // what a claim started too long ago gets
    std::chrono::seconds BatchSettings::*timeout;  // in config.verification or config.sync
    BatchSettings Config::*settings;
    const char* failed_filter;              // geo-ssf list's option for its failures; empty: none
    CopyExclusion (*exclusion)(const Replicable&);  // nullptr: the work shares no copy with others
};

// A primary's verification of its repositories (states tables, main database).
extern const ClaimableWork k_primary_verification;
// A secondary's sync of its copies (registry tables, tracking database).
extern const ClaimableWork k_registry_sync;
// A secondary's verification of its synced copies against the primary's checksums.
extern const ClaimableWork k_registry_verification;
// A primary's deep checks of its repositories (geo_ssf_deep_checks, main database).
extern const ClaimableWork k_primary_deep_check;
// A secondary's deep checks of its synced copies (geo_ssf_deep_checks, tracking database).
extern const ClaimableWork k_registry_deep_check;
// A secondary's housekeeping of its synced copies (geo_ssf_housekeeping).
extern const ClaimableWork k_housekeeping;

// A row claimed by a run.
struct Claim {
    long long id = 0;           // the model record's id (the row's foreign key)
    long long row_id = 0;       // the claimed row's own id
    int16_t previous_state = 0; // to put the row back if the run stops before working it
    int retry_count = 0;        // attempts before this one
};

std::vector<long long> ids_of(const std::vector<Claim>& claims);

// Claims up to LIMIT due rows of R, stamped CLAIM_TIME: pending first (in pending_order,
// NULLs first), then failed rows whose retry is due (retry_at order, NULLs first). Rows whose
// copy another kind of work holds are left for later.
std::vector<Claim> claim_due(pqxx::connection& db, const ClaimableWork& work, const Replicable& r,
                             const std::string& claim_time, int limit);
// Claims the rows of IDS the work applies to, whatever their state but started (a live run's).
std::vector<Claim> claim_records(pqxx::connection& db, const ClaimableWork& work, const Replicable& r,
                                 const std::string& claim_time, const std::vector<long long>& ids);
// Claims the rows of IDS that claim_due could claim (pending, or failed and due), whatever
// their order: what the follow mode claims for the records an event names.
std::vector<Claim> claim_due_records(pqxx::connection& db, const ClaimableWork& work, const Replicable& r,
                                     const std::string& claim_time, const std::vector<long long>& ids);
// How many rows claim_due would claim with no limit (for a progress line; partial indexes keep
// it to the due rows).
long long count_due(pqxx::connection& db, const ClaimableWork& work, const Replicable& r);
// Puts CLAIMS back in the states they had, if this run (CLAIM_TIME) still holds them.
void restore_claims(pqxx::connection& db, const ClaimableWork& work, const Replicable& r,
                    const std::string& claim_time, const std::vector<Claim>& claims);
// Rows started by runs that are gone go back to pending at once (see run_lock.hpp); the run
// with OWN_CLAIM_TIME is never touched. Returns how many.
long long release_abandoned(pqxx::connection& db, const ClaimableWork& work, const Replicable& r,
                            const std::string& own_claim_time);
// Rows started longer than TIMEOUT ago by runs that are alive but stuck fail, as in GitLab.
long long fail_timed_out(pqxx::connection& db, const ClaimableWork& work, const Replicable& r,
                         std::chrono::seconds timeout);

// Applies TRANSITION, in TX, to R's rows that OUTCOMES (a JSON array of objects keyed by
// parameter_name, each with its "id") name and that the run CLAIM_TIME still holds. Returns
// the ids of the rows it changed.
std::vector<long long> record_claimed(pqxx::transaction_base& tx, const ClaimableWork& work, const Replicable& r,
                                      const Transition& transition, const nlohmann::json& outcomes,
                                      const std::string& claim_time);
// The same for rows that GUARD selects instead (an SQL predicate over the row, aliased g, and
// the outcome o, with the claim time as $2): an outcome that finds its row restarted meanwhile.
std::vector<long long> record_where(pqxx::transaction_base& tx, const ClaimableWork& work, const Replicable& r,
                                    const Transition& transition, const nlohmann::json& outcomes,
                                    const std::string& guard, const std::string& claim_time);

}  // namespace geo_ssf
