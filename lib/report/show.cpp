#include "report/show.hpp"

#include "common/error.hpp"
#include "common/json.hpp"
#include "db/model_table.hpp"
#include "db/primary_reads.hpp"
#include "db/states.hpp"
#include "common/time_words.hpp"

#include <nlohmann/json.hpp>

namespace geo_ssf {

namespace {

constexpr const char* k_timestamptz = "timestamp with time zone";

bool is_integer_type(const std::string& type) { return type == "smallint" || type == "integer" || type == "bigint"; }

// Reads the row of TABLE whose KEY is ID, every column in the table's order; nullopt when
// there is none.
std::optional<TableRow> read_row(pqxx::transaction_base& tx, const std::string& table, const std::string& key,
                                 long long id) {
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
    auto rows = tx.exec_params("SELECT " + select + " FROM " + table + " r WHERE " + key + " = $1", id);
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

// The model row: whether it exists, whether the scope selects it, and its repository path.
void read_model_row(pqxx::transaction_base& tx, const Replicable& r, RecordDetails& details) {
    auto rows = tx.exec_params("SELECT " + scope_predicate(r) + ", " + repository_path_columns_sql(r, "m") + " FROM " +
                                   r.model_table + " m WHERE m." + r.model_key + " = $1",
                               details.id);
    if (rows.empty())
        return;
    details.on_primary = true;
    details.in_scope = rows[0][0].as<bool>();
    try {
        details.repository_path = repository_path_of(r, rows[0], 1);
    } catch (const std::exception& e) {
        details.path_error = e.what();
    }
}

std::string state_name(const std::string& column, const std::string& value) {
    if (column == "state")
        if (auto state = parse_sync_state(value))
            return sync_state_name(*state);
    if (column == "verification_state")
        if (auto state = parse_verification_state(value))
            return verification_state_name(*state);
    return value;
}

bool is_state_column(const std::string& name) { return name == "state" || name == "verification_state"; }

// A column's value for people: state names with their numbers, timestamps to the second with
// how far away they are.
std::string readable_value(const ColumnValue& c) {
    if (!c.text)
        return "-";
    if (is_state_column(c.name))
        return state_name(c.name, *c.text) + " (" + *c.text + ")";
    if (c.type == k_timestamptz && c.seconds_from_now)
        return readable_timestamp(*c.text) + " (" + relative_time_in_words(*c.seconds_from_now) + ")";
    return *c.text;
}

nlohmann::ordered_json json_value(const ColumnValue& c) {
    if (!c.text)
        return nullptr;
    if (is_state_column(c.name))
        return state_name(c.name, *c.text);
    if (is_integer_type(c.type))
        return std::stoll(*c.text);
    if (c.type == "boolean")
        return *c.text == "true";
    return *c.text;
}

nlohmann::ordered_json json_row(const TableRow& row) {
    nlohmann::ordered_json out = nlohmann::ordered_json::object();
    for (const auto& c : row.columns)
        out[c.name] = json_value(c);
    return out;
}

// Every column of ROW, then EXTRA lines (what the columns mean: when the next retry is), names
// and values aligned.
void add_row_lines(std::string& out, const TableRow& row,
                   const std::vector<std::pair<std::string, std::optional<std::string>>>& extra) {
    std::vector<std::pair<std::string, std::string>> lines;
    for (const auto& c : row.columns)
        lines.emplace_back(c.name, readable_value(c));
    for (const auto& [label, value] : extra)
        if (value)
            lines.emplace_back(label, *value);
    size_t width = 0;
    for (const auto& line : lines)
        width = std::max(width, line.first.size());
    for (const auto& [label, value] : lines)
        out += "  " + label + std::string(width - label.size() + 2, ' ') + value + "\n";
}

std::optional<std::string> column_text(const std::optional<TableRow>& row, const std::string& name) {
    if (!row)
        return std::nullopt;
    const ColumnValue* c = row->column(name);
    return c ? c->text : std::nullopt;
}

}  // namespace

const ColumnValue* TableRow::column(const std::string& name) const {
    for (const auto& c : columns)
        if (c.name == name)
            return &c;
    return nullptr;
}

RecordDetails record_details(Site& site, const std::string& replicable, long long record_id) {
    const Replicable& r = site.config().replicable(replicable);
    RecordDetails details;
    details.replicable = &r;
    details.id = record_id;
    details.secondary = !site.is_primary();
    details = read_primary(site.main_database(), [&](pqxx::transaction_base& tx) {
        RecordDetails read = details;
        read_model_row(tx, r, read);
        read.state = read_row(tx, r.states_table, r.foreign_key, record_id);
        return read;
    });
    if (details.secondary) {
        pqxx::read_transaction tx(site.geo_database());
        details.registry = read_row(tx, r.registry_table, r.foreign_key, record_id);
        auto differences = tx.exec_params("SELECT differences FROM geo_ssf_ref_differences WHERE registry_table = $1 "
                                          "AND record_id = $2",
                                          r.registry_table, record_id);
        if (!differences.empty())
            details.ref_differences = differences[0][0].as<std::string>();
    }
    if (!details.on_primary && !details.registry)
        throw UsageError("no " + r.name + " record with id " + std::to_string(record_id) +
                         (details.secondary ? " on the primary or in this site's registry" : ""));
    return details;
}

std::optional<std::string> next_retry(const TableRow& row, const std::string& state_column,
                                      const std::string& retry_column) {
    static_assert(static_cast<int>(SyncState::failed) == static_cast<int>(VerificationState::failed));
    const ColumnValue* state = row.column(state_column);
    if (!state || !state->text || *state->text != std::to_string(static_cast<int>(SyncState::failed)))
        return std::nullopt;
    const ColumnValue* retry = row.column(retry_column);
    if (!retry || !retry->seconds_from_now)
        return retry_in_words(0);
    return retry_in_words(*retry->seconds_from_now);
}

std::optional<bool> checksums_match(const RecordDetails& details) {
    auto own = column_text(details.registry, "verification_checksum");
    auto primary = column_text(details.state, "verification_checksum");
    if (!details.secondary || !own || !primary)
        return std::nullopt;
    return *own == *primary;
}

std::string format_record_table(const RecordDetails& d) {
    const Replicable& r = *d.replicable;
    std::string out = r.name + " " + std::to_string(d.id) + "\n";
    if (d.on_primary) {
        out += "  repository path  " + (d.repository_path ? *d.repository_path : "unknown: " + d.path_error) + "\n";
        out += std::string("  in scope         ") + (d.in_scope ? "yes" : "no (scope: " + r.scope + ")") + "\n";
    } else {
        out += "  not on the primary: no " + r.model_table + " row (deleted there; the next sync removes the registry "
               "row)\n";
    }
    if (!d.secondary) {
        out += "\nstate (" + r.states_table + ")\n";
        if (d.state)
            add_row_lines(out, *d.state,
                          {{"next verification retry", next_retry(*d.state, "verification_state", "verification_retry_at")}});
        else
            out += "  no row yet: the next verify run creates it\n";
        return out;
    }
    out += "\nregistry (" + r.registry_table + ")\n";
    if (d.registry)
        add_row_lines(out, *d.registry,
                      {{"next sync retry", next_retry(*d.registry, "state", "retry_at")},
                       {"next verification retry", next_retry(*d.registry, "verification_state", "verification_retry_at")},
                       {"refs that differ", d.ref_differences}});
    else
        out += "  no row yet: the next sync creates it\n";
    out += "\nprimary (" + r.states_table + ")\n";
    if (d.state) {
        const ColumnValue* state = d.state->column("verification_state");
        out += "  verification_state     " + (state ? readable_value(*state) : "-") + "\n";
        auto checksum = column_text(d.state, "verification_checksum");
        out += "  verification_checksum  " + checksum.value_or("-");
        if (auto match = checksums_match(d))
            out += *match ? "  (matches this site's)" : "  (DIFFERS from this site's " +
                                                             *column_text(d.registry, "verification_checksum") + ")";
        out += "\n";
    } else {
        out += "  no state row: the primary has not verified it yet\n";
    }
    return out;
}

std::string format_record_json(const RecordDetails& d) {
    const Replicable& r = *d.replicable;
    nlohmann::ordered_json out;
    out["replicable"] = r.name;
    out["id"] = d.id;
    out["on_primary"] = d.on_primary;
    out["in_scope"] = d.on_primary ? nlohmann::ordered_json(d.in_scope) : nlohmann::ordered_json(nullptr);
    out["repository_path"] = d.repository_path ? nlohmann::ordered_json(*d.repository_path) : nullptr;
    if (!d.path_error.empty())
        out["repository_path_error"] = d.path_error;
    auto retry = [](const std::optional<TableRow>& row, const char* state, const char* column) {
        auto words = row ? next_retry(*row, state, column) : std::nullopt;
        return words ? nlohmann::ordered_json(*words) : nlohmann::ordered_json(nullptr);
    };
    if (!d.secondary) {
        out["state"] = d.state ? json_row(*d.state) : nlohmann::ordered_json(nullptr);
        out["next_verification_retry"] = retry(d.state, "verification_state", "verification_retry_at");
    } else {
        out["registry"] = d.registry ? json_row(*d.registry) : nlohmann::ordered_json(nullptr);
        out["next_sync_retry"] = retry(d.registry, "state", "retry_at");
        out["next_verification_retry"] = retry(d.registry, "verification_state", "verification_retry_at");
        out["ref_differences"] = json_or_null<nlohmann::ordered_json>(d.ref_differences);
        out["primary"] = d.state ? json_row(*d.state) : nlohmann::ordered_json(nullptr);
        auto match = checksums_match(d);
        out["checksum_matches"] = match ? nlohmann::ordered_json(*match) : nlohmann::ordered_json(nullptr);
    }
    return out.dump(2) + "\n";
}

}  // namespace geo_ssf
