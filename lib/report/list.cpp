#include "report/list.hpp"

#include "common/json.hpp"
#include "common/error.hpp"
#include "common/text_table.hpp"
#include "common/time_words.hpp"
#include "db/record_rows.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace geo_ssf {

namespace {

std::string accepted_words(const std::vector<std::string>& words) {
    std::string out;
    for (const auto& w : words)
        out += (out.empty() ? "" : ", ") + w;
    return out;
}

// "verification_failed" → "failed".
std::string short_verification_name(VerificationState state) {
    return std::string(verification_state_name(state)).substr(std::string("verification_").size());
}

std::string when(const std::optional<double>& seconds) {
    return seconds ? relative_time_in_words(*seconds) : std::string("-");
}

// A failure message cut for a table column; `show` prints it whole.
std::string cut(const std::optional<std::string>& text) {
    if (!text)
        return "";
    std::string out = truncate_utf8(*text, 60);
    return out.size() < text->size() ? out + "..." : out;
}

nlohmann::ordered_json optional_json(const std::optional<std::string>& value) {
    return json_or_null<nlohmann::ordered_json>(value);
}

}  // namespace

SyncState sync_state_option(const std::string& text) {
    if (auto state = parse_sync_state(text))
        return *state;
    std::vector<std::string> words;
    for (auto state : k_sync_states)
        words.push_back(sync_state_name(state));
    throw UsageError("unknown sync state \"" + text + "\" (accepted: " + accepted_words(words) + ")");
}

VerificationState verification_state_option(const std::string& text) {
    if (auto state = parse_verification_state(text))
        return *state;
    std::vector<std::string> words;
    for (auto state : k_verification_states)
        words.push_back(short_verification_name(state));
    throw UsageError("unknown verification state \"" + text + "\" (accepted: " + accepted_words(words) +
                     ", or with the verification_ prefix)");
}

RecordPage list_records(Site& site, const std::string& replicable, const ListQuery& query) {
    const Replicable& r = site.config().replicable(replicable);
    bool secondary = !site.is_primary();
    if (!secondary && query.sync_state)
        throw UsageError("--sync-state lists a secondary's registry; a primary has only verification states");
    if (!secondary && query.missing_on_primary)
        throw UsageError("--missing-on-primary lists a secondary's registry; a primary has its own repositories");
    site.require_migrated(secondary ? DatabaseKind::geo : DatabaseKind::main);
    RowFilter filter{query.sync_state, query.verification_state, query.missing_on_primary};
    pqxx::read_transaction tx(secondary ? site.geo_database() : site.main_database());
    RecordPage page;
    for (auto& row : read_listed_rows(tx, r, secondary, filter, query.after, query.limit + 1)) {
        if (static_cast<int>(page.records.size()) == query.limit) {
            page.next_after = page.records.back().id;
            break;
        }
        ListedRecord rec;
        rec.id = row.id;
        rec.sync_state = row.sync_state;
        rec.verification_state = row.verification_state;
        rec.synced_at = std::move(row.synced_at);
        rec.synced_seconds = row.synced_seconds;
        rec.sync_claimed_at = std::move(row.sync_claimed_at);
        rec.sync_retry_at = std::move(row.sync_retry_at);
        rec.verification_retry_at = std::move(row.verification_retry_at);
        rec.verified_at = std::move(row.verified_at);
        rec.verified_seconds = row.verified_seconds;
        if (row.sync_retry_seconds)
            rec.next_sync_retry = retry_in_words(*row.sync_retry_seconds);
        if (row.verification_retry_seconds)
            rec.next_verification_retry = retry_in_words(*row.verification_retry_seconds);
        rec.retry_count = row.retry_count;
        rec.verification_retry_count = row.verification_retry_count;
        rec.last_sync_failure = std::move(row.last_sync_failure);
        rec.verification_failure = std::move(row.verification_failure);
        rec.missing_on_primary = row.missing_on_primary;
        page.records.push_back(std::move(rec));
    }
    return page;
}

namespace {

// The FAILURE column: the sync failure, else the verification failure, else whether the primary
// lacked the repository (a synced record that has nothing to verify).
std::string failure_column(const ListedRecord& rec, bool wide) {
    auto failure = rec.last_sync_failure ? rec.last_sync_failure : rec.verification_failure;
    if (!failure && rec.missing_on_primary)
        return "missing on the primary";
    // A terminal would take control characters in a stored text (a path, git's words) for commands.
    return printable(wide ? failure.value_or("") : cut(failure), std::string::npos);
}

}  // namespace

std::string format_record_page_table(const RecordPage& page, bool secondary, bool wide) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& rec : page.records) {
        std::string retry = rec.next_sync_retry.value_or(rec.next_verification_retry.value_or("-"));
        std::string failure = failure_column(rec, wide);
        if (secondary)
            rows.push_back({std::to_string(rec.id), sync_state_name(*rec.sync_state),
                            short_verification_name(rec.verification_state), when(rec.synced_seconds), retry,
                            failure});
        else
            rows.push_back({std::to_string(rec.id), short_verification_name(rec.verification_state),
                            when(rec.verified_seconds), retry, failure});
    }
    std::string out =
        secondary ? format_table({"ID", "SYNC", "VERIFICATION", "LAST SYNCED", "NEXT RETRY", "FAILURE"}, rows)
                  : format_table({"ID", "VERIFICATION", "VERIFIED", "NEXT RETRY", "FAILURE"}, rows);
    if (page.records.empty())
        out += "(no records)\n";
    if (page.next_after)
        out += "(more: add --after " + std::to_string(*page.next_after) + ")\n";
    return out;
}

std::string format_record_page_json(const RecordPage& page, bool secondary) {
    nlohmann::ordered_json records = nlohmann::ordered_json::array();
    for (const auto& rec : page.records) {
        nlohmann::ordered_json item;
        item["id"] = rec.id;
        if (secondary) {
            item["state"] = sync_state_name(*rec.sync_state);
            item["synced_at"] = optional_json(rec.synced_at);
            item["sync_claimed_at"] = optional_json(rec.sync_claimed_at);
            item["retry_count"] = rec.retry_count;
            item["retry_at"] = optional_json(rec.sync_retry_at);
            item["last_sync_failure"] = optional_json(rec.last_sync_failure);
            item["missing_on_primary"] = rec.missing_on_primary;
        }
        item["verification_state"] = verification_state_name(rec.verification_state);
        item["verified_at"] = optional_json(rec.verified_at);
        item["verification_retry_count"] = rec.verification_retry_count;
        item["verification_retry_at"] = optional_json(rec.verification_retry_at);
        item["verification_failure"] = optional_json(rec.verification_failure);
        records.push_back(std::move(item));
    }
    nlohmann::ordered_json out;
    out["records"] = records;
    out["next_after"] = page.next_after ? nlohmann::ordered_json(*page.next_after) : nlohmann::ordered_json(nullptr);
    return out.dump(2) + "\n";
}

QuarantinePage list_quarantined(Site& site, const std::string& replicable, long long after, int limit) {
    if (site.is_primary())
        throw UsageError("--quarantined lists a secondary's quarantine; a primary removes nothing by itself");
    const Config& config = site.config();
    const Replicable& r = config.replicable(replicable);
    QuarantinePage page;
    page.retention = config.removed_retention;
    page.now = std::chrono::system_clock::now();
    // Each storage's quarantine, merged by record and age; then the first LIMIT + 1 records.
    for (const auto& storage : config.storages)
        for (auto& copy : quarantined_copies(storage.root, r.name, after, limit + 1))
            page.copies.push_back(std::move(copy));
    std::stable_sort(page.copies.begin(), page.copies.end(), [](const QuarantinedCopy& a, const QuarantinedCopy& b) {
        return a.id != b.id ? a.id < b.id : a.removed_at < b.removed_at;
    });
    std::vector<long long> ids;
    for (const auto& copy : page.copies)
        if (ids.empty() || ids.back() != copy.id)
            ids.push_back(copy.id);
    if (ids.size() > static_cast<size_t>(limit) + 1) {
        long long beyond = ids[static_cast<size_t>(limit) + 1];
        page.copies.erase(std::find_if(page.copies.begin(), page.copies.end(),
                                       [&](const QuarantinedCopy& c) { return c.id == beyond; }),
                          page.copies.end());
        ids.resize(static_cast<size_t>(limit) + 1);
    }
    if (static_cast<int>(ids.size()) > limit) {
        page.copies.erase(std::remove_if(page.copies.begin(), page.copies.end(),
                                         [&](const QuarantinedCopy& c) { return c.id == ids.back(); }),
                          page.copies.end());
        page.next_after = ids[ids.size() - 2];
    }
    return page;
}

namespace {

const char* k_iso_utc = "%Y-%m-%dT%H:%M:%SZ";

double seconds_from(SystemTime now, SystemTime then) {
    return std::chrono::duration<double>(then - now).count();
}

}  // namespace

std::string format_quarantine_page_table(const QuarantinePage& page) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& copy : page.copies) {
        double purge_in = seconds_from(page.now, copy.removed_at + page.retention);
        rows.push_back({std::to_string(copy.id), relative_time_in_words(seconds_from(page.now, copy.removed_at)),
                        purge_in > 0 ? relative_time_in_words(purge_in) : "by the next sync", megabytes_text(copy.bytes),
                        printable(copy.path.string(), std::string::npos)});
    }
    std::string out = format_table({"ID", "REMOVED", "PURGED", "SIZE", "PATH"}, rows);
    if (page.copies.empty())
        out += "(no quarantined copies)\n";
    if (page.next_after)
        out += "(more: add --after " + std::to_string(*page.next_after) + ")\n";
    return out;
}

std::string format_quarantine_page_json(const QuarantinePage& page) {
    nlohmann::ordered_json copies = nlohmann::ordered_json::array();
    for (const auto& copy : page.copies) {
        nlohmann::ordered_json item;
        item["id"] = copy.id;
        item["path"] = copy.path.string();
        item["removed_at"] = format_utc(copy.removed_at, k_iso_utc);
        item["purged_after"] = format_utc(copy.removed_at + page.retention, k_iso_utc);
        item["bytes"] = copy.bytes;
        copies.push_back(std::move(item));
    }
    nlohmann::ordered_json out;
    out["quarantined"] = copies;
    out["next_after"] = page.next_after ? nlohmann::ordered_json(*page.next_after) : nlohmann::ordered_json(nullptr);
    return out.dump(2) + "\n";
}

}  // namespace geo_ssf
