#include "db/run_lock.hpp"

#include "common/error.hpp"

namespace geo_ssf {

std::string run_lock_key_sql(std::string_view time) {
    return "(extract(epoch FROM " + std::string(time) + ") * 1000000)::bigint";
}

RunLock::RunLock(pqxx::connection& connection) : m_connection(connection) {
    for (int attempt = 0; attempt < 100; ++attempt) {
        pqxx::nontransaction tx(m_connection);
        auto row = tx.exec1("SELECT t::text, pg_try_advisory_lock(" + run_lock_key_sql("t") +
                            ") FROM (SELECT clock_timestamp() AS t) now");
        if (row[1].as<bool>()) {
            m_claim_time = row[0].as<std::string>();
            return;
        }
    }
    throw RuntimeError("cannot take a run lock: every claim time tried is locked");
}

RunLock::~RunLock() {
    try {
        pqxx::nontransaction(m_connection)
            .exec_params("SELECT pg_advisory_unlock(" + run_lock_key_sql("$1::timestamptz") + ")", m_claim_time);
    } catch (...) {
        // The connection is gone, and the lock with it.
    }
}

long long release_abandoned_rows(pqxx::connection& connection, const std::string& table,
                                 const std::string& state_column, const std::string& claim_column,
                                 const std::string& set_assignments, const std::string& own_claim_time) {
    std::vector<std::string> claim_times;
    bool unowned = false;
    {
        pqxx::read_transaction tx(connection);
        for (const auto& row : tx.exec("SELECT DISTINCT " + claim_column + "::text FROM " + table + " WHERE " +
                                       state_column + " = 1")) {
            if (row[0].is_null())
                unowned = true;
            else if (row[0].as<std::string>() != own_claim_time)
                claim_times.push_back(row[0].as<std::string>());
        }
    }
    long long released = 0;
    if (unowned) {
        pqxx::work tx(connection);
        released += tx.exec("UPDATE " + table + " SET " + set_assignments + " WHERE " + state_column + " = 1 AND " +
                            claim_column + " IS NULL")
                        .affected_rows();
        tx.commit();
    }
    for (const auto& time : claim_times) {
        // Holding the dead run's lock while releasing keeps a new run from picking that time.
        const std::string key = run_lock_key_sql("$1::timestamptz");
        bool dead = false;
        {
            pqxx::nontransaction probe(connection);
            dead = probe.exec_params1("SELECT pg_try_advisory_lock(" + key + ")", time)[0].as<bool>();
        }
        if (!dead)
            continue;
        auto unlock = [&] { pqxx::nontransaction(connection).exec_params("SELECT pg_advisory_unlock(" + key + ")", time); };
        try {
            pqxx::work tx(connection);
            released += tx.exec_params("UPDATE " + table + " SET " + set_assignments + " WHERE " + state_column +
                                           " = 1 AND " + claim_column + " = $1::timestamptz",
                                       time)
                            .affected_rows();
            tx.commit();
        } catch (...) {
            try {
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

}  // namespace geo_ssf
