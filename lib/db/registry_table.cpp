#include "db/registry_table.hpp"

#include "common/json.hpp"
#include "db/batches.hpp"
#include "db/deep_checks.hpp"
#include "db/housekeeping_table.hpp"
#include "db/model_table.hpp"
#include "db/replication_lags.hpp"
#include "db/transitions.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace geo_ssf::registry_table {

namespace {

using P = Parameter;

std::string selection_predicate(Mark mark, BulkSelection selection) {
    if (mark == Mark::sync_pending)
        return selection == BulkSelection::all ? "state <> " + sql::value(SyncState::pending)
                                               : "state = " + sql::value(SyncState::failed);
    // Verification applies to synced rows only (GitLab's verification_not_pending).
    return sql::registry_synced() + " AND verification_state " +
           (selection == BulkSelection::all ? "<> " + sql::value(VerificationState::pending)
                                            : "= " + sql::value(VerificationState::failed));
}

// The rows a mark of IDS changes: those not already marked.
std::string marked_by_id_predicate(Mark mark) {
    if (mark == Mark::sync_pending)
        return "state <> " + sql::value(SyncState::pending);
    return sql::registry_synced() + " AND verification_state <> " + sql::value(VerificationState::pending);
}

Transition mark_transition(Mark mark) {
    return mark == Mark::sync_pending ? transition::sync_pending()
                                      : transition::verification_pending(VerificationTable::registry);
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

void create_rows(pqxx::connection& geo, const Replicable& r, const std::vector<long long>& ids) {
    pqxx::work tx(geo);
    insert_rows(tx, r, ids);
    tx.commit();
}

std::optional<long long> largest_id(pqxx::transaction_base& tx, const Replicable& r) {
    auto row = tx.exec1("SELECT max(" + r.foreign_key + ") FROM " + r.registry_table);
    return row[0].is_null() ? std::nullopt : std::optional<long long>(row[0].as<long long>());
}

std::vector<long long> ids_in_range(pqxx::transaction_base& tx, const Replicable& r, long long first, long long last) {
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
    deep_checks::delete_rows(tx, r, ids);
    housekeeping_table::delete_rows(tx, r, ids);
    long long deleted = tx.exec_params("DELETE FROM " + r.registry_table + " WHERE " + r.foreign_key +
                                           " = ANY($1::bigint[])",
                                       bigint_array(ids))
                            .affected_rows();
    // After the registry rows, whose locks a run recording them takes first.
    replication_lags::forget(tx, r, ids);
    return deleted;
}

long long count_counted_for_removal(pqxx::transaction_base& tx, const Replicable& r,
                                    const std::optional<std::vector<long long>>& ids) {
    if (!ids)
        return tx.exec1("SELECT count(*) FROM " + r.registry_table + " WHERE NOT missing_on_primary")[0].as<long long>();
    if (ids->empty())
        return 0;
    return tx.exec_params1("SELECT count(*) FROM " + r.registry_table + " WHERE " + r.foreign_key +
                               " = ANY($1::bigint[]) AND NOT missing_on_primary",
                           bigint_array(*ids))[0]
        .as<long long>();
}

std::vector<long long> registered_ids(pqxx::transaction_base& tx, const Replicable& r, const std::vector<long long>& ids) {
    std::vector<long long> out;
    for (const auto& row : tx.exec_params("SELECT " + r.foreign_key + " FROM " + r.registry_table + " WHERE " +
                                              r.foreign_key + " = ANY($1::bigint[]) ORDER BY 1",
                                          bigint_array(ids)))
        out.push_back(row[0].as<long long>());
    return out;
}

long long record_sync_outcomes(pqxx::connection& geo, const Replicable& r, const std::string& claim_time,
                               const std::vector<std::pair<long long, SyncOutcome>>& outcomes,
                               const std::vector<long long>& primary_verified) {
    if (outcomes.empty())
        return 0;
    // One statement per transition, each given the outcomes it records.
    nlohmann::json verified = nlohmann::json::array(), unverified = nlohmann::json::array(),
                   synced = nlohmann::json::array(), failed = nlohmann::json::array();
    for (const auto& [id, o] : outcomes) {
        nlohmann::json row = {{parameter_name(P::id), id},
                              {parameter_name(P::failure), json_or_null(o.failure)},
                              {parameter_name(P::retry_count), o.retry_count},
                              {parameter_name(P::retry_in), json_or_null(o.retry_in)},
                              {parameter_name(P::missing_on_primary), o.missing_on_primary}};
        if (o.state != SyncState::synced) {
            failed.push_back(std::move(row));
            continue;
        }
        synced.push_back(row);
        bool checksummed = std::binary_search(primary_verified.begin(), primary_verified.end(), id);
        (checksummed ? verified : unverified).push_back(std::move(row));
    }
    pqxx::work tx(geo);
    const ClaimableWork& work = k_registry_sync;
    auto synced_ids = record_claimed(tx, work, r, transition::sync_succeeded(true), verified, claim_time);
    auto unverified_ids = record_claimed(tx, work, r, transition::sync_succeeded(false), unverified, claim_time);
    synced_ids.insert(synced_ids.end(), unverified_ids.begin(), unverified_ids.end());
    long long recorded = static_cast<long long>(synced_ids.size());
    recorded += static_cast<long long>(record_claimed(tx, work, r, transition::sync_failed(), failed, claim_time).size());
    // The copies fetched into: their housekeeping is due, and their objects are to be checked.
    std::vector<long long> fetched, cloned;
    for (const auto& [id, o] : outcomes) {
        if (o.state != SyncState::synced || o.missing_on_primary ||
            std::find(synced_ids.begin(), synced_ids.end(), id) == synced_ids.end())
            continue;
        fetched.push_back(id);
        if (o.cloned)
            cloned.push_back(id);
    }
    std::sort(fetched.begin(), fetched.end());
    std::sort(cloned.begin(), cloned.end());
    deep_checks::create_rows(tx, r, fetched);
    if (r.housekeeping_enabled)
        housekeeping_table::request(tx, r, fetched, cloned);
    record_where(tx, work, r, transition::sync_succeeded_while_pending(), synced,
                 "g.state = " + sql::value(SyncState::pending) + " AND g.last_synced_at = $2::timestamptz", claim_time);
    replication_lags::note_synced(tx, r, synced_ids);
    tx.commit();
    return recorded;
}

namespace {

// The refs that differ after this batch's mismatches replace what earlier verifications found;
// any other outcome leaves none.
void record_ref_differences(pqxx::transaction_base& tx, const Replicable& r,
                            const std::vector<std::pair<long long, RegistryVerificationOutcome>>& outcomes) {
    std::vector<long long> ids;
    nlohmann::json differences = nlohmann::json::array();
    for (const auto& [id, o] : outcomes) {
        ids.push_back(id);
        if (o.ref_differences)
            differences.push_back({{"id", id}, {"differences", truncate_utf8(*o.ref_differences, 1000)}});
    }
    tx.exec_params("DELETE FROM geo_ssf_ref_differences WHERE registry_table = $1 AND record_id = ANY($2::bigint[])",
                   r.registry_table, bigint_array(ids));
    tx.exec_params("INSERT INTO geo_ssf_ref_differences (registry_table, record_id, differences) SELECT $2, d.id, "
                   "d.differences FROM jsonb_to_recordset($1::jsonb) AS d(id bigint, differences text)",
                   differences.dump(), r.registry_table);
}

}  // namespace

long long record_verification_outcomes(
    pqxx::connection& geo, const Replicable& r, const std::string& claim_time,
    const std::vector<std::pair<long long, RegistryVerificationOutcome>>& outcomes) {
    if (outcomes.empty())
        return 0;
    nlohmann::json disabled = nlohmann::json::array(), succeeded = nlohmann::json::array(),
                   failed = nlohmann::json::array(), failed_without_resync = nlohmann::json::array();
    for (const auto& [id, o] : outcomes) {
        nlohmann::json row = {{parameter_name(P::id), id},
                              {parameter_name(P::checksum), json_or_null(o.checksum)},
                              {parameter_name(P::failure), json_or_null(o.failure)},
                              {parameter_name(P::retry_count), o.retry_count},
                              {parameter_name(P::retry_in), json_or_null(o.retry_in)},
                              {parameter_name(P::checksum_mismatch), o.checksum_mismatch},
                              {parameter_name(P::mismatched_checksum), json_or_null(o.checksum_mismatched)},
                              {parameter_name(P::sync_retry_count), o.sync_retry_count},
                              {parameter_name(P::sync_retry_in), json_or_null(o.sync_retry_in)},
                              {parameter_name(P::sync_failure), json_or_null(o.sync_failure)}};
        if (o.state == VerificationState::disabled)
            disabled.push_back(std::move(row));
        else if (o.state == VerificationState::succeeded)
            succeeded.push_back(std::move(row));
        else if (o.resync)
            failed.push_back(std::move(row));
        else
            failed_without_resync.push_back(std::move(row));
    }
    const ClaimableWork& work = k_registry_verification;
    pqxx::work tx(geo);
    long long recorded = 0;
    recorded += static_cast<long long>(
        record_claimed(tx, work, r, transition::verification_disabled(), disabled, claim_time).size());
    auto verified_ids = record_claimed(tx, work, r, transition::verification_succeeded(VerificationTable::registry),
                                       succeeded, claim_time);
    recorded += static_cast<long long>(verified_ids.size());
    recorded += static_cast<long long>(
        record_claimed(tx, work, r, transition::registry_verification_failed(), failed, claim_time).size());
    recorded += static_cast<long long>(record_claimed(tx, work, r,
                                                      transition::registry_verification_failed_without_resync(),
                                                      failed_without_resync, claim_time)
                                           .size());
    record_where(tx, work, r, transition::verification_succeeded_while_restarted(VerificationTable::registry),
                 succeeded, sql::verification_restarted(2), claim_time);
    record_ref_differences(tx, r, outcomes);
    // A copy verified has its objects checked too, on their own schedule.
    std::vector<long long> proven;
    for (const auto& [id, o] : outcomes)
        if (o.state == VerificationState::succeeded)
            proven.push_back(id);
    deep_checks::create_rows(tx, r, proven);
    replication_lags::note_verified(tx, r, verified_ids);
    tx.commit();
    return recorded;
}

void record_removal_failure(pqxx::connection& geo, const Replicable& r, long long id, const std::string& reason) {
    Transition failed = transition::removal_failed();
    nlohmann::json outcome = {{parameter_name(P::failure), truncate_failure("repository not removed: " + reason)},
                              {parameter_name(P::retry_in), 60.0}};
    pqxx::work tx(geo);
    // A row made again counts this as its first failure; one still there keeps its count.
    bool made = insert_rows(tx, r, {id}) > 0;
    tx.exec_params("UPDATE " + r.registry_table + " g SET " + failed.set_list("g") + (made ? ", retry_count = 1" : "") +
                       " FROM " + outcome_record_sql(failed.parameters(), 1) + " WHERE g." + r.foreign_key + " = $2",
                   outcome.dump(), id);
    tx.commit();
}

std::optional<std::string> ref_differences(pqxx::transaction_base& tx, const Replicable& r, long long id) {
    auto rows = tx.exec_params("SELECT differences FROM geo_ssf_ref_differences WHERE registry_table = $1 "
                               "AND record_id = $2",
                               r.registry_table, id);
    return rows.empty() ? std::nullopt : std::optional<std::string>(rows[0][0].as<std::string>());
}

long long count_selection(pqxx::connection& geo, const Replicable& r, Mark mark, BulkSelection selection) {
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

long long mark_selection(pqxx::connection& geo, const Replicable& r, Mark mark, BulkSelection selection, int batch,
                         const std::function<void(long long)>& progress) {
    Transition bulk =
        mark == Mark::sync_pending ? transition::sync_pending_bulk() : transition::verification_pending_bulk();
    return update_in_batches(geo, r.registry_table, "id", bulk.set_list(""), selection_predicate(mark, selection),
                             batch, progress);
}

long long mark_ids(pqxx::transaction_base& tx, const Replicable& r, Mark mark, const std::vector<long long>& ids,
                   bool dry_run) {
    std::string array = bigint_array(ids);
    std::string predicate = marked_by_id_predicate(mark);
    long long changed = 0;
    if (dry_run)
        changed = tx.exec_params1("SELECT count(*) FROM " + r.registry_table + " WHERE " + r.foreign_key +
                                      " = ANY($1::bigint[]) AND " + predicate,
                                  array)[0]
                      .as<long long>();
    else
        changed = tx.exec_params("UPDATE " + r.registry_table + " g SET " + mark_transition(mark).set_list("g") +
                                     " WHERE " + r.foreign_key + " = ANY($1::bigint[]) AND " + predicate,
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
