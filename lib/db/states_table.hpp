// The primary's states table of one replicable (cool_widget_states): the SQL that reads and
// changes it besides the claims (claims.hpp). Every transition it writes comes from
// transitions.hpp.
#pragma once

#include "site/replicable.hpp"
#include "db/claims.hpp"
#include "db/states.hpp"

#include <pqxx/pqxx>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace geo_ssf::states_table {

struct BackfillCounts {
    long long created = 0;
    long long deleted = 0;
};

// Creates the missing state rows of the type's records (scope respected) and deletes the rows of
// records that left the scope, a bounded amount per run: one range of BATCH records from where
// the last run stopped (its cursor in geo_ssf_cursors, starting over after the last id), and one
// range above the largest record that has a row, so that new records are taken at once. A
// record created below that, or leaving the scope, waits at most one cycle of the walk.
BackfillCounts backfill_rows(pqxx::connection& connection, const Replicable& replicable, int batch);

// Marks up to LIMIT succeeded rows verified longer than INTERVAL ago as pending again.
long long mark_due_for_reverification(pqxx::connection& connection, const Replicable& replicable,
                                      std::chrono::seconds interval, int limit);

// Creates the missing state rows of the records IDS that are in scope (reverify --now).
void create_missing_rows(pqxx::connection& connection, const Replicable& replicable, const std::vector<long long>& ids);

// Records each outcome in one statement, for rows still started by this run (a row
// re-requested meanwhile stays pending), and publishes checksum_succeeded for each success
// when PUBLISH_EVENTS. Returns how many rows were recorded.
long long record_verification_outcomes(pqxx::connection& connection, const Replicable& replicable,
                                       const std::string& claim_time,
                                       const std::vector<std::pair<long long, VerificationOutcome>>& outcomes,
                                       bool publish_events);

// How many state rows mark_selection would change.
long long count_selection(pqxx::connection& connection, const Replicable& replicable, BulkSelection selection);

// The ids of up to LIMIT rows mark_selection would change, lowest first (reverify --now).
std::vector<long long> selection_ids(pqxx::connection& connection, const Replicable& replicable,
                                     BulkSelection selection, int limit);

// Marks the selected rows verification-pending in transactions of BATCH rows, in id order,
// calling PROGRESS(done) after each. Returns how many rows changed.
long long mark_selection(pqxx::connection& connection, const Replicable& replicable, BulkSelection selection,
                                 int batch, const std::function<void(long long)>& progress);

// Marks the rows of IDS (records that exist) verification-pending, creating missing rows, in
// one transaction. With DRY_RUN changes nothing. Returns how many rows change.
long long mark_ids(pqxx::transaction_base& tx, const Replicable& replicable, const std::vector<long long>& ids,
                           bool dry_run);

}  // namespace geo_ssf::states_table
