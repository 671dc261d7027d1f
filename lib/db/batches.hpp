// Changing many rows in bounded transactions.
#pragma once

#include <pqxx/pqxx>

#include <functional>
#include <string>

namespace geo_ssf {

// Applies SET_ASSIGNMENTS to the rows of TABLE that PREDICATE selects, BATCH rows per
// transaction in KEY order, so that millions of rows neither lock the table nor bloat it in one
// statement. Calls PROGRESS(done) after each batch; returns how many rows changed.
long long update_in_batches(pqxx::connection& connection, const std::string& table, const std::string& key,
                            const std::string& set_assignments, const std::string& predicate, int batch,
                            const std::function<void(long long)>& progress);

}  // namespace geo_ssf
