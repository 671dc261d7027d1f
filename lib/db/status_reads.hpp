// What `geo-ssf status` reads, each statement under the deadline of a TimedReader
// (status.timeout): the event log's position, the standby's lag, the walks, and the ids and
// counts that the tallies (tallies.hpp) do not hold.
#pragma once

#include "db/cursors.hpp"
#include "db/id_set_difference.hpp"
#include "db/timed_reader.hpp"
#include "site/replicable.hpp"

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace geo_ssf {

// An event of the primary's log: its id and when it was created.
struct EventMark {
    long long id = 0;
    std::optional<std::string> date;    // ISO 8601; nullopt when the event is gone from the log
    std::optional<double> unix_time;    // the same, in seconds since 1970
    std::optional<double> age_seconds;  // how long ago, on the main database's clock
};

// The newest event; nullopt when the log is empty.
std::optional<EventMark> read_newest_event(TimedReader& main);
// Event ID; nullopt when it is not (or no longer) in the log.
std::optional<EventMark> read_event_mark(TimedReader& main, long long id);
// The records of R's events after CURSOR (of the next 10,000 events at most): what a secondary
// has probably not caught up with yet.
std::vector<long long> read_records_of_events_after(TimedReader& main, const Replicable& r, long long cursor);
// A secondary's event cursor (event_log.hpp).
std::optional<long long> read_event_cursor(TimedReader& geo);

// Whether the main database is a standby, and its replication lag (standby.hpp).
struct StandbyState {
    bool is_standby = false;
    std::optional<double> lag_seconds;
};
StandbyState read_standby_state(TimedReader& main);

WalkProgress read_walk_progress(TimedReader& reader, const std::string& walk);

// The largest COLUMN in TABLE; nullopt when it is empty.
std::optional<long long> read_largest_id(TimedReader& reader, const std::string& table, const std::string& column);
// How many rows of TABLE have COLUMN above ID.
long long count_rows_above(TimedReader& reader, const std::string& table, const std::string& column, long long id);
// How many of R's records are in scope; only those with an id above ABOVE when it is given.
long long count_in_scope(TimedReader& main, const Replicable& r, std::optional<long long> above = std::nullopt);
// A secondary's registry rows synced while the primary had no repository for them.
long long count_missing_on_primary(TimedReader& geo, const Replicable& r);

// One storage's share of a type's rows (status --by-storage).
struct StorageCounts {
    long long records = 0;               // a primary's state rows in scope; a secondary's registry rows
    std::optional<long long> synced;     // secondary: synced
    long long verified = 0;              // checksummed on a primary; verified on a secondary
    long long failed = 0;                // failed to checksum; failed to sync or to verify
};
// A primary's state rows of R's records in scope, by the storage their model row names
// (k_default_storage for a type without storage_column).
std::map<std::string, StorageCounts> primary_counts_by_storage(TimedReader& main, const Replicable& r);
// A secondary's registry rows of R, by the storage of their newest copy (geo_ssf_copies); rows
// without a copy yet under "".
std::map<std::string, StorageCounts> secondary_counts_by_storage(TimedReader& geo, const Replicable& r);

// The ids of COLUMN in TABLE's rows that PREDICATE selects, read through one transaction: one
// side of a comparison of id sets (id_set_difference.hpp).
class TableIds : public IdSet {
public:
    TableIds(TimedReader& reader, std::string table, std::string column, std::string predicate);

    std::optional<IdRange> bounds() override;
    // The digest of one range, for the first comparison.
    RangeDigest digest(const IdRange& range);
    std::vector<RangeDigest> digests(const std::vector<IdRange>& ranges) override;
    std::vector<long long> ids(const std::vector<IdRange>& ranges) override;
    std::vector<std::pair<long long, long long>> members(const std::vector<long long>& ids) override;

private:
    TimedReader& m_reader;
    std::string m_table;
    std::string m_column;
    std::string m_predicate;
};

// The records in scope of R's model table, and R's registry rows, as TableIds.
TableIds model_ids(TimedReader& main, const Replicable& r);
TableIds registry_ids(TimedReader& geo, const Replicable& r);

}  // namespace geo_ssf
