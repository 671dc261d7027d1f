#include "db/claims.hpp"

#include "db/model_table.hpp"
#include "db/run_lock.hpp"
#include "db/states.hpp"

#include <algorithm>
#include <optional>

namespace geo_ssf {

namespace {

std::string always() { return "true"; }

Transition primary_verification_timed_out() { return transition::verification_timed_out(VerificationTable::states); }
Transition registry_verification_timed_out() {
    return transition::verification_timed_out(VerificationTable::registry);
}

const std::string& table_of(const ClaimableWork& work, const Replicable& r) { return r.*work.table; }
const char* state_column(const ClaimableWork& work) { return column_name(work.state_column); }

std::string started() { return sql::value(SyncState::started); }
static_assert(static_cast<int>(SyncState::started) == static_cast<int>(VerificationState::started));

// "<available> AND <predicate>", without a predicate that is always true.
std::string applicable(const ClaimableWork& work, const std::string& predicate) {
    std::string available = work.available();
    return available == "true" ? predicate : available + " AND " + predicate;
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

// Claims the rows DUE selects (a query returning fk and old_state), stamped with $1.
std::string claim_sql(const ClaimableWork& work, const Replicable& r, const std::string& due) {
    const std::string& table = table_of(work, r);
    std::string stamp = work.started().set_list("g", [](Parameter p) {
        return p == Parameter::claim_time ? std::string("$1::timestamptz") : std::string("o.") + parameter_name(p);
    });
    return "WITH due AS (" + due + ") UPDATE " + table + " g SET " + stamp + " FROM due WHERE g." + r.foreign_key +
           " = due.fk RETURNING g." + r.foreign_key + ", g.id, due.old_state, g." + work.retry_count_column;
}

std::string due_sql(const ClaimableWork& work, const Replicable& r, const std::string& predicate, const char* order) {
    return "SELECT " + r.foreign_key + " AS fk, " + state_column(work) + " AS old_state FROM " + table_of(work, r) +
           " WHERE " + applicable(work, predicate) + " ORDER BY " + order + " ASC NULLS FIRST LIMIT $2 FOR UPDATE SKIP LOCKED";
}

std::string record_sql(const ClaimableWork& work, const Replicable& r, const Transition& transition,
                       const std::string& guard) {
    std::vector<Parameter> columns = {Parameter::id};
    for (Parameter p : transition.parameters())
        if (p != Parameter::id)
            columns.push_back(p);
    return "UPDATE " + table_of(work, r) + " g SET " + transition.set_list("g") + " FROM " +
           outcome_records_sql(columns, 1) + " WHERE g." + r.foreign_key + " = o.id AND " + guard + " RETURNING g." +
           r.foreign_key;
}

}  // namespace

const ClaimableWork k_primary_verification = {
    "verification",
    DatabaseKind::main,
    "Verification",
    &Replicable::states_table,
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
};

const ClaimableWork k_registry_sync = {
    "sync",
    DatabaseKind::geo,
    "Sync",
    &Replicable::registry_table,
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
};

const ClaimableWork k_registry_verification = {
    "verification",
    DatabaseKind::geo,
    "Verification",
    &Replicable::registry_table,
    Column::verification_state,
    "verification_started_at",
    "verification_retry_count",
    "verified_at",
    "verification_retry_at",
    sql::registry_synced,
    sql::verification_pending,
    sql::verification_failed_and_due,
    transition::verification_started,
    registry_verification_timed_out,
    &BatchSettings::timeout,
    &Config::verification,
    "--verification-state failed",
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
    auto claimed =
        read_claims(tx.exec_params(claim_sql(work, r, due_sql(work, r, work.pending(), work.pending_order)),
                                   claim_time, limit));
    if (static_cast<int>(claimed.size()) < limit) {
        auto failed = read_claims(
            tx.exec_params(claim_sql(work, r, due_sql(work, r, work.failed_and_due(), work.retry_at_column)),
                           claim_time, limit - static_cast<int>(claimed.size())));
        claimed.insert(claimed.end(), failed.begin(), failed.end());
    }
    tx.commit();
    return claimed;
}

std::vector<Claim> claim_records(pqxx::connection& db, const ClaimableWork& work, const Replicable& r,
                                 const std::string& claim_time, const std::vector<long long>& ids) {
    // A row already started belongs to a live run (or to a dead one the next run releases).
    std::string due = "SELECT " + r.foreign_key + " AS fk, " + state_column(work) + " AS old_state FROM " +
                      table_of(work, r) + " WHERE " + r.foreign_key + " = ANY($2::bigint[]) AND " +
                      applicable(work, std::string(state_column(work)) + " <> " + started()) +
                      " FOR UPDATE SKIP LOCKED";
    pqxx::work tx(db);
    auto claimed = read_claims(tx.exec_params(claim_sql(work, r, due), claim_time, bigint_array(ids)));
    tx.commit();
    return claimed;
}

std::vector<Claim> claim_due_records(pqxx::connection& db, const ClaimableWork& work, const Replicable& r,
                                     const std::string& claim_time, const std::vector<long long>& ids) {
    if (ids.empty())
        return {};
    std::string due = "SELECT " + r.foreign_key + " AS fk, " + state_column(work) + " AS old_state FROM " +
                      table_of(work, r) + " WHERE " + r.foreign_key + " = ANY($2::bigint[]) AND " +
                      applicable(work, "((" + work.pending() + ") OR (" + work.failed_and_due() + "))") +
                      " FOR UPDATE SKIP LOCKED";
    pqxx::work tx(db);
    auto claimed = read_claims(tx.exec_params(claim_sql(work, r, due), claim_time, bigint_array(ids)));
    tx.commit();
    return claimed;
}

long long count_due(pqxx::connection& db, const ClaimableWork& work, const Replicable& r) {
    pqxx::read_transaction tx(db);
    return tx.exec1("SELECT count(*) FROM " + table_of(work, r) + " WHERE " +
                    applicable(work, "((" + work.pending() + ") OR (" + work.failed_and_due() + "))"))[0]
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
    const std::string& table = table_of(work, r);
    const std::string state = state_column(work);
    const std::string claim = work.claim_column;
    const std::string set = transition::released(work.state_column).set_list("");
    std::vector<std::string> claim_times;
    bool unowned = false;
    {
        pqxx::read_transaction tx(db);
        for (const auto& row :
             tx.exec("SELECT DISTINCT " + claim + "::text FROM " + table + " WHERE " + state + " = " + started())) {
            if (row[0].is_null())
                unowned = true;
            else if (row[0].as<std::string>() != own_claim_time)
                claim_times.push_back(row[0].as<std::string>());
        }
    }
    long long released = 0;
    if (unowned) {
        pqxx::work tx(db);
        released += tx.exec("UPDATE " + table + " SET " + set + " WHERE " + state + " = " + started() + " AND " +
                            claim + " IS NULL")
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
            released += tx.exec_params("UPDATE " + table + " SET " + set + " WHERE " + state + " = " + started() +
                                           " AND " + claim + " = $1::timestamptz",
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
        tx.exec_params("UPDATE " + table_of(work, r) + " g SET " + timed_out.set_list("g") + " FROM " +
                           outcome_record_sql(timed_out.parameters(), 1) + " WHERE " +
                           applicable(work, std::string("g.") + state_column(work) + " = " + started() + " AND g." +
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
