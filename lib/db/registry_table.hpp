// A secondary's registry table of one replicable (cool_widget_registry, in the tracking
// database): the SQL that reads and changes it. Every transition it writes comes from
// states.hpp.
#pragma once

#include "site/replicable.hpp"
#include "db/states.hpp"

#include <pqxx/pqxx>

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace geo_ssf::registry_table {

// A registry row claimed by this run, for a sync or a verification.
struct Claim {
    long long id = 0;           // the model record's id (the registry's foreign key)
    long long registry_id = 0;  // the registry row's own id
    int16_t previous_state = 0; // to put the row back if the run stops before it
    int retry_count = 0;        // retry_count for a sync, verification_retry_count for a verification
};

// Inserts registry rows for IDS that have none (created_at = now(), every other column its
// default). Returns how many were inserted.
long long insert_rows(pqxx::transaction_base& tx, const Replicable& r, const std::vector<long long>& ids);
// The largest of the COUNT smallest record ids in the registry; nullopt when it is empty.
std::optional<long long> largest_of_first_ids(pqxx::transaction_base& tx, const Replicable& r, long long count);
// The registry's foreign keys in [FIRST, LAST].
std::vector<long long> ids_in_range(pqxx::transaction_base& tx, const Replicable& r, long long first, long long last);
long long delete_rows(pqxx::transaction_base& tx, const Replicable& r, const std::vector<long long>& ids);
// Of IDS, those with a registry row.
std::vector<long long> registered_ids(pqxx::transaction_base& tx, const Replicable& r, const std::vector<long long>& ids);

// Rows left started by runs that are gone go back to pending at once (see run_lock.hpp).
long long release_abandoned_syncs(pqxx::connection& geo, const Replicable& r, const std::string& own_claim_time);
long long release_abandoned_verifications(pqxx::connection& geo, const Replicable& r,
                                                   const std::string& own_claim_time);
// Rows started longer than TIMEOUT ago by runs that are alive but stuck fail, as in GitLab; the
// verification sweep touches synced rows only (GitLab's available_verifiables).
long long fail_timed_out_syncs(pqxx::connection& geo, const Replicable& r, std::chrono::seconds timeout);
long long fail_timed_out_verifications(pqxx::connection& geo, const Replicable& r, std::chrono::seconds timeout);

// Claims up to LIMIT rows due for a sync: pending first, then failed rows whose retry is due
// (retry_at ASC NULLS FIRST); FOR UPDATE SKIP LOCKED. state = started, last_synced_at = claim.
std::vector<Claim> claim_due_syncs(pqxx::connection& geo, const Replicable& r, const std::string& claim_time,
                                           int limit);
// How many rows claim_due_syncs would claim with no limit (for a progress line; the state
// index keeps it to the due rows).
long long count_due_syncs(pqxx::connection& geo, const Replicable& r);
// Claims the rows of IDS for a sync whatever their state, except rows a live run holds.
std::vector<Claim> claim_syncs(pqxx::connection& geo, const Replicable& r, const std::string& claim_time,
                                       const std::vector<long long>& ids);
// Records sync outcomes for rows still started by this run. PRIMARY_VERIFIED holds the ids
// whose primary verification succeeded: their verification becomes pending, the others'
// disabled. Returns how many rows were recorded.
long long record_sync_outcomes(pqxx::connection& geo, const Replicable& r, const std::string& claim_time,
                               const std::vector<std::pair<long long, SyncOutcome>>& outcomes,
                               const std::vector<long long>& primary_verified);
void restore_claimed_syncs(pqxx::connection& geo, const Replicable& r, const std::string& claim_time,
                           const std::vector<Claim>& claims);

// Claims up to LIMIT synced rows due for verification: verification pending (verified_at ASC
// NULLS FIRST), then failed and due.
std::vector<Claim> claim_due_verifications(pqxx::connection& geo, const Replicable& r,
                                                            const std::string& claim_time, int limit);
// How many rows claim_due_verifications would claim with no limit.
long long count_due_verifications(pqxx::connection& geo, const Replicable& r);
std::vector<Claim> claim_verifications(pqxx::connection& geo, const Replicable& r,
                                                        const std::string& claim_time, const std::vector<long long>& ids);
long long record_verification_outcomes(
    pqxx::connection& geo, const Replicable& r, const std::string& claim_time,
    const std::vector<std::pair<long long, RegistryVerificationOutcome>>& outcomes);
void restore_claimed_verifications(pqxx::connection& geo, const Replicable& r, const std::string& claim_time,
                                            const std::vector<Claim>& claims);

// resync and reverify on a secondary.
enum class Mark { sync_pending, verification_pending };
long long count_selection(pqxx::connection& geo, const Replicable& r, Mark mark,
                                   BulkSelection selection);
// The ids of up to LIMIT rows mark_selection would change, lowest first (resync and reverify --now).
std::vector<long long> selection_ids(pqxx::connection& geo, const Replicable& r, Mark mark, BulkSelection selection,
                                     int limit);
long long mark_selection(pqxx::connection& geo, const Replicable& r, Mark mark,
                                  BulkSelection selection, int batch, const std::function<void(long long)>& progress);
// Marks the rows of IDS (creating missing rows when marking for a sync); DRY_RUN counts only.
long long mark_ids(pqxx::transaction_base& tx, const Replicable& r, Mark mark,
                            const std::vector<long long>& ids, bool dry_run);

}  // namespace geo_ssf::registry_table
