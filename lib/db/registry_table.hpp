// A secondary's registry table of one replicable (cool_widget_registry, in the tracking
// database): the SQL that reads and changes it besides the claims (claims.hpp). Every
// transition it writes comes from transitions.hpp.
#pragma once

#include "db/claims.hpp"
#include "db/states.hpp"
#include "site/replicable.hpp"

#include <pqxx/pqxx>

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace geo_ssf::registry_table {

// Inserts registry rows for IDS that have none (created_at = now(), every other column its
// default). Returns how many were inserted.
long long insert_rows(pqxx::transaction_base& tx, const Replicable& r, const std::vector<long long>& ids);
// The same in a transaction of its own (resync --now).
void create_rows(pqxx::connection& geo, const Replicable& r, const std::vector<long long>& ids);
// The largest record id in the registry; nullopt when it is empty.
std::optional<long long> largest_id(pqxx::transaction_base& tx, const Replicable& r);
// The largest of the COUNT smallest record ids in the registry; nullopt when it is empty.
std::optional<long long> largest_of_first_ids(pqxx::transaction_base& tx, const Replicable& r, long long count);
// The registry's foreign keys in [FIRST, LAST].
std::vector<long long> ids_in_range(pqxx::transaction_base& tx, const Replicable& r, long long first, long long last);
long long delete_rows(pqxx::transaction_base& tx, const Replicable& r, const std::vector<long long>& ids);
// Of the registry rows of IDS (every row when IDS is nullopt), how many the mass-removal guard
// counts: all but those the primary had no repository for (missing_on_primary), which hold no
// copy and must not dilute the share.
long long count_counted_for_removal(pqxx::transaction_base& tx, const Replicable& r,
                                    const std::optional<std::vector<long long>>& ids);
// Of IDS, those with a registry row.
std::vector<long long> registered_ids(pqxx::transaction_base& tx, const Replicable& r, const std::vector<long long>& ids);

// Records sync outcomes for rows still started by this run (CLAIM_TIME). PRIMARY_VERIFIED
// holds the ids whose primary verification succeeded: their verification becomes pending, the
// others' disabled (transition::sync_succeeded). Returns how many rows were recorded.
long long record_sync_outcomes(pqxx::connection& geo, const Replicable& r, const std::string& claim_time,
                               const std::vector<std::pair<long long, SyncOutcome>>& outcomes,
                               const std::vector<long long>& primary_verified);

long long record_verification_outcomes(
    pqxx::connection& geo, const Replicable& r, const std::string& claim_time,
    const std::vector<std::pair<long long, RegistryVerificationOutcome>>& outcomes);

// A copy that could not be removed keeps (or gets back) its registry row, sync failed with
// "repository not removed: REASON" and due again in a minute, so that status and show tell and
// the next run retries the removal.
void record_removal_failure(pqxx::connection& geo, const Replicable& r, long long id, const std::string& reason);

// The refs that differ from the primary's, as the last verification of record ID found them.
std::optional<std::string> ref_differences(pqxx::transaction_base& tx, const Replicable& r, long long id);

// resync and reverify on a secondary.
enum class Mark { sync_pending, verification_pending };
long long count_selection(pqxx::connection& geo, const Replicable& r, Mark mark, BulkSelection selection);
// The ids of up to LIMIT rows mark_selection would change, lowest first (resync and reverify --now).
std::vector<long long> selection_ids(pqxx::connection& geo, const Replicable& r, Mark mark, BulkSelection selection,
                                     int limit);
long long mark_selection(pqxx::connection& geo, const Replicable& r, Mark mark, BulkSelection selection, int batch,
                         const std::function<void(long long)>& progress);
// Marks the rows of IDS (creating missing rows when marking for a sync); DRY_RUN counts only.
long long mark_ids(pqxx::transaction_base& tx, const Replicable& r, Mark mark, const std::vector<long long>& ids,
                   bool dry_run);

}  // namespace geo_ssf::registry_table
