#include "db/states_table.hpp"

#include "common/json.hpp"
#include "db/cursors.hpp"
#include "db/event_log.hpp"
#include "site/database.hpp"
#include "common/duration.hpp"
#include "db/model_table.hpp"
#include "db/run_lock.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace geo_ssf::states_table {

namespace {

std::vector<Claim> read_claims(const Replicable& replicable, const pqxx::result& rows) {
    std::vector<Claim> out;
    out.reserve(rows.size());
    for (const auto& row : rows) {
        Claim c;
        c.id = row[0].as<long long>();
        c.previous_state = row[1].as<int16_t>();
        c.retry_count = row[2].as<int>();
        try {
            c.relative_path = repository_path_of(replicable, row, 3);
        } catch (const std::exception& e) {
            c.path_error = e.what();
        }
        out.push_back(std::move(c));
    }
    std::sort(out.begin(), out.end(), [](const Claim& a, const Claim& b) { return a.id < b.id; });
    return out;
}

// UPDATE ... RETURNING for the rows DUE_SQL selects (a query returning fk and the old state).
std::string claim_sql(const Replicable& r, const std::string& due_sql) {
    return "WITH due AS (" + due_sql + ") "
           "UPDATE " + r.states_table + " s SET " + sql::verification_started_assignments("$1::timestamptz") +
           " FROM due JOIN " + r.model_table + " m ON m." + r.model_key + " = due.fk"
           " WHERE s." + r.foreign_key + " = due.fk"
           " RETURNING s." + r.foreign_key + ", due.old_state, s.verification_retry_count, " +
           repository_path_columns_sql(r, "m");
}

std::string due_sql(const Replicable& r, const char* predicate, const char* order_column, const std::string& limit) {
    return "SELECT " + r.foreign_key + " AS fk, verification_state AS old_state FROM " + r.states_table + " WHERE " +
           predicate + " ORDER BY " + order_column + " ASC NULLS FIRST LIMIT " + limit + " FOR UPDATE SKIP LOCKED";
}

std::string selection_predicate(BulkSelection selection) {
    return selection == BulkSelection::all ? "verification_state <> 0" : "verification_state = 3";
}

}  // namespace

namespace {

// Creates the missing state rows of the records in scope in [FIRST, LAST] and deletes the rows
// of records there that left the scope, in TX.
void backfill_range(pqxx::work& tx, const Replicable& r, std::pair<long long, long long> range, BackfillCounts& counts) {
    const std::string key = "m." + r.model_key;
    counts.created +=
        tx.exec_params("INSERT INTO " + r.states_table + " (" + r.foreign_key + ") SELECT " + key + " FROM " +
                           r.model_table + " m WHERE " + key + " BETWEEN $1 AND $2 AND " + scope_predicate(r) +
                           " AND NOT EXISTS (SELECT 1 FROM " + r.states_table + " s WHERE s." + r.foreign_key +
                           " = " + key + ") ON CONFLICT DO NOTHING",
                       range.first, range.second)
            .affected_rows();
    if (!r.scope.empty())
        counts.deleted += tx.exec_params("DELETE FROM " + r.states_table + " s USING " + r.model_table +
                                             " m WHERE " + key + " = s." + r.foreign_key + " AND " + key +
                                             " BETWEEN $1 AND $2 AND NOT " + scope_predicate_of(r, "m"),
                                         range.first, range.second)
                              .affected_rows();
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
    auto changed = tx.exec_params("UPDATE " + r.states_table + " SET " + sql::verification_pending_assignments(false) +
                                      " WHERE " + r.foreign_key + " IN (SELECT " + r.foreign_key + " FROM " +
                                      r.states_table + " WHERE verification_state = 2 AND verified_at < now() - "
                                      "make_interval(secs => $1) ORDER BY verified_at LIMIT $2 FOR UPDATE SKIP LOCKED)",
                                  static_cast<double>(interval.count()), limit)
                       .affected_rows();
    tx.commit();
    return changed;
}

long long fail_timed_out_verifications(pqxx::connection& connection, const Replicable& r, std::chrono::seconds timeout) {
    pqxx::work tx(connection);
    auto changed =
        tx.exec_params("UPDATE " + r.states_table + " SET " + sql::k_verification_timed_out_assignments + " WHERE " +
                           sql::started_before_sql("verification_state", "verification_started_at", 3),
                       timed_out_failure("Verification", timeout),
                       static_cast<double>(retry_delay(1).count()), static_cast<double>(timeout.count()))
            .affected_rows();
    tx.commit();
    return changed;
}

long long release_abandoned_verifications(pqxx::connection& connection, const Replicable& r,
                                          const std::string& own_claim_time) {
    // Back to pending, keeping the retry count, so this very run verifies them.
    return release_abandoned_rows(connection, r.states_table, "verification_state", "verification_started_at",
                                  "verification_state = 0", own_claim_time);
}

std::vector<Claim> claim_due_verifications(pqxx::connection& connection, const Replicable& r,
                                                   const std::string& claim_time, int limit) {
    pqxx::work tx(connection);
    auto claimed = read_claims(
        r, tx.exec_params(claim_sql(r, due_sql(r, sql::k_verification_pending, "verified_at", "$2")), claim_time, limit));
    if (static_cast<int>(claimed.size()) < limit) {
        auto failed = read_claims(
            r, tx.exec_params(claim_sql(r, due_sql(r, sql::k_verification_failed_and_due, "verification_retry_at", "$2")),
                              claim_time, limit - static_cast<int>(claimed.size())));
        claimed.insert(claimed.end(), failed.begin(), failed.end());
    }
    tx.commit();
    return claimed;
}

long long count_due_verifications(pqxx::connection& connection, const Replicable& r) {
    pqxx::read_transaction tx(connection);
    return tx.exec1("SELECT count(*) FROM " + r.states_table + " WHERE (" + sql::k_verification_pending + ") OR (" +
                    sql::k_verification_failed_and_due + ")")[0]
        .as<long long>();
}

std::vector<Claim> claim_verifications(pqxx::connection& connection, const Replicable& r,
                                               const std::string& claim_time, const std::vector<long long>& ids) {
    pqxx::work tx(connection);
    const std::string key = "m." + r.model_key;
    tx.exec_params("INSERT INTO " + r.states_table + " (" + r.foreign_key + ") SELECT " + key + " FROM " + r.model_table +
                       " m WHERE " + key + " = ANY($1::bigint[]) AND " + scope_predicate(r) + " ON CONFLICT DO NOTHING",
                   bigint_array(ids));
    // A row already started belongs to a live run (or to a dead one the next verify releases).
    auto claimed = read_claims(
        r, tx.exec_params(claim_sql(r, "SELECT " + r.foreign_key + " AS fk, verification_state AS old_state FROM " +
                                           r.states_table + " WHERE " + r.foreign_key +
                                           " = ANY($2::bigint[]) AND verification_state <> 1 FOR UPDATE SKIP LOCKED"),
                          claim_time, bigint_array(ids)));
    tx.commit();
    return claimed;
}

long long record_verification_outcomes(pqxx::connection& connection, const Replicable& r, const std::string& claim_time,
                                       const std::vector<std::pair<long long, VerificationOutcome>>& outcomes,
                                       bool publish_events) {
    if (outcomes.empty())
        return 0;
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& [id, o] : outcomes) {
        nlohmann::json row = {{"id", id}, {"state", static_cast<int>(o.state)}, {"retry_count", o.retry_count}};
        row["checksum"] = json_or_null(o.checksum);
        row["failure"] = json_or_null(o.failure);
        row["retry_in"] = json_or_null(o.retry_in);
        rows.push_back(std::move(row));
    }
    pqxx::work tx(connection);
    auto recorded = tx.exec_params(
        "WITH outcome AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS o(id bigint, state smallint, checksum text,"
        " failure text, retry_count integer, retry_in double precision))"
        " UPDATE " + r.states_table + " s SET verification_state = o.state,"
        " verification_checksum = decode(o.checksum, 'hex'), verification_failure = o.failure,"
        " verification_retry_count = o.retry_count,"
        " verification_retry_at = now() + make_interval(secs => o.retry_in), verified_at = now()"
        " FROM outcome o WHERE s." + r.foreign_key + " = o.id AND s.verification_state = 1"
        " AND s.verification_started_at = $2::timestamptz RETURNING s." + r.foreign_key + ", s.verification_state",
        rows.dump(), claim_time);
    tx.exec_params("UPDATE " + r.states_table + " s SET " + sql::k_restarted_checksum_assignments +
                       " FROM jsonb_to_recordset($1::jsonb) AS o(id bigint, state smallint, checksum text)"
                       " WHERE s." + r.foreign_key + " = o.id AND o.state = 2 AND " + sql::k_verification_restarted,
                   rows.dump(), claim_time);
    if (publish_events) {
        std::vector<long long> succeeded;
        for (const auto& row : recorded)
            if (row[1].as<int>() == static_cast<int>(VerificationState::succeeded))
                succeeded.push_back(row[0].as<long long>());
        std::sort(succeeded.begin(), succeeded.end());
        nlohmann::json payloads = nlohmann::json::array();
        for (long long id : succeeded)
            payloads.push_back({{"model_record_id", id}});
        append_events(tx, r.name, EventName::checksum_succeeded, payloads);
    }
    tx.commit();
    return static_cast<long long>(recorded.size());
}

void restore_claimed_verifications(pqxx::connection& connection, const Replicable& r, const std::string& claim_time,
                     const std::vector<Claim>& records) {
    if (records.empty())
        return;
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& c : records)
        rows.push_back({{"id", c.id}, {"state", c.previous_state}});
    pqxx::work tx(connection);
    tx.exec_params("UPDATE " + r.states_table + " s SET verification_state = o.state FROM jsonb_to_recordset($1::jsonb)"
                   " AS o(id bigint, state smallint) WHERE s." + r.foreign_key + " = o.id AND s.verification_state = 1"
                   " AND s.verification_started_at = $2::timestamptz",
                   rows.dump(), claim_time);
    tx.commit();
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
    return update_in_batches(connection, r.states_table, r.foreign_key, sql::k_bulk_verification_pending_assignments,
                             selection_predicate(selection), batch, progress);
}

long long mark_ids(pqxx::transaction_base& tx, const Replicable& r, const std::vector<long long>& ids,
                           bool dry_run) {
    std::string array = bigint_array(ids);
    const std::string key = "m." + r.model_key;
    if (dry_run)
        return tx.exec_params1("SELECT (SELECT count(*) FROM " + r.states_table + " WHERE " + r.foreign_key +
                                   " = ANY($1::bigint[]) AND verification_state <> 0) + (SELECT count(*) FROM " +
                                   r.model_table + " m WHERE " + key + " = ANY($1::bigint[]) AND " + scope_predicate(r) +
                                   " AND NOT EXISTS (SELECT 1 FROM " + r.states_table + " s WHERE s." + r.foreign_key +
                                   " = " + key + "))",
                               array)[0]
            .as<long long>();
    long long changed = tx.exec_params("UPDATE " + r.states_table + " SET " + sql::verification_pending_assignments(false) +
                                           " WHERE " + r.foreign_key + " = ANY($1::bigint[]) AND verification_state <> 0",
                                       array)
                            .affected_rows();
    changed += tx.exec_params("INSERT INTO " + r.states_table + " (" + r.foreign_key + ") SELECT " + key + " FROM " +
                                  r.model_table + " m WHERE " + key + " = ANY($1::bigint[]) AND " + scope_predicate(r) +
                                  " ON CONFLICT DO NOTHING",
                              array)
                   .affected_rows();
    return changed;
}

}  // namespace geo_ssf::states_table
