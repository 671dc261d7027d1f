#include "report/status_format.hpp"

#include "common/json.hpp"
#include "common/text_table.hpp"
#include "common/time_words.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <utility>
#include <vector>

namespace geo_ssf {

namespace {

enum class Percentage { none, of_checksum_total, of_registry };

// One of GitLab's integer fields, or ours, as each output shows it. {T} in HELP is the type's
// title.
struct Field {
    const char* name;  // after "<plural>_"
    std::optional<long long> StatusCounts::*member;
    const char* label;  // in the table; nullptr: not shown there
    // The HELP of its gauge named after the type (GitLab's geo_<plural>_...), kept for one release
    // beside the geo_ssf_ gauges with a type label; nullptr: it has no such gauge.
    const char* help;
    bool failure;       // "FAILED" in the table when above zero
    Percentage percentage;
};

const Field k_primary_fields[] = {
    {"count", &StatusCounts::count, "Records", "Number of {T} on primary", false, Percentage::none},
    {"checksum_total_count", &StatusCounts::checksum_total, "Available to checksum",
     "Number of {T} to checksum on primary", false, Percentage::none},
    {"checksummed_count", &StatusCounts::checksummed, "Checksummed",
     "Number of {T} that successfully calculated the checksum on primary", false, Percentage::of_checksum_total},
    {"checksum_failed_count", &StatusCounts::checksum_failed, "Failed to checksum",
     "Number of {T} that failed to calculate the checksum on primary", true, Percentage::none},
    {"checksum_pending_count", &StatusCounts::pending, "Pending", nullptr, false, Percentage::none},
    {"deep_check_failed_count", &StatusCounts::deep_check_failed, "Failed deep check", nullptr, true,
     Percentage::none},
    {"deep_check_due_count", &StatusCounts::deep_check_due, "Due a deep check", nullptr, false, Percentage::none},
};

const Field k_secondary_fields[] = {
    {"count", &StatusCounts::count, nullptr, "Number of {T} in the registry (GitLab's count on a secondary)", false,
     Percentage::none},
    {"registry_count", &StatusCounts::registry, "In the registry", "Number of {T} in the registry", false,
     Percentage::none},
    {"synced_count", &StatusCounts::synced, "Synced", "Number of syncable {T} synced on secondary", false,
     Percentage::of_registry},
    {"failed_count", &StatusCounts::failed, "Failed to sync", "Number of syncable {T} failed to sync on secondary", true,
     Percentage::none},
    {"pending_count", &StatusCounts::pending, "Pending", nullptr, false, Percentage::none},
    {"oldest_pending_age_seconds", &StatusCounts::oldest_pending_age, nullptr, nullptr, false, Percentage::none},
    {"verification_total_count", &StatusCounts::verification_total, "Available to verify",
     "Number of {T} to attempt to verify on secondary", false, Percentage::none},
    {"verified_count", &StatusCounts::verified, "Verified", "Number of {T} successfully verified on secondary", false,
     Percentage::of_registry},
    {"verification_failed_count", &StatusCounts::verification_failed, "Failed to verify",
     "Number of {T} that failed verification on secondary", true, Percentage::none},
    {"registry_missing_count", &StatusCounts::registry_missing, "No registry row yet",
     "Number of {T} on primary with no registry row on secondary yet", false, Percentage::none},
    {"missing_on_primary_count", &StatusCounts::missing_on_primary, "Missing on primary",
     "Number of {T} synced on secondary while the primary had no repository for them", false, Percentage::none},
    {"deep_check_failed_count", &StatusCounts::deep_check_failed, "Failed deep check", nullptr, true,
     Percentage::none},
    {"deep_check_due_count", &StatusCounts::deep_check_due, "Due a deep check", nullptr, false, Percentage::none},
    {"housekeeping_failed_count", &StatusCounts::housekeeping_failed, "Failed housekeeping", nullptr, true,
     Percentage::none},
};

template <size_t N>
std::vector<Field> as_vector(const Field (&fields)[N]) {
    return std::vector<Field>(fields, fields + N);
}

std::vector<Field> fields_for(Role role) {
    return role == Role::primary ? as_vector(k_primary_fields) : as_vector(k_secondary_fields);
}

std::string help_for(const Field& field, const Replicable& r) {
    std::string text = field.help;
    text.replace(text.find("{T}"), 3, r.title_plural);
    return text;
}

bool verification_field(const Field& field) {
    return field.member == &StatusCounts::verification_total || field.member == &StatusCounts::verified ||
           field.member == &StatusCounts::verification_failed;
}

// "label  value  note" lines with the labels and the values aligned.
class AlignedLines {
public:
    void add(std::string label, std::string value, std::string note = "") {
        m_lines.push_back({std::move(label), std::move(value), std::move(note)});
    }
    std::string render(bool right_align_values) const {
        size_t label_width = 0, value_width = 0;
        for (const auto& l : m_lines) {
            label_width = std::max(label_width, l.label.size());
            value_width = std::max(value_width, l.value.size());
        }
        std::string out;
        for (const auto& l : m_lines) {
            std::string line = "  " + l.label + std::string(label_width - l.label.size() + 2, ' ');
            std::string padding(value_width - l.value.size(), ' ');
            line += right_align_values ? padding + l.value : l.value + padding;
            if (!l.note.empty())
                line += "   " + l.note;
            while (!line.empty() && line.back() == ' ')
                line.pop_back();
            out += line + "\n";
        }
        return out;
    }

private:
    struct Line {
        std::string label, value, note;
    };
    std::vector<Line> m_lines;
};

std::string one_line(std::string text) {
    for (auto& c : text)
        if (c == '\n' || c == '\r')
            c = ' ';
    return text;
}

std::string describe_event(const std::optional<EventMark>& mark) {
    if (!mark)
        return "none yet";
    std::string out = std::to_string(mark->id);
    if (mark->date) {
        out += ", " + readable_timestamp(*mark->date);
        if (mark->age_seconds)
            out += " (" + relative_time_in_words(-*mark->age_seconds) + ")";
    }
    return out;
}

// When the walk that status trusts last went through every record, and where it stands.
std::string describe_walk(const WalkProgress& walk) {
    std::string out = walk.passed_at ? readable_timestamp(*walk.passed_at) : "none yet";
    if (walk.passed_at && walk.passed_age_seconds)
        out += " (" + relative_time_in_words(-*walk.passed_age_seconds) + ")";
    if (walk.position)
        out += std::string(walk.passed_at ? ", the next one" : ", the first one") + " at id " + std::to_string(*walk.position);
    return out;
}

// How long the oldest change a secondary's registry waits for has waited, and since when.
std::string describe_oldest_pending(const TypeStatus& t) {
    const auto& age = t.counts.oldest_pending_age;
    if (!age)
        return std::find(t.unknown_fields.begin(), t.unknown_fields.end(), &StatusCounts::oldest_pending_age) !=
                       t.unknown_fields.end()
                   ? "unknown: " + one_line(t.reason)
                   : "unknown";
    if (!t.oldest_pending_since)
        return "none: every record is synced or failed";
    return duration_in_words(static_cast<double>(*age)) + ", since " + readable_timestamp(*t.oldest_pending_since);
}

// A lag: "0.42 s" under a minute, else in words ("3 minutes").
std::string lag_text(double seconds) {
    if (seconds >= 60)
        return duration_in_words(seconds);
    char text[32];
    std::snprintf(text, sizeof text, "%.2f s", seconds);
    return text;
}

// "synced 0.42 s after it was published, verified 0.61 s after (3 minutes ago)"
std::string describe_last_change(const replication_lags::LagStatus& lag) {
    if (!lag.last_sync_lag)
        return "none replicated yet";
    std::string out = "synced " + lag_text(*lag.last_sync_lag) + " after it was published";
    if (lag.last_verification_lag)
        out += ", verified " + lag_text(*lag.last_verification_lag) + " after";
    else
        out += ", not verified yet";
    if (lag.last_synced_age)
        out += " (" + relative_time_in_words(-*lag.last_synced_age) + ")";
    return out;
}

// "none", or "published 2 minutes ago, not synced yet"
std::string describe_pending_change(const replication_lags::LagStatus& lag) {
    if (lag.oldest_unsynced_age)
        return "published " + relative_time_in_words(-*lag.oldest_unsynced_age) + ", not synced yet";
    if (lag.oldest_unverified_age)
        return "published " + relative_time_in_words(-*lag.oldest_unverified_age) + ", synced, not verified yet";
    return "none";
}

std::string type_heading(const Replicable& r) { return r.title_plural + " (" + r.name + ")\n"; }

std::string type_block(const TypeStatus& t, Role role) {
    const Replicable& r = *t.replicable;
    if (t.outcome == TypeOutcome::disabled)
        return type_heading(r) + "  not counted: " + one_line(t.reason) + "\n";
    if (t.outcome == TypeOutcome::unknown)
        return type_heading(r) + "  unknown: " + one_line(t.reason) + "\n";
    AlignedLines lines;
    bool verification_shown = false;
    for (const auto& field : fields_for(role)) {
        if (!field.label)
            continue;
        const auto& value = t.counts.*field.member;
        if (!value && std::find(t.unknown_fields.begin(), t.unknown_fields.end(), field.member) != t.unknown_fields.end()) {
            lines.add(field.label, "unknown", one_line(t.reason));
            continue;
        }
        if (!value) {
            if (verification_field(field) && !verification_shown)
                lines.add("Verification", "disabled");
            verification_shown = verification_shown || verification_field(field);
            continue;
        }
        std::string note;
        if (field.failure && *value > 0)
            note = "FAILED";
        std::optional<double> percentage;
        if (field.percentage == Percentage::of_registry)
            percentage = field.member == &StatusCounts::synced ? synced_percentage(t.counts) : verified_percentage(t.counts);
        if (field.percentage == Percentage::of_checksum_total && t.counts.checksum_total)
            percentage = *t.counts.checksum_total == 0 ? 0.0
                                                       : static_cast<double>(*value) /
                                                             static_cast<double>(*t.counts.checksum_total) * 100.0;
        if (percentage)
            note = format_percentage(*percentage);
        lines.add(field.label, std::to_string(*value), note);
    }
    std::string out = type_heading(r) + lines.render(true);
    if (role == Role::secondary)
        out += "  Oldest pending  " + describe_oldest_pending(t) + "\n";
    if (t.walk)
        out += "  Last full pass  " + describe_walk(*t.walk) + "\n";
    if (t.lag) {
        AlignedLines lag;
        lag.add("Last change", describe_last_change(*t.lag));
        lag.add("Oldest change pending", describe_pending_change(*t.lag));
        out += lag.render(false);
    }
    return out;
}

template <typename T>
nlohmann::ordered_json optional_json(const std::optional<T>& value) {
    return json_or_null<nlohmann::ordered_json>(value);
}

const char* outcome_name(TypeOutcome outcome) {
    switch (outcome) {
    case TypeOutcome::counted:
        return "ok";
    case TypeOutcome::partial:
        return "partial";
    case TypeOutcome::unknown:
        return "unknown";
    case TypeOutcome::disabled:
        return "disabled";
    }
    return "unknown";
}


// Gauge families in the text exposition format: each family's HELP and TYPE once, then its
// samples together, in the order the families were first given; every sample has the site label.
class Exposition {
public:
    explicit Exposition(const std::string& site) : m_site("site=\"" + escape_label_value(site) + "\"") {}
    // The labels of a sample with only the site's.
    std::string labels() const { return "{" + m_site + "}"; }
    // A sample of NAME with the site's label and LABELS ({"type", "cool_widget"}, ...).
    void gauge(const std::string& name, const std::string& help, const std::string& value,
               const std::vector<std::pair<std::string, std::string>>& labels = {}) {
        std::string text = m_site;
        for (const auto& [label, label_value] : labels)
            text += "," + label + "=\"" + escape_label_value(label_value) + "\"";
        auto family = std::find_if(m_families.begin(), m_families.end(), [&](const Family& f) { return f.name == name; });
        if (family == m_families.end())
            family = m_families.insert(m_families.end(), Family{name, help, {}});
        family->samples += name + "{" + text + "} " + value + "\n";
    }
    void comment(const std::string& text) { m_comments += "# " + one_line(text) + "\n"; }
    std::string text() const {
        std::string out = m_comments;
        for (const auto& f : m_families)
            out += "# HELP " + f.name + " " + escape_help_text(f.help) + "\n# TYPE " + f.name + " gauge\n" + f.samples;
        return out;
    }
    // A family whose samples have more labels than the site's: LABELS follow it, comma first.
    void labeled_gauge(const std::string& name, const std::string& help,
                       const std::vector<std::pair<std::string, std::string>>& samples) {
        auto family = std::find_if(m_families.begin(), m_families.end(), [&](const Family& f) { return f.name == name; });
        if (family == m_families.end())
            family = m_families.insert(m_families.end(), Family{name, help, {}});
        for (const auto& [labels, value] : samples)
            family->samples += name + "{" + m_site + "," + labels + "} " + value + "\n";
    }

private:
    struct Family {
        std::string name, help, samples;
    };
    std::string m_site;
    std::string m_comments;
    std::vector<Family> m_families;
};

// The samples of one labelled gauge, gathered over the types, written once.
class LabeledGauge {
public:
    LabeledGauge(std::string name, std::string help) : m_name(std::move(name)), m_help(std::move(help)) {}
    void add(std::string labels, std::string value) { m_samples.emplace_back(std::move(labels), std::move(value)); }
    void write_to(Exposition& exposition) const {
        if (!m_samples.empty())
            exposition.labeled_gauge(m_name, m_help, m_samples);
    }

private:
    std::string m_name;
    std::string m_help;
    std::vector<std::pair<std::string, std::string>> m_samples;
};

// The value of the sample NAME{LABELS} in an earlier exposition TEXT.
std::optional<std::string> previous_value(const std::string& text, const std::string& series) {
    std::istringstream lines(text);
    std::string line;
    while (std::getline(lines, line)) {
        if (line.rfind(series + " ", 0) != 0)
            continue;
        std::istringstream rest(line.substr(series.size() + 1));
        std::string value;
        rest >> value;
        try {
            size_t used = 0;
            std::stod(value, &used);
            if (used == value.size() && !value.empty())
                return value;
        } catch (const std::exception&) {
        }
    }
    return std::nullopt;
}

constexpr const char* k_last_success = "geo_ssf_status_last_success_timestamp_seconds";

}  // namespace

std::string format_percentage(double value) {
    char text[32];
    std::snprintf(text, sizeof text, "%.1f%%", std::floor(value * 10.0 + 1e-9) / 10.0);
    return text;
}

std::string format_number(double value) {
    if (value == std::floor(value) && std::fabs(value) < 1e15)
        return std::to_string(static_cast<long long>(value));
    char text[64];
    std::snprintf(text, sizeof text, "%.3f", value);
    return text;
}

std::string escape_label_value(const std::string& text) {
    std::string out;
    for (char c : text) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '"')
            out += "\\\"";
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
    return out;
}

std::string escape_help_text(const std::string& text) {
    std::string out;
    for (char c : text) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
    return out;
}

namespace {

// The name a storage has in status: "(no copy yet)" for a secondary's rows without a copy.
std::string storage_shown(const std::string& storage) { return storage.empty() ? "(no copy yet)" : storage; }

// status --by-storage as a table: a row per type and storage.
std::string by_storage_table(const SiteStatus& status) {
    bool primary = status.role == Role::primary;
    std::vector<std::vector<std::string>> rows;
    for (const auto& [type, storages] : status.by_storage)
        for (const auto& [storage, counts] : storages) {
            std::vector<std::string> row = {type, storage_shown(storage), std::to_string(counts.records)};
            if (!primary)
                row.push_back(std::to_string(counts.synced.value_or(0)));
            row.push_back(std::to_string(counts.verified));
            row.push_back(std::to_string(counts.failed));
            rows.push_back(std::move(row));
        }
    std::vector<std::string> header = primary ? std::vector<std::string>{"TYPE", "STORAGE", "RECORDS", "CHECKSUMMED", "FAILED"}
                                              : std::vector<std::string>{"TYPE", "STORAGE", "REGISTRY", "SYNCED", "VERIFIED",
                                                                         "FAILED"};
    std::string out = "By storage\n" + format_table(header, rows);
    for (const auto& [type, reason] : status.by_storage_unknown)
        out += type + ": by storage unknown: " + one_line(reason) + "\n";
    return out;
}

}  // namespace

std::string format_status_table(const SiteStatus& status) {
    bool primary = status.role == Role::primary;
    std::string out = status.site + " (" + role_name(status.role) + " site)\n";
    AlignedLines events;
    std::string unknown = "unknown: " + one_line(status.events_reason);
    events.add(primary ? "Last event" : "Last event on the primary",
               status.events_known ? describe_event(status.last_event) : unknown);
    if (!primary)
        events.add("Last event processed", status.events_known ? describe_event(status.cursor_last_event) : unknown);
    if (status.main_is_standby)
        events.add("Database replication lag",
                   status.db_replication_lag_seconds
                       ? duration_in_words(*status.db_replication_lag_seconds)
                       : "unknown: the standby has replayed no transaction since it started");
    if (status.quarantine)
        events.add("Quarantined", describe_quarantine(*status.quarantine, status.storage_roots));
    out += events.render(false);
    for (const auto& t : status.types)
        out += "\n" + type_block(t, status.role);
    if (!status.by_storage.empty() || !status.by_storage_unknown.empty())
        out += "\n" + by_storage_table(status);
    if (status.types.empty())
        out += std::string("\nNo replicable has ") + (primary ? "verification" : "replication") +
               " enabled; see geo-ssf replicables" +
               (primary ? "" : " (a secondary defines its primary's types: copy its replicables/ and migrations/)") +
               ".\n";
    return out;
}

std::string format_status_json(const SiteStatus& status) {
    bool primary = status.role == Role::primary;
    nlohmann::ordered_json out;
    out["site"] = status.site;
    out["role"] = role_name(status.role);
    auto put_event = [&](const std::string& prefix, const std::optional<EventMark>& mark) {
        out[prefix + "_id"] = mark ? nlohmann::ordered_json(mark->id) : nlohmann::ordered_json(nullptr);
        out[prefix + "_date"] = mark && mark->date ? nlohmann::ordered_json(*mark->date) : nlohmann::ordered_json(nullptr);
    };
    put_event("last_event", status.last_event);
    if (status.quarantine) {
        out["quarantined_repositories"] = status.quarantine->repositories;
        out["quarantined_bytes"] = status.quarantine->bytes;
    }
    if (!primary)
        put_event("cursor_last_event", status.cursor_last_event);
    if (!status.events_known)
        out["events_reason"] = status.events_reason;
    out["db_replication_lag_seconds"] = optional_json(status.db_replication_lag_seconds);
    out["replicables"] = nlohmann::ordered_json::array();
    for (const auto& t : status.types) {
        const Replicable& r = *t.replicable;
        nlohmann::ordered_json type;
        type["name"] = r.name;
        type["status"] = outcome_name(t.outcome);
        if (t.outcome != TypeOutcome::counted)
            type["reason"] = t.reason;
        for (const auto& field : fields_for(status.role)) {
            if (field.member == &StatusCounts::registry_missing) {
                type[status_field_name(r.plural, "synced_in_percentage")] = optional_json(synced_percentage(t.counts));
                type[status_field_name(r.plural, "verified_in_percentage")] =
                    optional_json(verified_percentage(t.counts));
            }
            type[status_field_name(r.plural, field.name)] = optional_json(t.counts.*field.member);
        }
        if (!primary)
            type[status_field_name(r.plural, "oldest_pending_at")] = optional_json(t.oldest_pending_since);
        type[status_field_name(r.plural, "last_full_pass_at")] =
            t.walk ? optional_json(t.walk->passed_at) : nlohmann::ordered_json(nullptr);
        if (!primary) {
            replication_lags::LagStatus lag = t.lag.value_or(replication_lags::LagStatus{});
            type[status_field_name(r.plural, "last_change_sync_lag_seconds")] = optional_json(lag.last_sync_lag);
            type[status_field_name(r.plural, "last_change_verification_lag_seconds")] =
                optional_json(lag.last_verification_lag);
            type[status_field_name(r.plural, "oldest_unsynced_change_age_seconds")] =
                optional_json(lag.oldest_unsynced_age);
            type[status_field_name(r.plural, "oldest_unverified_change_age_seconds")] =
                optional_json(lag.oldest_unverified_age);
        }
        out["replicables"].push_back(std::move(type));
    }
    if (!status.by_storage.empty() || !status.by_storage_unknown.empty()) {
        out["storages"] = nlohmann::ordered_json::array();
        for (const auto& [type, storages] : status.by_storage)
            for (const auto& [storage, counts] : storages) {
                nlohmann::ordered_json row;
                row["replicable"] = type;
                row["storage"] = storage.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(storage);
                row["records"] = counts.records;
                if (!primary)
                    row["synced"] = counts.synced.value_or(0);
                row[primary ? "checksummed" : "verified"] = counts.verified;
                row["failed"] = counts.failed;
                out["storages"].push_back(std::move(row));
            }
        for (const auto& [type, reason] : status.by_storage_unknown)
            out["storages_unknown"][type] = reason;
    }
    return out.dump(2) + "\n";
}

namespace {

// The gauges of one type with a type label (and a state label where the quantity is split by
// state), named after what they count, as node_exporter names its own.
void type_gauges(Exposition& exposition, const TypeStatus& t, Role role) {
    const Replicable& r = *t.replicable;
    const std::vector<std::pair<std::string, std::string>> type = {{"type", r.name}};
    auto by_state = [&](const char* name, const char* help, const std::map<std::string, long long>& states) {
        for (const auto& [state, records] : states)
            exposition.gauge(name, help, std::to_string(records), {{"type", r.name}, {"state", state}});
    };
    auto count = [&](const std::string& name, const std::string& help, const std::optional<long long>& value) {
        if (value)
            exposition.gauge(name, help, std::to_string(*value), type);
    };
    if (role == Role::primary) {
        count("geo_ssf_records", "Records of the type in scope on the primary", t.counts.count);
        by_state("geo_ssf_checksum_records", "State rows of the type on the primary, by verification state",
                 t.counts.verification_states);
    } else {
        by_state("geo_ssf_registry_records", "Registry rows of the type, by sync state", t.counts.sync_states);
        if (r.verification_enabled)
            by_state("geo_ssf_verification_records", "Synced registry rows of the type, by verification state",
                     t.counts.verification_states);
        count("geo_ssf_registry_missing_records", "Records of the type on the primary with no registry row yet",
              t.counts.registry_missing);
        count("geo_ssf_missing_on_primary_records",
              "Registry rows of the type synced while the primary had no repository for them",
              t.counts.missing_on_primary);
        count("geo_ssf_sync_oldest_pending_age_seconds",
              "How long the oldest change the registry waits for has waited (0 when none waits)",
              t.counts.oldest_pending_age);
    }
    std::string repositories = role == Role::primary ? "repositories" : "copies";
    count("geo_ssf_deep_check_failed_records", "Records of the type whose " + repositories + " failed their last deep check",
          t.counts.deep_check_failed);
    count("geo_ssf_deep_check_due_records", "Records of the type whose " + repositories + "' deep check is due",
          t.counts.deep_check_due);
    count("geo_ssf_housekeeping_failed_records", "Records of the type whose copy's last housekeeping failed",
          t.counts.housekeeping_failed);
    if (t.walk && t.walk->passed_unix_time)
        exposition.gauge("geo_ssf_last_full_pass_timestamp_seconds",
                         std::string("When ") + (role == Role::primary ? "the state-row backfill" : "registry consistency") +
                             " of the type last went through every record",
                         format_number(*t.walk->passed_unix_time), type);
}

}  // namespace

std::string format_status_prometheus(const SiteStatus& status, double now, const std::optional<std::string>& previous) {
    bool primary = status.role == Role::primary;
    Exposition exposition(status.site);
    LabeledGauge lags("geo_ssf_last_change_lag_seconds",
                      "How long after it was published on the primary the change synced last was synced, and verified");
    LabeledGauge pending("geo_ssf_oldest_pending_change_age_seconds",
                         "Age of the oldest change published on the primary that no synced (verified) copy holds yet; "
                         "0 when none");
    for (const auto& t : status.types) {
        const Replicable& r = *t.replicable;
        if (t.outcome != TypeOutcome::counted)
            exposition.comment(r.name + ": " + outcome_name(t.outcome) + ", " + t.reason);
        if (t.outcome == TypeOutcome::unknown || t.outcome == TypeOutcome::disabled)
            continue;
        type_gauges(exposition, t, status.role);
        // GitLab's names, for one more release: the rules and the dashboard use the ones above.
        for (const auto& field : fields_for(status.role)) {
            const auto& value = t.counts.*field.member;
            if (value && field.help)
                exposition.gauge(prometheus_gauge_name(status_field_name(r.plural, field.name)), help_for(field, r),
                                 std::to_string(*value));
        }
        if (t.lag) {
            std::string type = "type=\"" + escape_label_value(r.name) + "\"";
            for (const auto& [stage, value] : {std::pair{"synced", t.lag->last_sync_lag},
                                               std::pair{"verified", t.lag->last_verification_lag}})
                if (value)
                    lags.add(type + ",stage=\"" + stage + "\"", format_number(*value));
            // 0 when nothing is pending: the gauge is there for an alert to watch.
            pending.add(type + ",stage=\"synced\"", format_number(t.lag->oldest_unsynced_age.value_or(0)));
            if (r.verification_enabled)
                pending.add(type + ",stage=\"verified\"", format_number(t.lag->oldest_unverified_age.value_or(0)));
        }
        if (t.walk && t.walk->passed_unix_time)
            exposition.gauge("geo_" + r.plural + "_last_full_pass_timestamp_seconds",
                             std::string("When ") + (primary ? "the state-row backfill" : "registry consistency") +
                                 " of " + r.title_plural + " last went through every record",
                             format_number(*t.walk->passed_unix_time));
    }
    lags.write_to(exposition);
    pending.write_to(exposition);
    LabeledGauge storages("geo_ssf_storage_records",
                          primary ? "Records of the type in scope on the primary, by storage and by whether they are "
                                    "checksummed or failed"
                                  : "Registry rows of the type, by the storage of their copy and by whether they are "
                                    "synced, verified or failed");
    for (const auto& [type, by_storage] : status.by_storage)
        for (const auto& [storage, counts] : by_storage) {
            std::string labels = "type=\"" + escape_label_value(type) + "\",storage=\"" +
                                 escape_label_value(storage_shown(storage)) + "\",state=\"";
            storages.add(labels + "all\"", std::to_string(counts.records));
            if (counts.synced)
                storages.add(labels + "synced\"", std::to_string(*counts.synced));
            storages.add(labels + (primary ? "checksummed" : "verified") + "\"", std::to_string(counts.verified));
            storages.add(labels + "failed\"", std::to_string(counts.failed));
        }
    storages.write_to(exposition);
    if (status.events_known) {
        if (status.last_event) {
            exposition.gauge("geo_last_event_id", "Database event ID on the primary",
                             std::to_string(status.last_event->id));
            if (status.last_event->unix_time)
                exposition.gauge("geo_last_event_timestamp", "UNIX timestamp of the database event on the primary",
                                 format_number(*status.last_event->unix_time));
        }
        if (!primary && status.cursor_last_event) {
            exposition.gauge("geo_cursor_last_event_id", "Last database event ID processed by the secondary",
                             std::to_string(status.cursor_last_event->id));
            if (status.cursor_last_event->unix_time)
                exposition.gauge("geo_cursor_last_event_timestamp",
                                 "Last UNIX timestamp of a database event processed by the secondary",
                                 format_number(*status.cursor_last_event->unix_time));
        }
        if (status.db_replication_lag_seconds)
            exposition.gauge("geo_db_replication_lag_seconds", "Database replication lag (seconds)",
                             format_number(*status.db_replication_lag_seconds));
    } else {
        exposition.comment("event log: unknown, " + status.events_reason);
    }
    if (status.quarantine) {
        exposition.gauge("geo_ssf_quarantined_repositories",
                         "Copies of removed records kept in the quarantine until sync.removed_retention",
                         std::to_string(status.quarantine->repositories));
        exposition.gauge("geo_ssf_quarantined_bytes", "Bytes of the copies kept in the quarantine",
                         std::to_string(status.quarantine->bytes));
    }
    std::optional<std::string> last_success;
    if (status.complete())
        last_success = format_number(now);
    else if (previous)
        last_success = previous_value(*previous, k_last_success + exposition.labels());
    if (last_success)
        exposition.gauge(k_last_success, "Unix time of the last geo-ssf status run that counted every type",
                         *last_success);
    return exposition.text();
}

}  // namespace geo_ssf
