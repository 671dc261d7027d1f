#include "db/registry_table.hpp"

#include "common/json.hpp"
#include "site/database.hpp"
#include "common/duration.hpp"
#include "db/model_table.hpp"
#include "db/run_lock.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <limits>

namespace geo_ssf::registry_table {

namespace {

std::vector<Claim> read_claims(const pqxx::result& rows) {
    std::vector<Claim> out;
    out.reserve(rows.size());
    for (const auto& row : rows)
        out.push_back({row[0].as<long long>(), row[1].as<long long>(), row[2].as<int16_t>(), row[3].as<int>()});
    std::sort(out.begin(), out.end(), [](const Claim& a, const Claim& b) { return a.id < b.id; });
    return out;
}

// Claims the rows DUE selects (fk, old_state): STATE_COLUMN = 1, CLAIM_COLUMN = $1.
std::string claim_sql(const Replicable& r, const std::string& due, const char* state_column, const char* claim_column,
                      const char* retry_column) {
    return "WITH due AS (" + due + ") UPDATE " + r.registry_table + " g SET " + state_column + " = 1, " + claim_column +
           " = $1::timestamptz FROM due WHERE g." + r.foreign_key + " = due.fk RETURNING g." + r.foreign_key +
           ", g.id, due.old_state, g." + retry_column;
}

std::string due_sql(const Replicable& r, const char* state_column, const std::string& predicate, const char* order,
                    const char* limit) {
    return "SELECT " + r.foreign_key + " AS fk, " + state_column + " AS old_state FROM " + r.registry_table + " WHERE " +
           predicate + " ORDER BY " + order + " ASC NULLS FIRST LIMIT " + limit + " FOR UPDATE SKIP LOCKED";
}

std::string ids_sql(const Replicable& r, const char* state_column, const char* not_started_predicate) {
    return "SELECT " + r.foreign_key + " AS fk, " + state_column + " AS old_state FROM " + r.registry_table + " WHERE " +
           r.foreign_key + " = ANY($2::bigint[]) AND " + not_started_predicate + " FOR UPDATE SKIP LOCKED";
}

void restore(pqxx::connection& geo, const Replicable& r, const char* state_column, const char* claim_column,
             const std::string& claim_time, const std::vector<Claim>& claims) {
    if (claims.empty())
        return;
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& c : claims)
        rows.push_back({{"id", c.id}, {"state", c.previous_state}});
    pqxx::work tx(geo);
    tx.exec_params(std::string("UPDATE ") + r.registry_table + " g SET " + state_column + " = o.state FROM "
                   "jsonb_to_recordset($1::jsonb) AS o(id bigint, state smallint) WHERE g." + r.foreign_key +
                   " = o.id AND g." + state_column + " = 1 AND g." + claim_column + " = $2::timestamptz",
                   rows.dump(), claim_time);
    tx.commit();
}

std::string mark_assignments(Mark mark) {
    return mark == Mark::sync_pending ? sql::sync_pending_assignments()
                                              : sql::verification_pending_assignments(true);
}

std::string selection_predicate(Mark mark, BulkSelection selection) {
    if (mark == Mark::sync_pending)
        return selection == BulkSelection::all ? "state <> 0" : "state = 3";
    // Verification applies to synced rows only (GitLab's verification_not_pending).
    return selection == BulkSelection::all ? "state = 2 AND verification_state <> 0"
                                               : "state = 2 AND verification_state = 3";
}

}  // namespace

long long insert_rows(pqxx::transaction_base& tx, const Replicable& r, const std::vector<long long>& ids) {
    if (ids.empty())
        return 0;
    return tx.exec_params("INSERT INTO " + r.registry_table + " (" + r.foreign_key + ", created_at) SELECT i, now() "
                          "FROM unnest($1::bigint[]) AS i ON CONFLICT DO NOTHING",
                          bigint_array(ids))
        .affected_rows();
}

std::vector<long long> ids_in_range(pqxx::transaction_base& tx, const Replicable& r, long long first,
                                             long long last) {
    std::vector<long long> out;
    for (const auto& row : tx.exec_params("SELECT " + r.foreign_key + " FROM " + r.registry_table + " WHERE " +
                                              r.foreign_key + " BETWEEN $1 AND $2 ORDER BY 1",
                                          first, last))
        out.push_back(row[0].as<long long>());
    return out;
}

std::optional<long long> largest_of_first_ids(pqxx::transaction_base& tx, const Replicable& r, long long count) {
    auto row = tx.exec_params1("SELECT max(" + r.foreign_key + ") FROM (SELECT " + r.foreign_key + " FROM " +
                                   r.registry_table + " ORDER BY 1 LIMIT $1) first_ids",
                               count);
    return row[0].is_null() ? std::nullopt : std::optional<long long>(row[0].as<long long>());
}

long long delete_rows(pqxx::transaction_base& tx, const Replicable& r, const std::vector<long long>& ids) {
    if (ids.empty())
        return 0;
    tx.exec_params("DELETE FROM geo_ssf_ref_differences WHERE registry_table = $1 AND record_id = ANY($2::bigint[])",
                   r.registry_table, bigint_array(ids));
    return tx.exec_params("DELETE FROM " + r.registry_table + " WHERE " + r.foreign_key + " = ANY($1::bigint[])",
                          bigint_array(ids))
        .affected_rows();
}

std::vector<long long> registered_ids(pqxx::transaction_base& tx, const Replicable& r, const std::vector<long long>& ids) {
    std::vector<long long> out;
    for (const auto& row : tx.exec_params("SELECT " + r.foreign_key + " FROM " + r.registry_table + " WHERE " +
                                              r.foreign_key + " = ANY($1::bigint[]) ORDER BY 1",
                                          bigint_array(ids)))
        out.push_back(row[0].as<long long>());
    return out;
}

long long release_abandoned_syncs(pqxx::connection& geo, const Replicable& r, const std::string& own_claim_time) {
    return release_abandoned_rows(geo, r.registry_table, "state", "last_synced_at", "state = 0", own_claim_time);
}

long long release_abandoned_verifications(pqxx::connection& geo, const Replicable& r,
                                                   const std::string& own_claim_time) {
    return release_abandoned_rows(geo, r.registry_table, "verification_state", "verification_started_at",
                                  "verification_state = 0", own_claim_time);
}

long long fail_timed_out_syncs(pqxx::connection& geo, const Replicable& r, std::chrono::seconds timeout) {
    pqxx::work tx(geo);
    auto changed = tx.exec_params("UPDATE " + r.registry_table + " SET state = 3, last_sync_failure = $1,"
                                  " retry_count = 1, retry_at = now() + make_interval(secs => $2) WHERE " +
                                      sql::started_before_sql("state", "last_synced_at", 3),
                                  timed_out_failure("Sync", timeout),
                                  static_cast<double>(retry_delay(1).count()), static_cast<double>(timeout.count()))
                       .affected_rows();
    tx.commit();
    return changed;
}

long long fail_timed_out_verifications(pqxx::connection& geo, const Replicable& r, std::chrono::seconds timeout) {
    std::string failure = timed_out_failure("Verification", timeout);
    pqxx::work tx(geo);
    auto changed =
        tx.exec_params("UPDATE " + r.registry_table + " SET " + sql::k_verification_timed_out_assignments +
                           ", state = 3, last_sync_failure = $3, retry_count = 1,"
                           " retry_at = now() + make_interval(secs => $2) WHERE state = 2 AND " +
                           sql::started_before_sql("verification_state", "verification_started_at", 4),
                       failure, static_cast<double>(retry_delay(1).count()),
                       truncate_failure("Verification failed with: " + failure), static_cast<double>(timeout.count()))
            .affected_rows();
    tx.commit();
    return changed;
}

std::vector<Claim> claim_due_syncs(pqxx::connection& geo, const Replicable& r, const std::string& claim_time,
                                           int limit) {
    pqxx::work tx(geo);
    auto claimed = read_claims(tx.exec_params(
        claim_sql(r, due_sql(r, "state", sql::k_sync_pending, "id", "$2"), "state", "last_synced_at", "retry_count"),
        claim_time, limit));
    if (static_cast<int>(claimed.size()) < limit) {
        auto failed = read_claims(tx.exec_params(
            claim_sql(r, due_sql(r, "state", sql::k_sync_failed_and_due, "retry_at", "$2"), "state", "last_synced_at",
                      "retry_count"),
            claim_time, limit - static_cast<int>(claimed.size())));
        claimed.insert(claimed.end(), failed.begin(), failed.end());
    }
    tx.commit();
    return claimed;
}

long long count_due_syncs(pqxx::connection& geo, const Replicable& r) {
    pqxx::read_transaction tx(geo);
    return tx.exec1("SELECT count(*) FROM " + r.registry_table + " WHERE (" + sql::k_sync_pending + ") OR (" +
                    sql::k_sync_failed_and_due + ")")[0]
        .as<long long>();
}

std::vector<Claim> claim_syncs(pqxx::connection& geo, const Replicable& r, const std::string& claim_time,
                                       const std::vector<long long>& ids) {
    pqxx::work tx(geo);
    auto claimed = read_claims(tx.exec_params(claim_sql(r, ids_sql(r, "state", "state <> 1"), "state", "last_synced_at",
                                                        "retry_count"),
                                              claim_time, bigint_array(ids)));
    tx.commit();
    return claimed;
}

long long record_sync_outcomes(pqxx::connection& geo, const Replicable& r, const std::string& claim_time,
                               const std::vector<std::pair<long long, SyncOutcome>>& outcomes,
                               const std::vector<long long>& primary_verified) {
    if (outcomes.empty())
        return 0;
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& [id, o] : outcomes) {
        bool verified = std::binary_search(primary_verified.begin(), primary_verified.end(), id);
        rows.push_back({{"id", id},
                        {"state", static_cast<int>(o.state)},
                        {"failure", json_or_null(o.failure)},
                        {"retry_count", o.retry_count},
                        {"retry_in", json_or_null(o.retry_in)},
                        {"missing", o.missing_on_primary},
                        {"verify", o.state == SyncState::synced && verified}});
    }
    pqxx::work tx(geo);
    const std::string outcome = "jsonb_to_recordset($1::jsonb) AS o(id bigint, state smallint, failure text, "
                                "retry_count integer, retry_in double precision, missing boolean, verify boolean)";
    const std::string mine = " AND g.state = 1 AND g.last_synced_at = $2::timestamptz";
    long long recorded = 0;
    // Synced, and the primary has verified it: verification pending.
    recorded += tx.exec_params("UPDATE " + r.registry_table + " g SET state = 2, retry_count = 0, retry_at = NULL,"
                               " last_sync_failure = NULL, missing_on_primary = o.missing, " +
                                   sql::verification_pending_assignments(true) + " FROM " + outcome + " WHERE g." +
                                   r.foreign_key + " = o.id AND o.state = 2 AND o.verify" + mine,
                               rows.dump(), claim_time)
                    .affected_rows();
    // Synced, but there is no primary checksum to compare with yet: verification disabled.
    recorded += tx.exec_params("UPDATE " + r.registry_table + " g SET state = 2, retry_count = 0, retry_at = NULL,"
                               " last_sync_failure = NULL, missing_on_primary = o.missing, verification_state = 4"
                               " FROM " + outcome + " WHERE g." + r.foreign_key + " = o.id AND o.state = 2 AND NOT o.verify" +
                                   mine,
                               rows.dump(), claim_time)
                    .affected_rows();
    recorded += tx.exec_params("UPDATE " + r.registry_table + " g SET state = 3, retry_count = o.retry_count,"
                               " retry_at = now() + make_interval(secs => o.retry_in), last_sync_failure = o.failure"
                               " FROM " + outcome + " WHERE g." + r.foreign_key + " = o.id AND o.state = 3" + mine,
                               rows.dump(), claim_time)
                    .affected_rows();
    // Synced, but marked pending meanwhile (a resync, an updated event): it stays pending, a
    // fresh start without the retries and failure of before, as GitLab's synced! leaves it.
    tx.exec_params("UPDATE " + r.registry_table + " g SET retry_count = 0, retry_at = NULL, last_sync_failure = NULL,"
                   " missing_on_primary = o.missing FROM " + outcome + " WHERE g." + r.foreign_key +
                       " = o.id AND o.state = 2 AND g.state = 0 AND g.last_synced_at = $2::timestamptz",
                   rows.dump(), claim_time);
    tx.commit();
    return recorded;
}

void restore_claimed_syncs(pqxx::connection& geo, const Replicable& r, const std::string& claim_time,
                           const std::vector<Claim>& claims) {
    restore(geo, r, "state", "last_synced_at", claim_time, claims);
}

std::vector<Claim> claim_due_verifications(pqxx::connection& geo, const Replicable& r,
                                                            const std::string& claim_time, int limit) {
    pqxx::work tx(geo);
    auto claimed = read_claims(tx.exec_params(
        claim_sql(r, due_sql(r, "verification_state", std::string("state = 2 AND ") + sql::k_verification_pending,
                             "verified_at", "$2"),
                  "verification_state", "verification_started_at", "verification_retry_count"),
        claim_time, limit));
    if (static_cast<int>(claimed.size()) < limit) {
        auto failed = read_claims(tx.exec_params(
            claim_sql(r, due_sql(r, "verification_state",
                                 std::string("state = 2 AND ") + sql::k_verification_failed_and_due,
                                 "verification_retry_at", "$2"),
                      "verification_state", "verification_started_at", "verification_retry_count"),
            claim_time, limit - static_cast<int>(claimed.size())));
        claimed.insert(claimed.end(), failed.begin(), failed.end());
    }
    tx.commit();
    return claimed;
}

long long count_due_verifications(pqxx::connection& geo, const Replicable& r) {
    pqxx::read_transaction tx(geo);
    return tx.exec1("SELECT count(*) FROM " + r.registry_table + " WHERE state = 2 AND ((" +
                    sql::k_verification_pending + ") OR (" + sql::k_verification_failed_and_due + "))")[0]
        .as<long long>();
}

std::vector<Claim> claim_verifications(pqxx::connection& geo, const Replicable& r,
                                                        const std::string& claim_time, const std::vector<long long>& ids) {
    pqxx::work tx(geo);
    auto claimed = read_claims(tx.exec_params(
        claim_sql(r, ids_sql(r, "verification_state", "state = 2 AND verification_state <> 1"), "verification_state",
                  "verification_started_at", "verification_retry_count"),
        claim_time, bigint_array(ids)));
    tx.commit();
    return claimed;
}

namespace {

// The refs that differ after this batch's mismatches replace what earlier verifications found;
// any other outcome leaves none.
void record_ref_differences(pqxx::transaction_base& tx, const Replicable& r, const std::string& rows,
                            const std::string& outcome) {
    tx.exec_params("DELETE FROM geo_ssf_ref_differences d USING " + outcome +
                       " WHERE d.registry_table = $2 AND d.record_id = o.id",
                   rows, r.registry_table);
    tx.exec_params("INSERT INTO geo_ssf_ref_differences (registry_table, record_id, differences) SELECT $2, o.id, "
                   "o.differences FROM " + outcome + " WHERE o.differences IS NOT NULL",
                   rows, r.registry_table);
}

}  // namespace

long long record_verification_outcomes(
    pqxx::connection& geo, const Replicable& r, const std::string& claim_time,
    const std::vector<std::pair<long long, RegistryVerificationOutcome>>& outcomes) {
    if (outcomes.empty())
        return 0;
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& [id, o] : outcomes)
        rows.push_back({{"id", id},
                        {"state", static_cast<int>(o.state)},
                        {"checksum", json_or_null(o.checksum)},
                        {"failure", json_or_null(o.failure)},
                        {"retry_count", o.retry_count},
                        {"retry_in", json_or_null(o.retry_in)},
                        {"mismatch", o.checksum_mismatch},
                        {"mismatched", json_or_null(o.checksum_mismatched)},
                        {"resync", o.resync},
                        {"sync_retry_count", o.sync_retry_count},
                        {"sync_retry_in", json_or_null(o.sync_retry_in)},
                        {"sync_failure", json_or_null(o.sync_failure)},
                        {"differences", o.ref_differences ? nlohmann::json(truncate_utf8(*o.ref_differences, 1000))
                                                          : nlohmann::json(nullptr)}});
    pqxx::work tx(geo);
    const std::string outcome =
        "jsonb_to_recordset($1::jsonb) AS o(id bigint, state smallint, checksum text, failure text, retry_count integer,"
        " retry_in double precision, mismatch boolean, mismatched text, resync boolean, sync_retry_count integer,"
        " sync_retry_in double precision, sync_failure text, differences text)";
    const std::string mine = " AND g.verification_state = 1 AND g.verification_started_at = $2::timestamptz";
    long long recorded = 0;
    recorded += tx.exec_params("UPDATE " + r.registry_table + " g SET verification_state = 4 FROM " + outcome +
                                   " WHERE g." + r.foreign_key + " = o.id AND o.state = 4" + mine,
                               rows.dump(), claim_time)
                    .affected_rows();
    recorded += tx.exec_params(
                      "UPDATE " + r.registry_table + " g SET verification_state = o.state,"
                      " verification_checksum = decode(o.checksum, 'hex'), verification_failure = o.failure,"
                      " verification_retry_count = o.retry_count,"
                      " verification_retry_at = now() + make_interval(secs => o.retry_in), verified_at = now(),"
                      " checksum_mismatch = o.mismatch, verification_checksum_mismatched = decode(o.mismatched, 'hex'),"
                      " state = CASE WHEN o.resync THEN 3 ELSE g.state END,"
                      " retry_count = CASE WHEN o.resync THEN o.sync_retry_count ELSE g.retry_count END,"
                      " retry_at = CASE WHEN o.resync THEN now() + make_interval(secs => o.sync_retry_in) ELSE g.retry_at END,"
                      " last_sync_failure = CASE WHEN o.resync THEN o.sync_failure ELSE g.last_sync_failure END"
                      " FROM " + outcome + " WHERE g." + r.foreign_key + " = o.id AND o.state IN (2, 3)" + mine,
                      rows.dump(), claim_time)
                    .affected_rows();
    tx.exec_params("UPDATE " + r.registry_table + " g SET " + sql::k_restarted_checksum_assignments +
                       ", checksum_mismatch = false, verification_checksum_mismatched = NULL FROM " + outcome +
                       " WHERE g." + r.foreign_key + " = o.id AND o.state = 2 AND " + sql::k_verification_restarted,
                   rows.dump(), claim_time);
    record_ref_differences(tx, r, rows.dump(), outcome);
    tx.commit();
    return recorded;
}

void restore_claimed_verifications(pqxx::connection& geo, const Replicable& r, const std::string& claim_time,
                                            const std::vector<Claim>& claims) {
    restore(geo, r, "verification_state", "verification_started_at", claim_time, claims);
}

long long count_selection(pqxx::connection& geo, const Replicable& r, Mark mark,
                                   BulkSelection selection) {
    pqxx::read_transaction tx(geo);
    return tx.exec1("SELECT count(*) FROM " + r.registry_table + " WHERE " + selection_predicate(mark, selection))[0]
        .as<long long>();
}

std::vector<long long> selection_ids(pqxx::connection& geo, const Replicable& r, Mark mark, BulkSelection selection,
                                     int limit) {
    pqxx::read_transaction tx(geo);
    std::vector<long long> out;
    for (const auto& row : tx.exec_params("SELECT " + r.foreign_key + " FROM " + r.registry_table + " WHERE " +
                                              selection_predicate(mark, selection) + " ORDER BY 1 LIMIT $1",
                                          limit))
        out.push_back(row[0].as<long long>());
    return out;
}

long long mark_selection(pqxx::connection& geo, const Replicable& r, Mark mark,
                                  BulkSelection selection, int batch, const std::function<void(long long)>& progress) {
    const char* assignments = mark == Mark::sync_pending ? sql::k_bulk_sync_pending_assignments
                                                         : sql::k_bulk_verification_pending_assignments;
    return update_in_batches(geo, r.registry_table, "id", assignments, selection_predicate(mark, selection), batch,
                             progress);
}

long long mark_ids(pqxx::transaction_base& tx, const Replicable& r, Mark mark,
                            const std::vector<long long>& ids, bool dry_run) {
    std::string array = bigint_array(ids);
    std::string predicate = mark == Mark::sync_pending ? "state <> 0" : "state = 2 AND verification_state <> 0";
    long long changed = 0;
    if (dry_run)
        changed = tx.exec_params1("SELECT count(*) FROM " + r.registry_table + " WHERE " + r.foreign_key +
                                      " = ANY($1::bigint[]) AND " + predicate,
                                  array)[0]
                      .as<long long>();
    else
        changed = tx.exec_params("UPDATE " + r.registry_table + " SET " + mark_assignments(mark) + " WHERE " +
                                     r.foreign_key + " = ANY($1::bigint[]) AND " + predicate,
                                 array)
                      .affected_rows();
    if (mark == Mark::sync_pending) {
        auto have = registered_ids(tx, r, ids);
        std::vector<long long> missing;
        for (long long id : ids)
            if (!std::binary_search(have.begin(), have.end(), id))
                missing.push_back(id);
        changed += dry_run ? static_cast<long long>(missing.size()) : insert_rows(tx, r, missing);
    }
    return changed;
}

}  // namespace geo_ssf::registry_table
