#include "db/cursors.hpp"

namespace geo_ssf {

std::optional<long long> read_cursor(pqxx::transaction_base& tx, const std::string& name) {
    return walk_progress(tx.exec_params(walk_progress_sql(), name)).position;
}

void write_cursor(pqxx::transaction_base& tx, const std::string& name, std::optional<long long> position) {
    if (!position) {
        tx.exec_params("INSERT INTO geo_ssf_cursors (name, position, passes, passed_at) VALUES ($1, NULL, 1, now())"
                       " ON CONFLICT (name) DO UPDATE SET position = NULL, passes = geo_ssf_cursors.passes + 1,"
                       " passed_at = now(), updated_at = now()",
                       name);
        return;
    }
    tx.exec_params("INSERT INTO geo_ssf_cursors (name, position) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE"
                   " SET position = excluded.position, updated_at = now()",
                   name, *position);
}

const char* walk_progress_sql() {
    return "SELECT position, passes, to_json(passed_at) #>> '{}', extract(epoch FROM passed_at)::float8, "
           "extract(epoch FROM now() - passed_at)::float8 FROM geo_ssf_cursors WHERE name = $1";
}

WalkProgress walk_progress(const pqxx::result& rows) {
    WalkProgress walk;
    if (rows.empty())
        return walk;
    const auto& row = rows[0];
    if (!row[0].is_null())
        walk.position = row[0].as<long long>();
    walk.passes = row[1].as<long long>();
    if (!row[2].is_null()) {
        walk.passed_at = row[2].as<std::string>();
        walk.passed_unix_time = row[3].as<double>();
        walk.passed_age_seconds = row[4].as<double>();
    }
    return walk;
}

std::string state_backfill_walk(const std::string& replicable) { return "state_backfill:" + replicable; }
std::string registry_consistency_walk(const std::string& replicable) { return "registry_consistency:" + replicable; }

}  // namespace geo_ssf
