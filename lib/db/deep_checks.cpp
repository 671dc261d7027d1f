#include "db/deep_checks.hpp"

#include "common/json.hpp"
#include "db/claims.hpp"
#include "db/model_table.hpp"
#include "db/transitions.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <limits>
#include <random>

namespace geo_ssf::deep_checks {

namespace {

using P = Parameter;

int thread_random_30() {
    thread_local std::mt19937 generator{std::random_device{}()};
    return std::uniform_int_distribution<int>(0, 29)(generator);
}

// R's rows of the table, aliased g.
std::string of_type(const Replicable& r) { return "g.replicable = " + sql::type_literal(r.name); }

std::string selection_predicate(BulkSelection selection) {
    // Rows started belong to their run; the others are all due again, or only the failed ones.
    return selection == BulkSelection::all
               ? "g.deep_check_state <> " + sql::value(VerificationState::started)
               : "g." + sql::deep_check_failed();
}

nlohmann::json check_row(long long id, const DeepCheckOutcome& o, std::chrono::seconds interval) {
    return {{parameter_name(P::id), id},
            {parameter_name(P::seconds), o.seconds},
            {parameter_name(P::due_in), static_cast<double>(interval.count())},
            {parameter_name(P::failure), json_or_null(o.failure)},
            {parameter_name(P::retry_count), o.retry_count},
            {parameter_name(P::retry_in), json_or_null(o.retry_in)},
            {parameter_name(P::repairs), o.repairs}};
}

// Records CHECKS (succeeded and failed rows) for rows the run CLAIM_TIME holds; the ids recorded.
std::vector<long long> record_checks(pqxx::transaction_base& tx, const ClaimableWork& work, const Replicable& r,
                                     const std::string& claim_time, const nlohmann::json& succeeded,
                                     const nlohmann::json& failed) {
    auto recorded = record_claimed(tx, work, r, transition::deep_check_succeeded(), succeeded, claim_time);
    auto failures = record_claimed(tx, work, r, transition::deep_check_failed(), failed, claim_time);
    recorded.insert(recorded.end(), failures.begin(), failures.end());
    std::sort(recorded.begin(), recorded.end());
    return recorded;
}

// record_where's guard for any row, whichever run holds it (it reads the claim time as $2).
const std::string k_any_row = "$2::text IS NOT NULL";

bool recorded_here(const std::vector<long long>& recorded, long long id) {
    return std::binary_search(recorded.begin(), recorded.end(), id);
}

}  // namespace

DeepCheckOutcome passed(double seconds) {
    DeepCheckOutcome o;
    o.passed = true;
    o.seconds = seconds;
    return o;
}

DeepCheckOutcome failed(int previous_retry_count, std::string_view reason, double seconds, int repairs,
                        const std::function<int()>& random_30) {
    DeepCheckOutcome o;
    o.seconds = seconds;
    o.failure = truncate_failure(reason);
    o.retry_count = std::min(std::max(previous_retry_count, 0) + 1, k_retry_count_max);
    o.retry_in = retry_delay(o.retry_count, k_retry_cap, random_30);
    o.repairs = repairs;
    return o;
}

DeepCheckOutcome failed(int previous_retry_count, std::string_view reason, double seconds, int repairs) {
    return failed(previous_retry_count, reason, seconds, repairs, thread_random_30);
}

void create_rows(pqxx::transaction_base& tx, const Replicable& r, const std::vector<long long>& ids) {
    if (ids.empty())
        return;
    tx.exec_params("INSERT INTO geo_ssf_deep_checks (replicable, record_id) SELECT $1, i FROM unnest($2::bigint[]) "
                   "AS i ON CONFLICT DO NOTHING",
                   r.name, bigint_array(ids));
}

void delete_rows(pqxx::transaction_base& tx, const Replicable& r, const std::vector<long long>& ids) {
    if (ids.empty())
        return;
    tx.exec_params("DELETE FROM geo_ssf_deep_checks WHERE replicable = $1 AND record_id = ANY($2::bigint[])", r.name,
                   bigint_array(ids));
}

long long schedule_first_checks(pqxx::connection& db, const Replicable& r, std::chrono::seconds interval, int limit) {
    pqxx::work tx(db);
    auto scheduled =
        tx.exec_params("UPDATE geo_ssf_deep_checks g SET deep_check_due_at = now() + random() * make_interval(secs => "
                       "$2) WHERE g.replicable = $1 AND g.record_id IN (SELECT record_id FROM geo_ssf_deep_checks "
                       "WHERE replicable = $1 AND deep_check_due_at IS NULL AND deep_check_state IN (" +
                           sql::value(VerificationState::pending) + ", " + sql::value(VerificationState::succeeded) +
                           ") LIMIT $3 FOR UPDATE SKIP LOCKED)",
                       r.name, static_cast<double>(interval.count()), limit)
            .affected_rows();
    tx.commit();
    return scheduled;
}

long long record_primary_outcomes(pqxx::connection& main, const Replicable& r, const std::string& claim_time,
                                  const std::vector<std::pair<long long, PrimaryOutcome>>& outcomes,
                                  std::chrono::seconds interval) {
    if (outcomes.empty())
        return 0;
    nlohmann::json succeeded = nlohmann::json::array(), failed = nlohmann::json::array();
    std::vector<long long> changed;  // failed now, or passed after failing
    for (const auto& [id, o] : outcomes) {
        (o.check.passed ? succeeded : failed).push_back(check_row(id, o.check, interval));
        if (!o.check.passed || o.failed_before)
            changed.push_back(id);
    }
    pqxx::work tx(main);
    auto recorded = record_checks(tx, k_primary_deep_check, r, claim_time, succeeded, failed);
    nlohmann::json pending = nlohmann::json::array();
    for (long long id : changed)
        if (recorded_here(recorded, id))
            pending.push_back({{parameter_name(P::id), id}});
    // Whatever its verification is doing: a verification under way is then not recorded, and
    // the next one sees this check's result.
    record_where(tx, k_primary_verification, r, transition::verification_pending(VerificationTable::states), pending,
                 k_any_row, claim_time);
    tx.commit();
    return static_cast<long long>(recorded.size());
}

long long record_copy_outcomes(pqxx::connection& geo, const Replicable& r, const std::string& claim_time,
                               const std::vector<std::pair<long long, CopyOutcome>>& outcomes,
                               std::chrono::seconds interval) {
    if (outcomes.empty())
        return 0;
    nlohmann::json succeeded = nlohmann::json::array(), failed = nlohmann::json::array();
    for (const auto& [id, o] : outcomes)
        (o.check.passed ? succeeded : failed).push_back(check_row(id, o.check, interval));
    pqxx::work tx(geo);
    auto recorded = record_checks(tx, k_registry_deep_check, r, claim_time, succeeded, failed);
    nlohmann::json fresh = nlohmann::json::array(), backed_off = nlohmann::json::array();
    for (const auto& [id, o] : outcomes) {
        if (!recorded_here(recorded, id))
            continue;
        if (o.repair == CopyRepair::fresh_clone)
            fresh.push_back({{parameter_name(P::id), id}});
        else if (o.repair == CopyRepair::backed_off)
            backed_off.push_back({{parameter_name(P::id), id},
                                  {parameter_name(P::failure), json_or_null(o.sync.failure)},
                                  {parameter_name(P::retry_count), o.sync.retry_count},
                                  {parameter_name(P::retry_in), json_or_null(o.sync.retry_in)}});
    }
    // Only a copy still synced: one a deleted event or a resync took meanwhile is theirs.
    const std::string synced = "g." + sql::registry_synced() + " AND " + k_any_row;
    record_where(tx, k_registry_sync, r, transition::copy_repaired(), fresh, synced, claim_time);
    record_where(tx, k_registry_sync, r, transition::copy_repair_backed_off(), backed_off, synced, claim_time);
    tx.commit();
    return static_cast<long long>(recorded.size());
}

std::map<long long, std::string> failures_of(pqxx::transaction_base& tx, const Replicable& r,
                                             const std::vector<long long>& ids) {
    std::map<long long, std::string> out;
    if (ids.empty())
        return out;
    for (const auto& row : tx.exec_params("SELECT g.record_id, coalesce(g.deep_check_failure, '') FROM "
                                          "geo_ssf_deep_checks g WHERE " + of_type(r) +
                                              " AND g.record_id = ANY($1::bigint[]) AND g." + sql::deep_check_failed(),
                                          bigint_array(ids)))
        out[row[0].as<long long>()] = row[1].as<std::string>();
    return out;
}

std::map<long long, int> repairs_of(pqxx::transaction_base& tx, const Replicable& r, const std::vector<long long>& ids) {
    std::map<long long, int> out;
    if (ids.empty())
        return out;
    for (const auto& row : tx.exec_params("SELECT g.record_id, g.deep_check_repairs FROM geo_ssf_deep_checks g WHERE " +
                                              of_type(r) + " AND g.record_id = ANY($1::bigint[])",
                                          bigint_array(ids)))
        out[row[0].as<long long>()] = row[1].as<int>();
    return out;
}

std::map<long long, PrimaryCheck> primary_checks(pqxx::transaction_base& tx, const Replicable& r,
                                                 const std::vector<long long>& ids) {
    std::map<long long, PrimaryCheck> out;
    if (ids.empty() || tx.exec1("SELECT to_regclass('geo_ssf_deep_checks') IS NULL")[0].as<bool>())
        return out;
    for (const auto& row : tx.exec_params("SELECT g.record_id, g.deep_check_state, g.deep_check_failure FROM "
                                          "geo_ssf_deep_checks g WHERE " + of_type(r) +
                                              " AND g.record_id = ANY($1::bigint[])",
                                          bigint_array(ids))) {
        PrimaryCheck check;
        check.state = static_cast<VerificationState>(row[1].as<int>());
        if (!row[2].is_null())
            check.failure = row[2].as<std::string>();
        out[row[0].as<long long>()] = check;
    }
    return out;
}

long long count_selection(pqxx::connection& db, const Replicable& r, BulkSelection selection,
                          const std::string& available) {
    pqxx::read_transaction tx(db);
    return tx.exec1("SELECT count(*) FROM geo_ssf_deep_checks g WHERE " + of_type(r) + " AND " + available + " AND " +
                    selection_predicate(selection))[0]
        .as<long long>();
}

std::vector<long long> selection_ids(pqxx::connection& db, const Replicable& r, BulkSelection selection,
                                     const std::string& available, int limit) {
    pqxx::read_transaction tx(db);
    std::vector<long long> out;
    for (const auto& row : tx.exec_params("SELECT g.record_id FROM geo_ssf_deep_checks g WHERE " + of_type(r) +
                                              " AND " + available + " AND " + selection_predicate(selection) +
                                              " ORDER BY 1 LIMIT $1",
                                          limit))
        out.push_back(row[0].as<long long>());
    return out;
}

long long mark_selection(pqxx::connection& db, const Replicable& r, BulkSelection selection,
                         const std::string& available, int batch, const std::function<void(long long)>& progress) {
    long long done = 0;
    long long after = std::numeric_limits<long long>::min();
    const std::string set = transition::deep_check_due().set_list("g");
    while (true) {
        pqxx::work tx(db);
        auto row = tx.exec_params1(
            "WITH changed AS (UPDATE geo_ssf_deep_checks g SET " + set + " WHERE " + of_type(r) +
                " AND g.record_id IN (SELECT g.record_id FROM geo_ssf_deep_checks g WHERE " + of_type(r) +
                " AND g.record_id > $1 AND " + available + " AND " + selection_predicate(selection) +
                " ORDER BY g.record_id LIMIT $2 FOR UPDATE) RETURNING g.record_id) SELECT count(*), max(record_id) "
                "FROM changed",
            after, batch);
        tx.commit();
        long long changed = row[0].as<long long>();
        done += changed;
        progress(done);
        if (changed == 0 || row[1].is_null())
            break;
        after = row[1].as<long long>();
    }
    return done;
}

long long mark_ids(pqxx::transaction_base& tx, const Replicable& r, const std::vector<long long>& ids,
                   const std::string& available, bool dry_run) {
    if (ids.empty())
        return 0;
    const std::string array = bigint_array(ids);
    const std::string not_started = "g.deep_check_state <> " + sql::value(VerificationState::started);
    // The records without a row that would get one: those AVAILABLE selects once their row is there.
    const std::string missing = "FROM unnest($1::bigint[]) AS i WHERE NOT EXISTS (SELECT FROM geo_ssf_deep_checks d "
                                "WHERE d.replicable = $2 AND d.record_id = i) AND EXISTS (SELECT FROM (SELECT $2::text "
                                "AS replicable, i AS record_id) g WHERE " + available + ")";
    if (dry_run)
        return tx.exec_params1("SELECT (SELECT count(*) FROM geo_ssf_deep_checks g WHERE " + of_type(r) +
                                   " AND g.record_id = ANY($1::bigint[]) AND " + available + " AND " + not_started +
                                   ") + (SELECT count(*) " + missing + ")",
                               array, r.name)[0]
            .as<long long>();
    tx.exec_params("INSERT INTO geo_ssf_deep_checks (replicable, record_id) SELECT $2, i " + missing +
                       " ON CONFLICT DO NOTHING",
                   array, r.name);
    // The rows just made are marked with the others.
    return tx.exec_params("UPDATE geo_ssf_deep_checks g SET " + transition::deep_check_due().set_list("g") +
                                          " WHERE " + of_type(r) + " AND g.record_id = ANY($1::bigint[]) AND " +
                                          available + " AND " + not_started,
                                      array)
        .affected_rows();
}

void create_missing_rows(pqxx::connection& db, const Replicable& r, const std::vector<long long>& ids,
                         const std::string& available) {
    if (ids.empty())
        return;
    pqxx::work tx(db);
    tx.exec_params("INSERT INTO geo_ssf_deep_checks (replicable, record_id, deep_check_due_at) SELECT $2, i, now() "
                   "FROM unnest($1::bigint[]) AS i WHERE EXISTS (SELECT FROM (SELECT $2::text AS replicable, i AS "
                   "record_id) g WHERE " + available + ") ON CONFLICT DO NOTHING",
                   bigint_array(ids), r.name);
    tx.commit();
}

Counts count(TimedReader& reader, const Replicable& r, const std::string& available) {
    auto row = reader.exec("SELECT (SELECT count(*) FROM geo_ssf_deep_checks g WHERE " + of_type(r) + " AND g." +
                           sql::deep_check_failed() + "), (SELECT count(*) FROM geo_ssf_deep_checks g WHERE " +
                           of_type(r) + " AND ((" + sql::deep_check_scheduled_and_due() + ") OR (" +
                           sql::deep_check_failed_and_due() + ")) AND " + available + ")")[0];
    return {row[0].as<long long>(), row[1].as<long long>()};
}

}  // namespace geo_ssf::deep_checks
