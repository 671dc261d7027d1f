#include "db/claims.hpp"

#include "db/model_table.hpp"
#include "db/run_lock.hpp"
#include "db/states.hpp"

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

namespace geo_ssf {

namespace {

std::string always(const Replicable&) { return "true"; }

Transition primary_verification_timed_out() { return transition::verification_timed_out(VerificationTable::states); }
Transition registry_verification_timed_out() {
    return transition::verification_timed_out(VerificationTable::registry);
}

ClaimedRows registry_rows(const Replicable& r) { return {r.registry_table, r.foreign_key, "id", ""}; }
ClaimedRows states_rows(const Replicable& r) { return {r.states_table, r.foreign_key, "id", ""}; }
ClaimedRows shared_rows(const char* table, const Replicable& r) {
    return {table, "record_id", "record_id", "g.replicable = " + sql::type_literal(r.name)};
}
ClaimedRows deep_check_rows(const Replicable& r) { return shared_rows("geo_ssf_deep_checks", r); }
ClaimedRows housekeeping_rows(const Replicable& r) { return shared_rows("geo_ssf_housekeeping", r); }

std::string registry_synced(const Replicable&) { return sql::registry_synced(); }

// A primary's record that has a state row: one the states backfill has not dropped.
std::string record_with_state_row(const Replicable& r) {
    return "EXISTS (SELECT FROM " + r.states_table + " s WHERE s." + r.foreign_key + " = g.record_id)";
}

// A secondary's record whose copy is here: synced, and not missing on the primary.
std::string copy_synced(const Replicable& r) {
    return "EXISTS (SELECT FROM " + r.registry_table + " c WHERE c." + r.foreign_key + " = g.record_id AND c." +
           sql::registry_synced() + " AND NOT c.missing_on_primary)";
}

// A sync or a verification keeps off copies a housekeeping or a deep check holds.
CopyExclusion registry_exclusion(const Replicable& r) {
    return {r.registry_table, r.foreign_key, true,
            sql::housekeeping_started_for(r.name, "g", r.foreign_key) + " OR " +
                sql::deep_check_started_for(r.name, "g", r.foreign_key)};
}

// Housekeeping and deep checks keep off copies being fetched (their row is not synced then) or
// verified, and off each other.
std::string verification_started_for(const Replicable& r) {
    return "EXISTS (SELECT FROM " + r.registry_table + " c WHERE c." + r.foreign_key +
           " = g.record_id AND c.verification_state = " + sql::value(VerificationState::started) + ")";
}
CopyExclusion housekeeping_exclusion(const Replicable& r) {
    return {r.registry_table, r.foreign_key, false,
            verification_started_for(r) + " OR " + sql::deep_check_started_for(r.name, "g", "record_id")};
}
CopyExclusion deep_check_exclusion(const Replicable& r) {
    return {r.registry_table, r.foreign_key, false,
            verification_started_for(r) + " OR " + sql::housekeeping_started_for(r.name, "g", "record_id")};
}

const char* state_column(const ClaimableWork& work) { return column_name(work.state_column); }

std::string started() { return sql::value(SyncState::started); }
static_assert(static_cast<int>(SyncState::started) == static_cast<int>(VerificationState::started));

// PREDICATE over R's rows the work applies to: "<of type> AND <available> AND <predicate>",
// without the parts that are always true.
std::string applicable(const ClaimableWork& work, const Replicable& r, const std::string& predicate) {
    std::string out;
    for (const std::string& part : {work.rows(r).of_type, work.available(r), predicate})
        if (!part.empty() && part != "true")
            out += (out.empty() ? "" : " AND ") + part;
    return out.empty() ? "true" : out;
}

// The rows this run holds: started, stamped with its claim time ($N).
std::string held_by_run(const ClaimableWork& work, int n) {
    return std::string("g.") + state_column(work) + " = " + started() + " AND g." + work.claim_column + " = $" +
           std::to_string(n) + "::timestamptz";
}

std::vector<Claim> read_claims(const pqxx::result& rows) {
    std::vector<Claim> out;
    out.reserve(rows.size());
    for (const auto& row : rows)
        out.push_back({row[0].as<long long>(), row[1].as<long long>(), row[2].as<int16_t>(), row[3].as<int>()});
    std::sort(out.begin(), out.end(), [](const Claim& a, const Claim& b) { return a.id < b.id; });
    return out;
}

// A row locked for a claim, and the state it had.
struct Candidate {
    long long id = 0;
    int16_t state = 0;
};

void add_candidates(std::vector<Candidate>& out, const pqxx::result& rows) {
    for (const auto& row : rows)
        out.push_back({row[0].as<long long>(), row[1].as<int16_t>()});
}

std::vector<long long> ids_of(const std::vector<Candidate>& candidates) {
    std::vector<long long> ids;
    for (const auto& c : candidates)
        ids.push_back(c.id);
    return ids;
}

// Locks up to $1 rows of R that PREDICATE selects, in ORDER, leaving those of copies another kind
// of work holds as far as this statement's snapshot shows (exclude_busy makes sure).
std::string due_sql(const ClaimableWork& work, const Replicable& r, const std::string& predicate, const char* order) {
    ClaimedRows rows = work.rows(r);
    std::string busy = work.exclusion ? " AND NOT (" + work.exclusion(r).busy + ")" : "";
    return "SELECT g." + rows.key + ", g." + state_column(work) + " FROM " + rows.table + " g WHERE " +
           applicable(work, r, predicate) + busy + " ORDER BY g." + order +
           " ASC NULLS FIRST LIMIT $1 FOR UPDATE SKIP LOCKED";
}

// Of CANDIDATES (locked by TX), those whose copy no other kind of work holds: the copies'
// registry rows are locked first (skipping those another claim holds), then, in a statement of its
// own, taken after those locks, the copies some claim before has stamped are dropped.
std::vector<Candidate> exclude_busy(pqxx::transaction_base& tx, const ClaimableWork& work, const Replicable& r,
                                    std::vector<Candidate> candidates) {
    if (!work.exclusion || candidates.empty())
        return candidates;
    CopyExclusion exclusion = work.exclusion(r);
    ClaimedRows rows = work.rows(r);
    std::vector<long long> ids = ids_of(candidates);
    if (!exclusion.claims_registry_rows) {
        ids.clear();
        for (const auto& row : tx.exec_params("SELECT " + exclusion.registry_key + " FROM " + exclusion.registry_table +
                                                  " WHERE " + exclusion.registry_key +
                                                  " = ANY($1::bigint[]) FOR NO KEY UPDATE SKIP LOCKED",
                                              bigint_array(ids_of(candidates))))
            ids.push_back(row[0].as<long long>());
    }
    std::vector<long long> free;
    for (const auto& row : tx.exec_params("SELECT g." + rows.key + " FROM " + rows.table + " g WHERE " +
                                              applicable(work, r, "g." + rows.key + " = ANY($1::bigint[])") +
                                              " AND NOT (" + exclusion.busy + ")",
                                          bigint_array(ids)))
        free.push_back(row[0].as<long long>());
    std::sort(free.begin(), free.end());
    std::erase_if(candidates,
                  [&](const Candidate& c) { return !std::binary_search(free.begin(), free.end(), c.id); });
    return candidates;
}

// Stamps CANDIDATES (locked by TX) started with CLAIM_TIME; returns the claims.
std::vector<Claim> stamp(pqxx::transaction_base& tx, const ClaimableWork& work, const Replicable& r,
                         const std::string& claim_time, const std::vector<Candidate>& candidates) {
    if (candidates.empty())
        return {};
    ClaimedRows rows = work.rows(r);
    nlohmann::json due = nlohmann::json::array();
    for (const auto& c : candidates)
        due.push_back({{"fk", c.id}, {"old_state", c.state}});
    std::string set = work.started().set_list("g", [](Parameter p) {
        return p == Parameter::claim_time ? std::string("$1::timestamptz") : std::string("o.") + parameter_name(p);
    });
    return read_claims(tx.exec_params(
        "UPDATE " + rows.table + " g SET " + set +
            " FROM jsonb_to_recordset($2::jsonb) AS o(fk bigint, old_state smallint) WHERE g." + rows.key +
            " = o.fk" + (rows.of_type.empty() ? "" : " AND " + rows.of_type) + " RETURNING g." + rows.key + ", g." + rows.row_id +
            ", o.old_state, g." + work.retry_count_column,
        claim_time, due.dump()));
}

std::string record_sql(const ClaimableWork& work, const Replicable& r, const Transition& transition,
                       const std::string& guard) {
    ClaimedRows rows = work.rows(r);
    std::vector<Parameter> columns = {Parameter::id};
    for (Parameter p : transition.parameters())
        if (p != Parameter::id)
            columns.push_back(p);
    std::string of_type = rows.of_type.empty() ? "" : rows.of_type + " AND ";
    return "UPDATE " + rows.table + " g SET " + transition.set_list("g") + " FROM " + outcome_records_sql(columns, 1) +
           " WHERE g." + rows.key + " = o.id AND " + of_type + guard + " RETURNING g." + rows.key;
}

}  // namespace

const ClaimableWork k_primary_verification = {
    "verification",
    DatabaseKind::main,
    "Verification",
    states_rows,
    Column::verification_state,
    "verification_started_at",
    "verification_retry_count",
    "verified_at",
    "verification_retry_at",
    always,
    sql::verification_pending,
    sql::verification_failed_and_due,
    transition::verification_started,
    primary_verification_timed_out,
    &BatchSettings::timeout,
    &Config::verification,
    "--verification-state failed",
    nullptr,
};

const ClaimableWork k_registry_sync = {
    "sync",
    DatabaseKind::geo,
    "Sync",
    registry_rows,
    Column::state,
    "last_synced_at",
    "retry_count",
    "id",
    "retry_at",
    always,
    sql::sync_pending,
    sql::sync_failed_and_due,
    transition::sync_started,
    transition::sync_timed_out,
    &BatchSettings::timeout,
    &Config::sync,
    "--sync-state failed",
    registry_exclusion,
};

const ClaimableWork k_registry_verification = {
    "verification",
    DatabaseKind::geo,
    "Verification",
    registry_rows,
    Column::verification_state,
    "verification_started_at",
    "verification_retry_count",
    "verified_at",
    "verification_retry_at",
    registry_synced,
    sql::verification_pending,
    sql::verification_failed_and_due,
    transition::verification_started,
    registry_verification_timed_out,
    &BatchSettings::timeout,
    &Config::verification,
    "--verification-state failed",
    registry_exclusion,
};

const ClaimableWork k_primary_deep_check = {
    "deep check",
    DatabaseKind::main,
    "Deep check",
    deep_check_rows,
    Column::deep_check_state,
    "deep_check_started_at",
    "deep_check_retry_count",
    "deep_check_due_at",
    "deep_check_retry_at",
    record_with_state_row,
    sql::deep_check_scheduled_and_due,
    sql::deep_check_failed_and_due,
    transition::deep_check_started,
    transition::deep_check_timed_out,
    &BatchSettings::timeout,
    &Config::verification,
    "",
    nullptr,
};

const ClaimableWork k_registry_deep_check = {
    "deep check",
    DatabaseKind::geo,
    "Deep check",
    deep_check_rows,
    Column::deep_check_state,
    "deep_check_started_at",
    "deep_check_retry_count",
    "deep_check_due_at",
    "deep_check_retry_at",
    copy_synced,
    sql::deep_check_scheduled_and_due,
    sql::deep_check_failed_and_due,
    transition::deep_check_started,
    transition::deep_check_timed_out,
    &BatchSettings::timeout,
    &Config::verification,
    "",
    deep_check_exclusion,
};

const ClaimableWork k_housekeeping = {
    "housekeeping",
    DatabaseKind::geo,
    "Housekeeping",
    housekeeping_rows,
    Column::housekeeping_state,
    "housekeeping_started_at",
    "housekeeping_retry_count",
    "record_id",
    "housekeeping_retry_at",
    copy_synced,
    sql::housekeeping_pending,
    sql::housekeeping_failed_and_due,
    transition::housekeeping_started,
    transition::housekeeping_timed_out,
    &BatchSettings::timeout,
    &Config::sync,
    "",
    housekeeping_exclusion,
};

std::vector<long long> ids_of(const std::vector<Claim>& claims) {
    std::vector<long long> ids;
    ids.reserve(claims.size());
    for (const auto& c : claims)
        ids.push_back(c.id);
    return ids;
}

std::vector<Claim> claim_due(pqxx::connection& db, const ClaimableWork& work, const Replicable& r,
                             const std::string& claim_time, int limit) {
    pqxx::work tx(db);
    std::vector<Candidate> candidates;
    add_candidates(candidates, tx.exec_params(due_sql(work, r, work.pending(), work.pending_order), limit));
    if (static_cast<int>(candidates.size()) < limit)
        add_candidates(candidates, tx.exec_params(due_sql(work, r, work.failed_and_due(), work.retry_at_column),
                                                  limit - static_cast<int>(candidates.size())));
    auto claimed = stamp(tx, work, r, claim_time, exclude_busy(tx, work, r, std::move(candidates)));
    tx.commit();
    return claimed;
}

std::vector<Claim> claim_records(pqxx::connection& db, const ClaimableWork& work, const Replicable& r,
                                 const std::string& claim_time, const std::vector<long long>& ids) {
    // A row already started belongs to a live run (or to a dead one the next run releases).
    ClaimedRows rows = work.rows(r);
    pqxx::work tx(db);
    std::vector<Candidate> candidates;
    add_candidates(candidates,
                   tx.exec_params("SELECT g." + rows.key + ", g." + state_column(work) + " FROM " + rows.table +
                                      " g WHERE " +
                                      applicable(work, r,
                                                 "g." + rows.key + " = ANY($1::bigint[]) AND g." + state_column(work) +
                                                     " <> " + started()) +
                                      " FOR UPDATE SKIP LOCKED",
                                  bigint_array(ids)));
    auto claimed = stamp(tx, work, r, claim_time, exclude_busy(tx, work, r, std::move(candidates)));
    tx.commit();
    return claimed;
}

std::vector<Claim> claim_due_records(pqxx::connection& db, const ClaimableWork& work, const Replicable& r,
                                     const std::string& claim_time, const std::vector<long long>& ids) {
    if (ids.empty())
        return {};
    ClaimedRows rows = work.rows(r);
    pqxx::work tx(db);
    std::vector<Candidate> candidates;
    add_candidates(candidates,
                   tx.exec_params("SELECT g." + rows.key + ", g." + state_column(work) + " FROM " + rows.table +
                                      " g WHERE " +
                                      applicable(work, r,
                                                 "g." + rows.key + " = ANY($1::bigint[]) AND ((" + work.pending() +
                                                     ") OR (" + work.failed_and_due() + "))") +
                                      " FOR UPDATE SKIP LOCKED",
                                  bigint_array(ids)));
    auto claimed = stamp(tx, work, r, claim_time, exclude_busy(tx, work, r, std::move(candidates)));
    tx.commit();
    return claimed;
}

long long count_due(pqxx::connection& db, const ClaimableWork& work, const Replicable& r) {
    pqxx::read_transaction tx(db);
    return tx.exec1("SELECT count(*) FROM " + work.rows(r).table + " g WHERE " +
                    applicable(work, r, "((" + work.pending() + ") OR (" + work.failed_and_due() + "))"))[0]
        .as<long long>();
}

void restore_claims(pqxx::connection& db, const ClaimableWork& work, const Replicable& r,
                    const std::string& claim_time, const std::vector<Claim>& claims) {
    if (claims.empty())
        return;
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& c : claims)
        rows.push_back({{parameter_name(Parameter::id), c.id}, {parameter_name(Parameter::state), c.previous_state}});
    pqxx::work tx(db);
    tx.exec_params(record_sql(work, r, transition::restored(work.state_column), held_by_run(work, 2)), rows.dump(),
                   claim_time);
    tx.commit();
}

long long release_abandoned(pqxx::connection& db, const ClaimableWork& work, const Replicable& r,
                            const std::string& own_claim_time) {
    ClaimedRows rows = work.rows(r);
    const std::string table = rows.table + " g";
    const std::string claim = std::string("g.") + work.claim_column;
    // The type's rows left started.
    const std::string started_rows = (rows.of_type.empty() ? "" : rows.of_type + " AND ") + "g." + state_column(work) +
                                     " = " + started();
    const std::string set = transition::released(work.state_column).set_list("");
    std::vector<std::string> claim_times;
    bool unowned = false;
    {
        pqxx::read_transaction tx(db);
        for (const auto& row : tx.exec("SELECT DISTINCT " + claim + "::text FROM " + table + " WHERE " + started_rows)) {
            if (row[0].is_null())
                unowned = true;
            else if (row[0].as<std::string>() != own_claim_time)
                claim_times.push_back(row[0].as<std::string>());
        }
    }
    long long released = 0;
    if (unowned) {
        pqxx::work tx(db);
        released +=
            tx.exec("UPDATE " + table + " SET " + set + " WHERE " + started_rows + " AND " + claim + " IS NULL")
                .affected_rows();
        tx.commit();
    }
    for (const auto& time : claim_times) {
        // Holding the dead run's lock while releasing keeps a new run from picking that time.
        const std::string key = run_lock_key_sql("$1::timestamptz");
        bool dead = false;
        {
            pqxx::nontransaction probe(db);
            dead = probe.exec_params1("SELECT pg_try_advisory_lock(" + key + ")", time)[0].as<bool>();
        }
        if (!dead)
            continue;
        auto unlock = [&] { pqxx::nontransaction(db).exec_params("SELECT pg_advisory_unlock(" + key + ")", time); };
        try {
            pqxx::work tx(db);
            released += tx.exec_params("UPDATE " + table + " SET " + set + " WHERE " + started_rows + " AND " + claim +
                                           " = $1::timestamptz",
                                       time)
                            .affected_rows();
            tx.commit();
        } catch (...) {
            try {
                if (db.is_open())  // else the lock went with the connection
                    unlock();
            } catch (...) {
                // The connection is gone, and the lock with it.
            }
            throw;
        }
        unlock();
    }
    return released;
}

long long fail_timed_out(pqxx::connection& db, const ClaimableWork& work, const Replicable& r,
                         std::chrono::seconds timeout) {
    Transition timed_out = work.timed_out();
    std::string failure = timed_out_failure(work.timeout_text, timeout);
    nlohmann::json outcome = {{parameter_name(Parameter::failure), failure},
                              {parameter_name(Parameter::retry_in), static_cast<double>(retry_delay(1).count())},
                              {parameter_name(Parameter::sync_failure),
                               truncate_failure("Verification failed with: " + failure)}};
    pqxx::work tx(db);
    auto changed =
        tx.exec_params("UPDATE " + work.rows(r).table + " g SET " + timed_out.set_list("g") + " FROM " +
                           outcome_record_sql(timed_out.parameters(), 1) + " WHERE " +
                           applicable(work, r, std::string("g.") + state_column(work) + " = " + started() + " AND g." +
                                                   work.claim_column + " < now() - make_interval(secs => $2)"),
                       outcome.dump(), static_cast<double>(timeout.count()))
            .affected_rows();
    tx.commit();
    return changed;
}

std::vector<long long> record_claimed(pqxx::transaction_base& tx, const ClaimableWork& work, const Replicable& r,
                                      const Transition& transition, const nlohmann::json& outcomes,
                                      const std::string& claim_time) {
    return record_where(tx, work, r, transition, outcomes, held_by_run(work, 2), claim_time);
}

std::vector<long long> record_where(pqxx::transaction_base& tx, const ClaimableWork& work, const Replicable& r,
                                    const Transition& transition, const nlohmann::json& outcomes,
                                    const std::string& guard, const std::string& claim_time) {
    std::vector<long long> out;
    if (outcomes.empty())
        return out;
    for (const auto& row : tx.exec_params(record_sql(work, r, transition, guard), outcomes.dump(), claim_time))
        out.push_back(row[0].as<long long>());
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace geo_ssf
