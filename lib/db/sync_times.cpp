#include "db/sync_times.hpp"

#include "db/transitions.hpp"

namespace geo_ssf {

std::string last_success_sql(const std::string& row_alias) {
    return "coalesce(geo_ssf_t.synced_at, CASE WHEN " + row_alias + ".state = " + sql::value(SyncState::synced) +
           " THEN " + row_alias + ".last_synced_at END)";
}

std::string sync_times_join(const Replicable& r, const std::string& row_alias) {
    return "LEFT JOIN geo_ssf_sync_times geo_ssf_t ON geo_ssf_t.registry_table = '" + r.registry_table +
           "' AND geo_ssf_t.record_id = " + row_alias + "." + r.foreign_key;
}

OldestPending read_oldest_pending(TimedReader& geo, const Replicable& r) {
    auto rows = geo.exec(
        "SELECT EXISTS (SELECT FROM pg_trigger WHERE tgrelid = to_regclass($1) AND tgenabled IN ('O', 'A') "
        "AND tgname = 'geo_ssf_sync_time_update'), to_json(m.since) #>> '{}', extract(epoch FROM m.since)::float8, "
        "extract(epoch FROM now() - m.since)::float8 FROM (SELECT min(pending_since) AS since FROM geo_ssf_sync_times "
        "WHERE registry_table = $1 AND pending_since IS NOT NULL) m",
        r.registry_table);
    OldestPending out;
    out.tracked = rows[0][0].as<bool>();
    if (!rows[0][1].is_null()) {
        out.since = rows[0][1].as<std::string>();
        out.unix_time = rows[0][2].as<double>();
        out.age_seconds = rows[0][3].as<double>();
    }
    return out;
}

std::optional<SyncedAt> read_synced_at(pqxx::transaction_base& tx, const Replicable& r, long long id) {
    std::string at = last_success_sql("g");
    auto rows = tx.exec_params("SELECT to_json(" + at + ") #>> '{}', extract(epoch FROM " + at + " - now())::float8 " +
                                   "FROM " + r.registry_table + " g " + sync_times_join(r, "g") + " WHERE g." +
                                   r.foreign_key + " = $1",
                               id);
    if (rows.empty() || rows[0][0].is_null())
        return std::nullopt;
    return SyncedAt{rows[0][0].as<std::string>(), rows[0][1].as<double>()};
}

}  // namespace geo_ssf
