#include "report/show.hpp"

#include "common/error.hpp"
#include "common/json.hpp"
#include "db/model_table.hpp"
#include "db/primary_reads.hpp"
#include "db/registry_table.hpp"
#include "db/states.hpp"
#include "common/time_words.hpp"

#include <nlohmann/json.hpp>

namespace geo_ssf {

namespace {

bool is_integer_type(const std::string& type) { return type == "smallint" || type == "integer" || type == "bigint"; }

// The deep checks and housekeeping of geo-ssf's own tables take the verification states' values.
bool is_work_state_column(const std::string& name) {
    return name == "deep_check_state" || name == "housekeeping_state";
}

std::string state_name(const std::string& column, const std::string& value) {
    if (column == "state")
        if (auto state = parse_sync_state(value))
            return sync_state_name(*state);
    if (column == "verification_state")
        if (auto state = parse_verification_state(value))
            return verification_state_name(*state);
    if (is_work_state_column(column))
        if (auto state = parse_verification_state(value); state && *state != VerificationState::disabled)
            return std::string(verification_state_name(*state)).substr(std::string_view("verification_").size());
    return value;
}

bool is_state_column(const std::string& name) {
    return name == "state" || name == "verification_state" || is_work_state_column(name);
}

// A column's value for people: state names with their numbers, timestamps to the second with
// how far away they are.
std::string readable_value(const ColumnValue& c) {
    if (!c.text)
        return "-";
    if (is_state_column(c.name))
        return state_name(c.name, *c.text) + " (" + *c.text + ")";
    if (c.type == k_timestamptz && c.seconds_from_now)
        return readable_timestamp(*c.text) + " (" + relative_time_in_words(*c.seconds_from_now) +
               (c.name == "last_synced_at" ? "; when a sync last began, whatever its outcome" : "") + ")";
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

// TEXT for a terminal, which would take its control characters (from a record's path, a stored
// failure) for commands: each shown as \xNN.
std::string shown(const std::string& text) { return printable(text, std::string::npos); }

// Every column of ROW, then EXTRA lines (what the columns mean: when the next retry is), names
// and values aligned.
void add_row_lines(std::string& out, const TableRow& row,
                   const std::vector<std::pair<std::string, std::optional<std::string>>>& extra) {
    std::vector<std::pair<std::string, std::string>> lines;
    for (const auto& c : row.columns)
        lines.emplace_back(shown(c.name), shown(readable_value(c)));
    for (const auto& [label, value] : extra)
        if (value)
            lines.emplace_back(label, shown(*value));
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

std::optional<std::string> next_deep_check(const TableRow& row) {
    if (auto retry = next_retry(row, "deep_check_state", "deep_check_retry_at"))
        return retry;
    const ColumnValue* state = row.column("deep_check_state");
    if (state && state->text && *state->text == std::to_string(static_cast<int>(VerificationState::started)))
        return "under way";
    const ColumnValue* due = row.column("deep_check_due_at");
    if (!due || !due->seconds_from_now)
        return "not scheduled yet: the next verify run schedules it";
    return retry_in_words(*due->seconds_from_now);
}

void add_deep_check_lines(std::string& out, const RecordDetails& d) {
    out += "\ndeep check (geo_ssf_deep_checks)\n";
    if (d.deep_check)
        add_row_lines(out, *d.deep_check, {{"next deep check", next_deep_check(*d.deep_check)}});
    else
        out += std::string("  no row yet: made when ") +
               (d.secondary ? "a sync or verification proves the copy\n" : "verify proves the repository\n");
}

}  // namespace

RecordDetails record_details(Site& site, const std::string& replicable, long long record_id) {
    const Replicable& r = site.config().replicable(replicable);
    RecordDetails details;
    details.replicable = &r;
    details.id = record_id;
    details.secondary = !site.is_primary();
    details = read_primary(site.main_database(), [&](pqxx::transaction_base& tx) {
        RecordDetails read = details;
        if (auto model = model_row(tx, r, record_id)) {
            read.on_primary = true;
            read.in_scope = model->in_scope;
            if (model->path_error.empty()) {
                read.repository_path = model->repository_path;
                read.storage = model->storage;
            }
            read.path_error = model->path_error;
        }
        read.state = read_table_row(tx, r.states_table, r.foreign_key, record_id);
        if (!details.secondary)
            read.deep_check = read_table_row(tx, "geo_ssf_deep_checks", "record_id", record_id, r.name);
        return read;
    });
    if (details.secondary) {
        pqxx::read_transaction tx(site.geo_database());
        details.registry = read_table_row(tx, r.registry_table, r.foreign_key, record_id);
        details.ref_differences = registry_table::ref_differences(tx, r, record_id);
        details.deep_check = read_table_row(tx, "geo_ssf_deep_checks", "record_id", record_id, r.name);
        details.housekeeping = read_table_row(tx, "geo_ssf_housekeeping", "record_id", record_id, r.name);
        details.synced_at = read_synced_at(tx, r, record_id);
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

std::optional<std::string> next_retry_time(const TableRow& row, const std::string& state_column,
                                           const std::string& retry_column) {
    const ColumnValue* state = row.column(state_column);
    if (!state || !state->text || *state->text != std::to_string(static_cast<int>(SyncState::failed)))
        return std::nullopt;
    const ColumnValue* retry = row.column(retry_column);
    if (retry && retry->text)
        return *retry->text;
    return format_utc(std::chrono::system_clock::now(), "%Y-%m-%dT%H:%M:%SZ");
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
        if (!r.storage_column.empty())
            out += "  storage          " + shown(d.storage ? *d.storage : "unknown: " + d.path_error) + "\n";
        out += "  repository path  " +
               shown(d.repository_path ? *d.repository_path : "unknown: " + d.path_error) + "\n";
        out += std::string("  in scope         ") + (d.in_scope ? "yes" : "no (scope: " + shown(r.scope) + ")") + "\n";
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
        add_deep_check_lines(out, d);
        return out;
    }
    out += "\nregistry (" + r.registry_table + ")\n";
    std::string synced = d.synced_at ? readable_timestamp(d.synced_at->time) + " (" +
                                           relative_time_in_words(d.synced_at->seconds_from_now) + ")"
                                     : "none recorded";
    if (d.registry)
        add_row_lines(out, *d.registry,
                      {{"last synced", synced},
                       {"next sync retry", next_retry(*d.registry, "state", "retry_at")},
                       {"next verification retry", next_retry(*d.registry, "verification_state", "verification_retry_at")},
                       {"refs that differ", d.ref_differences}});
    else
        out += "  no row yet: the next sync creates it\n";
    add_deep_check_lines(out, d);
    out += "\nhousekeeping (geo_ssf_housekeeping)\n";
    if (d.housekeeping)
        add_row_lines(out, *d.housekeeping,
                      {{"next housekeeping retry",
                        next_retry(*d.housekeeping, "housekeeping_state", "housekeeping_retry_at")}});
    else
        out += "  no row yet: made when a sync fetches into the copy\n";
    out += "\nprimary (" + r.states_table + ")\n";
    if (d.state) {
        const ColumnValue* state = d.state->column("verification_state");
        out += "  verification_state     " + (state ? readable_value(*state) : "-") + "\n";
        auto checksum = column_text(d.state, "verification_checksum");
        out += "  verification_checksum  " + shown(checksum.value_or("-"));
        if (auto match = checksums_match(d))
            out += *match ? "  (matches this site's)"
                          : "  (DIFFERS from this site's " + shown(*column_text(d.registry, "verification_checksum")) +
                                ")";
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
    out["storage"] = d.storage ? nlohmann::ordered_json(*d.storage) : nullptr;
    out["repository_path"] = d.repository_path ? nlohmann::ordered_json(*d.repository_path) : nullptr;
    if (!d.path_error.empty())
        out["repository_path_error"] = d.path_error;
    auto retry = [](const std::optional<TableRow>& row, const char* state, const char* column) {
        auto time = row ? next_retry_time(*row, state, column) : std::nullopt;
        return time ? nlohmann::ordered_json(*time) : nlohmann::ordered_json(nullptr);
    };
    if (!d.secondary) {
        out["state"] = d.state ? json_row(*d.state) : nlohmann::ordered_json(nullptr);
        out["next_verification_retry_at"] = retry(d.state, "verification_state", "verification_retry_at");
        out["deep_check"] = d.deep_check ? json_row(*d.deep_check) : nlohmann::ordered_json(nullptr);
        out["next_deep_check"] = json_or_null<nlohmann::ordered_json>(d.deep_check ? next_deep_check(*d.deep_check)
                                                                                    : std::nullopt);
    } else {
        out["registry"] = d.registry ? json_row(*d.registry) : nlohmann::ordered_json(nullptr);
        out["synced_at"] = d.synced_at ? nlohmann::ordered_json(d.synced_at->time) : nlohmann::ordered_json(nullptr);
        out["next_sync_retry_at"] = retry(d.registry, "state", "retry_at");
        out["next_verification_retry_at"] = retry(d.registry, "verification_state", "verification_retry_at");
        out["ref_differences"] = json_or_null<nlohmann::ordered_json>(d.ref_differences);
        out["primary"] = d.state ? json_row(*d.state) : nlohmann::ordered_json(nullptr);
        auto match = checksums_match(d);
        out["checksum_matches"] = match ? nlohmann::ordered_json(*match) : nlohmann::ordered_json(nullptr);
        out["deep_check"] = d.deep_check ? json_row(*d.deep_check) : nlohmann::ordered_json(nullptr);
        out["next_deep_check"] = json_or_null<nlohmann::ordered_json>(d.deep_check ? next_deep_check(*d.deep_check)
                                                                                    : std::nullopt);
        out["housekeeping"] = d.housekeeping ? json_row(*d.housekeeping) : nlohmann::ordered_json(nullptr);
    }
    return out.dump(2) + "\n";
}

}  // namespace geo_ssf
