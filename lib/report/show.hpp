// Everything this site knows about one record (`geo-ssf show`): the model row's id and
// repository path, the primary's state row, and on a secondary its registry row beside the
// primary's checksum.
#pragma once

#include "db/record_rows.hpp"
#include "db/sync_times.hpp"
#include "site/config.hpp"
#include "site/site.hpp"

#include <optional>
#include <string>
#include <vector>

namespace geo_ssf {

struct RecordDetails {
    const Replicable* replicable = nullptr;
    long long id = 0;
    bool on_primary = false;                     // the model row exists
    bool in_scope = false;                       // and the type's scope selects it
    std::optional<std::string> repository_path;  // when it exists and its path columns are set
    std::string path_error;                      // why there is no path, when it exists
    std::optional<std::string> storage;          // the storage it names, when it exists and names one
    std::optional<TableRow> state;               // the primary's state row (main database)
    bool secondary = false;
    std::optional<TableRow> registry;            // secondary: the registry row (tracking database)
    std::optional<std::string> ref_differences;  // secondary: the refs that differed at the last mismatch
    std::optional<TableRow> deep_check;          // this site's (geo_ssf_deep_checks)
    std::optional<TableRow> housekeeping;        // secondary: its copy's (geo_ssf_housekeeping)
    std::optional<SyncedAt> synced_at;           // secondary: when its last sync succeeded
};

// Reads RECORD_ID of REPLICABLE on SITE. A record that has no model row (and, on a secondary,
// no registry row either) is a UsageError: "no cool_widget record with id 42".
RecordDetails record_details(Site& site, const std::string& replicable, long long record_id);

// When the next retry is, for a row whose state (STATE_COLUMN) is failed: "in 3 minutes",
// "due now"; nullopt when the row is not failed.
std::optional<std::string> next_retry(const TableRow& row, const std::string& state_column,
                                      const std::string& retry_column);

// When that retry is, for scripts: the retry column's time, or now when it has none (due);
// nullopt when the row is not failed. ISO 8601.
std::optional<std::string> next_retry_time(const TableRow& row, const std::string& state_column,
                                           const std::string& retry_column);

// Whether the secondary's checksum equals the primary's: nullopt when either is missing.
std::optional<bool> checksums_match(const RecordDetails& details);

std::string format_record_table(const RecordDetails& details);
std::string format_record_json(const RecordDetails& details);

}  // namespace geo_ssf
