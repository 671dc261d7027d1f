#include "db/states_table.hpp"

#include "common/json.hpp"
#include "db/batches.hpp"
#include "db/cursors.hpp"
#include "db/deep_checks.hpp"
#include "db/event_log.hpp"
#include "db/model_table.hpp"
#include "db/transitions.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <utility>

namespace geo_ssf::states_table {

namespace {

std::string selection_predicate(BulkSelection selection) {
    return "verification_state " + (selection == BulkSelection::all ? "<> " + sql::value(VerificationState::pending)
                                                                    : "= " + sql::value(VerificationState::failed));
}

// The statement that creates the missing state rows of the records in scope that WHERE selects
// (over the model table, aliased m).
std::string insert_missing_rows_sql(const Replicable& r, const std::string& where) {
    const std::string key = "m." + r.model_key;
    return "INSERT INTO " + r.states_table + " (" + r.foreign_key + ") SELECT " + key + " FROM " + r.model_table +
           " m WHERE " + where + " AND " + scope_predicate(r) + " AND NOT EXISTS (SELECT 1 FROM " + r.states_table +
           " s WHERE s." + r.foreign_key + " = " + key + ") ON CONFLICT DO NOTHING";
}

}  // namespace

namespace {

// Creates the missing state rows of the records in scope in [FIRST, LAST] and deletes the rows
// of records there that left the scope, in TX.
void backfill_range(pqxx::work& tx, const Replicable& r, std::pair<long long, long long> range, BackfillCounts& counts) {
    const std::string key = "m." + r.model_key;
    counts.created +=
        tx.exec_params(insert_missing_rows_sql(r, key + " BETWEEN $1 AND $2"), range.first, range.second).affected_rows();
    if (!r.scope.empty())
        counts.deleted += tx.exec_params("DELETE FROM " + r.states_table + " s USING " + r.model_table +
                                             " m WHERE " + key + " = s." + r.foreign_key + " AND " + key +
                                             " BETWEEN $1 AND $2 AND NOT " + scope_predicate_of(r, "m"),
                                         range.first, range.second)
                              .affected_rows();
    // The deep checks of records whose state row went (deleted, or out of scope).
    tx.exec_params("DELETE FROM geo_ssf_deep_checks d WHERE d.replicable = $3 AND d.record_id BETWEEN $1 AND $2 AND "
                   "NOT EXISTS (SELECT FROM " + r.states_table + " s WHERE s." + r.foreign_key + " = d.record_id)",
                   range.first, range.second, r.name);
}

}  // namespace

BackfillCounts backfill_rows(pqxx::connection& connection, const Replicable& r, int batch) {
    const std::string cursor_name = state_backfill_walk(r.name);
    BackfillCounts counts;
    std::optional<long long> after, largest_with_row;
    {
        pqxx::read_transaction tx(connection);
        after = read_cursor(tx, cursor_name);
        auto row = tx.exec1("SELECT max(" + r.foreign_key + ") FROM " + r.states_table);
        if (!row[0].is_null())
            largest_with_row = row[0].as<long long>();
    }
    // One batch of the walk, from where the last run stopped, in the transaction that moves the
    // cursor past it.
    IdRanges walk(r, batch, after);
    std::pair<long long, long long> walked;
    {
        pqxx::work tx(connection);
        auto range = walk.next(tx);
        if (!range)
            return counts;
        backfill_range(tx, r, *range, counts);
        write_cursor(tx, cursor_name, walk.position());
        tx.commit();
        walked = *range;
    }
    // And one batch above the largest record that has a row, so that new records start at once
    // wherever the walk is; nothing is left above when the walk reached the end of the table.
    if (!walk.position() || !largest_with_row)
        return counts;
    IdRanges above(r, batch, std::max(*largest_with_row, walked.second));
    pqxx::work tx(connection);
    if (auto range = above.next(tx))
        backfill_range(tx, r, *range, counts);
    tx.commit();
    return counts;
}

long long mark_due_for_reverification(pqxx::connection& connection, const Replicable& r, std::chrono::seconds interval,
                                      int limit) {
    pqxx::work tx(connection);
    auto changed =
        tx.exec_params("UPDATE " + r.states_table + " g SET " +
                           transition::verification_pending(VerificationTable::states).set_list("g") + " WHERE " +
                           r.foreign_key + " IN (SELECT " + r.foreign_key + " FROM " + r.states_table +
                           " WHERE verification_state = " + sql::value(VerificationState::succeeded) +
                           " AND verified_at < now() - make_interval(secs => $1) ORDER BY verified_at LIMIT $2"
                           " FOR UPDATE SKIP LOCKED)",
                       static_cast<double>(interval.count()), limit)
            .affected_rows();
    tx.commit();
    return changed;
}

void create_missing_rows(pqxx::connection& connection, const Replicable& r, const std::vector<long long>& ids) {
    pqxx::work tx(connection);
    tx.exec_params(insert_missing_rows_sql(r, "m." + r.model_key + " = ANY($1::bigint[])"), bigint_array(ids));
    tx.commit();
}

long long record_verification_outcomes(pqxx::connection& connection, const Replicable& r, const std::string& claim_time,
                                       const std::vector<std::pair<long long, VerificationOutcome>>& outcomes,
                                       bool publish_events) {
    if (outcomes.empty())
        return 0;
    using P = Parameter;
    nlohmann::json succeeded = nlohmann::json::array(), failed = nlohmann::json::array();
    for (const auto& [id, o] : outcomes) {
        nlohmann::json row = {{parameter_name(P::id), id},
                              {parameter_name(P::checksum), json_or_null(o.checksum)},
                              {parameter_name(P::failure), json_or_null(o.failure)},
                              {parameter_name(P::retry_count), o.retry_count},
                              {parameter_name(P::retry_in), json_or_null(o.retry_in)}};
        (o.state == VerificationState::succeeded ? succeeded : failed).push_back(std::move(row));
    }
    const ClaimableWork& work = k_primary_verification;
    pqxx::work tx(connection);
    auto verified =
        record_claimed(tx, work, r, transition::verification_succeeded(VerificationTable::states), succeeded, claim_time);
    auto recorded = verified.size() + record_claimed(tx, work, r, transition::verification_failed(), failed, claim_time).size();
    record_where(tx, work, r, transition::verification_succeeded_while_restarted(VerificationTable::states), succeeded,
                 sql::verification_restarted(2), claim_time);
    // A repository verified has its objects checked too, on their own schedule.
    deep_checks::create_rows(tx, r, verified);
    if (publish_events) {
        nlohmann::json payloads = nlohmann::json::array();
        for (long long id : verified)
            payloads.push_back({{"model_record_id", id}});
        append_events(tx, r.name, EventName::checksum_succeeded, payloads);
    }
    tx.commit();
    return static_cast<long long>(recorded);
}

long long count_selection(pqxx::connection& connection, const Replicable& r, BulkSelection selection) {
    pqxx::read_transaction tx(connection);
    return tx.exec1("SELECT count(*) FROM " + r.states_table + " WHERE " + selection_predicate(selection))[0].as<long long>();
}

std::vector<long long> selection_ids(pqxx::connection& connection, const Replicable& r, BulkSelection selection,
                                     int limit) {
    pqxx::read_transaction tx(connection);
    std::vector<long long> out;
    for (const auto& row : tx.exec_params("SELECT " + r.foreign_key + " FROM " + r.states_table + " WHERE " +
                                              selection_predicate(selection) + " ORDER BY 1 LIMIT $1",
                                          limit))
        out.push_back(row[0].as<long long>());
    return out;
}

long long mark_selection(pqxx::connection& connection, const Replicable& r, BulkSelection selection, int batch,
                                 const std::function<void(long long)>& progress) {
    return update_in_batches(connection, r.states_table, r.foreign_key,
                             transition::verification_pending_bulk().set_list(""), selection_predicate(selection), batch,
                             progress);
}

long long mark_ids(pqxx::transaction_base& tx, const Replicable& r, const std::vector<long long>& ids, bool dry_run) {
    std::string array = bigint_array(ids);
    const std::string key = "m." + r.model_key;
    const std::string not_pending = "verification_state <> " + sql::value(VerificationState::pending);
    if (dry_run)
        return tx.exec_params1("SELECT (SELECT count(*) FROM " + r.states_table + " WHERE " + r.foreign_key +
                                   " = ANY($1::bigint[]) AND " + not_pending + ") + (SELECT count(*) FROM " +
                                   r.model_table + " m WHERE " + key + " = ANY($1::bigint[]) AND " + scope_predicate(r) +
                                   " AND NOT EXISTS (SELECT 1 FROM " + r.states_table + " s WHERE s." + r.foreign_key +
                                   " = " + key + "))",
                               array)[0]
            .as<long long>();
    long long changed =
        tx.exec_params("UPDATE " + r.states_table + " g SET " +
                           transition::verification_pending(VerificationTable::states).set_list("g") + " WHERE " +
                           r.foreign_key + " = ANY($1::bigint[]) AND " + not_pending,
                       array)
            .affected_rows();
    changed += tx.exec_params(insert_missing_rows_sql(r, key + " = ANY($1::bigint[])"), array).affected_rows();
    return changed;
}

}  // namespace geo_ssf::states_table
