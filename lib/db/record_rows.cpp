#include "db/record_rows.hpp"

#include "db/sync_times.hpp"
#include "db/transitions.hpp"

namespace geo_ssf {

namespace {

std::optional<std::string> optional_text(const pqxx::field& field) {
    return field.is_null() ? std::nullopt : std::optional<std::string>(field.as<std::string>());
}

std::optional<double> optional_number(const pqxx::field& field) {
    return field.is_null() ? std::nullopt : std::optional<double>(field.as<double>());
}

std::string timestamp_sql(const std::string& column) {
    return "to_json(" + column + ") #>> '{}', extract(epoch FROM " + column + " - now())::float8";
}

// Seconds until the retry of a failed STATE_COLUMN at RETRY_COLUMN (0 when due), and that time
// (now when unset); NULL unless failed.
std::string retry_sql(const std::string& state_column, const std::string& retry_column) {
    std::string failed = "CASE WHEN " + state_column + " = " + sql::value(VerificationState::failed) + " THEN ";
    return failed + "coalesce(extract(epoch FROM " + retry_column + " - now())::float8, 0) END, " + failed +
           "to_json(coalesce(" + retry_column + ", now())) #>> '{}' END";
}
static_assert(static_cast<int>(SyncState::failed) == static_cast<int>(VerificationState::failed));

}  // namespace

const ColumnValue* TableRow::column(const std::string& name) const {
    for (const auto& c : columns)
        if (c.name == name)
            return &c;
    return nullptr;
}

std::optional<TableRow> read_table_row(pqxx::transaction_base& tx, const std::string& table, const std::string& key,
                                       long long id, const std::optional<std::string>& type) {
    std::vector<ColumnValue> columns;
    for (const auto& row : tx.exec_params("SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
                                          "WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped "
                                          "ORDER BY attnum",
                                          table))
        columns.push_back({row[0].as<std::string>(), row[1].as<std::string>(), std::nullopt, std::nullopt});
    std::string select;
    for (const auto& c : columns) {
        std::string name = "r." + tx.quote_name(c.name);
        std::string text = c.type == "bytea"          ? "encode(" + name + ", 'hex')"
                           : c.type == k_timestamptz ? "to_json(" + name + ") #>> '{}'"
                                                     : name + "::text";
        select += (select.empty() ? "" : ", ") + text + ", " +
                  (c.type == k_timestamptz ? "extract(epoch FROM " + name + " - now())::float8" : "NULL::float8");
    }
    auto rows = tx.exec_params("SELECT " + select + " FROM " + table + " r WHERE " + key + " = $1" +
                                   (type ? " AND r.replicable = " + sql::type_literal(*type) : std::string()),
                               id);
    if (rows.empty())
        return std::nullopt;
    for (size_t i = 0; i < columns.size(); ++i) {
        const auto& text = rows[0][static_cast<int>(2 * i)];
        const auto& seconds = rows[0][static_cast<int>(2 * i + 1)];
        if (!text.is_null())
            columns[i].text = text.as<std::string>();
        if (!seconds.is_null())
            columns[i].seconds_from_now = seconds.as<double>();
    }
    return TableRow{table, std::move(columns)};
}

std::vector<ListedRow> read_listed_rows(pqxx::transaction_base& tx, const Replicable& r, bool registry,
                                        const RowFilter& filter, long long after, int limit) {
    std::string where = "g." + r.foreign_key + " > $1";
    if (filter.sync_state)
        where += " AND g.state = " + sql::value(*filter.sync_state);
    if (filter.verification_state)
        where += " AND g.verification_state = " + sql::value(*filter.verification_state);
    if (filter.missing_on_primary)
        where += " AND g.missing_on_primary";
    std::string sql = "SELECT g." + r.foreign_key + ", g.verification_state, " + timestamp_sql("g.verified_at") +
                      ", g.verification_retry_count, g.verification_failure, " +
                      retry_sql("g.verification_state", "g.verification_retry_at");
    if (registry)
        sql += ", g.state, " + timestamp_sql(last_success_sql("g")) + ", g.retry_count, g.last_sync_failure, " +
               retry_sql("g.state", "g.retry_at") + ", g.missing_on_primary, to_json(g.last_synced_at) #>> '{}'";
    sql += " FROM " + (registry ? r.registry_table + " g " + sync_times_join(r, "g") : r.states_table + " g") +
           " WHERE " + where + " ORDER BY g." + r.foreign_key + " LIMIT $2";
    std::vector<ListedRow> out;
    for (const auto& row : tx.exec_params(sql, after, limit)) {
        ListedRow rec;
        rec.id = row[0].as<long long>();
        rec.verification_state = static_cast<VerificationState>(row[1].as<int>());
        rec.verified_at = optional_text(row[2]);
        rec.verified_seconds = optional_number(row[3]);
        rec.verification_retry_count = row[4].is_null() ? 0 : row[4].as<int>();
        rec.verification_failure = optional_text(row[5]);
        rec.verification_retry_seconds = optional_number(row[6]);
        rec.verification_retry_at = optional_text(row[7]);
        if (registry) {
            rec.sync_state = static_cast<SyncState>(row[8].as<int>());
            rec.synced_at = optional_text(row[9]);
            rec.synced_seconds = optional_number(row[10]);
            rec.retry_count = row[11].is_null() ? 0 : row[11].as<int>();
            rec.last_sync_failure = optional_text(row[12]);
            rec.sync_retry_seconds = optional_number(row[13]);
            rec.sync_retry_at = optional_text(row[14]);
            rec.missing_on_primary = row[15].as<bool>();
            rec.sync_claimed_at = optional_text(row[16]);
        }
        out.push_back(std::move(rec));
    }
    return out;
}

}  // namespace geo_ssf
