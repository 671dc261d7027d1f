#include "db/cursors.hpp"

namespace geo_ssf {

std::optional<long long> read_cursor(pqxx::transaction_base& tx, const std::string& name) {
    auto rows = tx.exec_params("SELECT position FROM geo_ssf_cursors WHERE name = $1", name);
    if (rows.empty())
        return std::nullopt;
    return rows[0][0].as<long long>();
}

void write_cursor(pqxx::transaction_base& tx, const std::string& name, std::optional<long long> position) {
    if (!position) {
        tx.exec_params("DELETE FROM geo_ssf_cursors WHERE name = $1", name);
        return;
    }
    tx.exec_params("INSERT INTO geo_ssf_cursors (name, position) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE"
                   " SET position = excluded.position, updated_at = now()",
                   name, *position);
}

}  // namespace geo_ssf
