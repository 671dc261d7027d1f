// Registry and states rows read for people: one row with every column (`show`), and a page of
// rows in a state (`list`).
#pragma once

#include "db/states.hpp"
#include "site/replicable.hpp"

#include <pqxx/pqxx>

#include <optional>
#include <string>
#include <vector>

namespace geo_ssf {

// One column of a state or registry row, read generically so that every column shows,
// whatever the table's shape.
struct ColumnValue {
    std::string name;
    std::string type;                        // PostgreSQL's type name: bigint, bytea, timestamp with time zone, ...
    std::optional<std::string> text;         // NULL is nullopt; bytea as lowercase hex; timestamps ISO 8601
    std::optional<double> seconds_from_now;  // timestamps with time zone, on the database's clock
};

struct TableRow {
    std::string table;
    std::vector<ColumnValue> columns;

    const ColumnValue* column(const std::string& name) const;
};

inline constexpr const char* k_timestamptz = "timestamp with time zone";

// The row of TABLE whose KEY is ID, every column in the table's order; nullopt when there is none.
// In one of geo-ssf's tables that every type shares, the row of TYPE (its replicable column).
std::optional<TableRow> read_table_row(pqxx::transaction_base& tx, const std::string& table, const std::string& key,
                                       long long id, const std::optional<std::string>& type = std::nullopt);

// Which rows a listing takes.
struct RowFilter {
    std::optional<SyncState> sync_state;  // registry only
    std::optional<VerificationState> verification_state;
    bool missing_on_primary = false;  // registry only
};

// A registry row (or, without the sync columns, a states row) as `list` shows it.
struct ListedRow {
    long long id = 0;
    std::optional<SyncState> sync_state;  // registry
    VerificationState verification_state = VerificationState::pending;
    std::optional<std::string> synced_at;  // registry: when its last sync succeeded (sync_times.hpp), ISO 8601
    std::optional<double> synced_seconds;  // from now, negative in the past
    std::optional<std::string> sync_claimed_at;  // registry: GitLab's last_synced_at, when a sync last began
    std::optional<std::string> verified_at;
    std::optional<double> verified_seconds;
    std::optional<double> sync_retry_seconds;          // when sync failed: until the next retry (0: due)
    std::optional<std::string> sync_retry_at;          // the same as a time, ISO 8601 (now when unset: due)
    std::optional<double> verification_retry_seconds;  // when verification failed
    std::optional<std::string> verification_retry_at;
    int retry_count = 0;
    int verification_retry_count = 0;
    std::optional<std::string> last_sync_failure;
    std::optional<std::string> verification_failure;
    bool missing_on_primary = false;
};

// Up to LIMIT rows of R's registry (REGISTRY) or states table that FILTER selects, with record
// ids above AFTER, by id.
std::vector<ListedRow> read_listed_rows(pqxx::transaction_base& tx, const Replicable& r, bool registry,
                                        const RowFilter& filter, long long after, int limit);

}  // namespace geo_ssf
