#include "db/batches.hpp"

#include <limits>

namespace geo_ssf {

long long update_in_batches(pqxx::connection& connection, const std::string& table, const std::string& key,
                            const std::string& set_assignments, const std::string& predicate, int batch,
                            const std::function<void(long long)>& progress) {
    long long done = 0;
    long long cursor = std::numeric_limits<long long>::min();
    while (true) {
        pqxx::work tx(connection);
        auto row = tx.exec_params1("WITH changed AS (UPDATE " + table + " SET " + set_assignments + " WHERE " + key +
                                       " IN (SELECT " + key + " FROM " + table + " WHERE " + key + " > $1 AND " +
                                       predicate + " ORDER BY " + key + " LIMIT $2 FOR UPDATE) RETURNING " + key +
                                       ") SELECT count(*), max(" + key + ") FROM changed",
                                   cursor, batch);
        tx.commit();
        long long changed = row[0].as<long long>();
        done += changed;
        progress(done);
        if (changed == 0 || row[1].is_null())
            break;  // a short batch may only mean rows changed under it: stop when none is left
        cursor = row[1].as<long long>();
    }
    return done;
}

}  // namespace geo_ssf
