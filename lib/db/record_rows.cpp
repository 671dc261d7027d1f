#include "db/record_rows.hpp"

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

// Seconds until the retry of a failed STATE_COLUMN at RETRY_COLUMN (0 when due); NULL unless failed.
std::string retry_sql(const std::string& state_column, const std::string& retry_column) {
    return "CASE WHEN " + state_column + " = " + sql::value(VerificationState::failed) +
           " THEN coalesce(extract(epoch FROM " + retry_column + " - now())::float8, 0) END";
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
    std::string where = r.foreign_key + " > $1";
    if (filter.sync_state)
        where += " AND state = " + sql::value(*filter.sync_state);
    if (filter.verification_state)
        where += " AND verification_state = " + sql::value(*filter.verification_state);
    if (filter.missing_on_primary)
        where += " AND missing_on_primary";
    std::string sql = "SELECT " + r.foreign_key + ", verification_state, " + timestamp_sql("verified_at") +
                      ", verification_retry_count, verification_failure, " +
                      retry_sql("verification_state", "verification_retry_at");
    if (registry)
        sql += ", state, " + timestamp_sql("last_synced_at") + ", retry_count, last_sync_failure, " +
               retry_sql("state", "retry_at") + ", missing_on_primary";
    sql += " FROM " + (registry ? r.registry_table : r.states_table) + " WHERE " + where + " ORDER BY " +
           r.foreign_key + " LIMIT $2";
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
        if (registry) {
            rec.sync_state = static_cast<SyncState>(row[7].as<int>());
            rec.last_synced_at = optional_text(row[8]);
            rec.last_synced_seconds = optional_number(row[9]);
            rec.retry_count = row[10].is_null() ? 0 : row[10].as<int>();
            rec.last_sync_failure = optional_text(row[11]);
            rec.sync_retry_seconds = optional_number(row[12]);
            rec.missing_on_primary = row[13].as<bool>();
        }
        out.push_back(std::move(rec));
    }
    return out;
}

}  // namespace geo_ssf
