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
    // On a lost connection the lock went with it; a statement would connect again (libpqxx 6).
    if (!m_connection.is_open())
        return;
    try {
        pqxx::nontransaction(m_connection)
            .exec_params("SELECT pg_advisory_unlock(" + run_lock_key_sql("$1::timestamptz") + ")", m_claim_time);
    } catch (...) {
        // The connection is gone, and the lock with it.
    }
}

}  // namespace geo_ssf
