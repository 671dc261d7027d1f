// The tallies: every registry and states table's rows counted by state, with a digest of their
// record ids, kept in geo_ssf_tallies by triggers in the same transaction as each change
// (migrations/*/20260101000001_create_geo_ssf_tallies.sql creates the table and the trigger
// function; each type's migrations attach the triggers). Status sums them instead of passing
// over the table; runs fold the rows of differences the triggers add.
#pragma once

#include "site/config.hpp"
#include "db/id_set_difference.hpp"
#include "site/replicable.hpp"
#include "db/timed_reader.hpp"

#include <pqxx/pqxx>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace geo_ssf {

// SQL for the 64-bit hash of the record id in COLUMN that every digest of ids sums (see
// id_set_difference.hpp). Digests made with it are compared with the tallied ones, which the
// trigger function in the tallies migration sums with the same hash.
std::string id_hash_sql(const std::string& column);

// A table whose rows are tallied.
struct TalliedTable {
    std::string name;       // cool_widget_registry
    std::string id_column;  // cool_widget_id
    bool has_sync_state;    // a registry table; a states table has only a verification state
};
TalliedTable registry_tallied_table(const Replicable& replicable);
TalliedTable states_tallied_table(const Replicable& replicable);
// The table a site of ROLE counts REPLICABLE's status from: its states table on a primary (in
// the main database), its registry table on a secondary (in the tracking database).
TalliedTable tallied_table_of(const Replicable& replicable, Role role);

// How many rows are in one combination of states.
struct Tally {
    std::optional<int> sync_state;  // none for a states table
    int verification_state = 0;
    long long records = 0;

    bool operator==(const Tally& other) const = default;
};

struct TableTallies {
    std::vector<Tally> by_state;  // ordered by sync state, then verification state; no empty ones
    RangeDigest ids;              // of every record id in the table

    bool operator==(const TableTallies& other) const = default;
    // Fewer than no rows somewhere: the tallies began after the table had rows (triggers
    // attached by hand, say), and are no use until recounted.
    bool below_zero() const;
};

// TABLE's tallies; nullopt when its tally triggers are missing or disabled (a type generated
// before there were tallies), so that they cannot be trusted and the rows must be counted.
std::optional<TableTallies> read_tallies(TimedReader& reader, const TalliedTable& table);

// TABLE's tallies counted from its rows that WHERE selects (an SQL predicate over them): with
// "true", what read_tallies says when the tallies are right.
TableTallies count_tallies(TimedReader& reader, const TalliedTable& table, const std::string& where);

// Where STORED (read_tallies) and COUNTED (count_tallies) first differ, in words.
std::string describe_difference(const TableTallies& stored, const TableTallies& counted);

// Folds the rows of differences in CONNECTION's database into one row per table and state.
// Safe alongside writers and other folds. A failure is logged as a warning, not thrown: it
// comes after a run's work is done.
void fold_tallies(pqxx::connection& connection);

// Replaces TABLE's tallies by counting its rows, for tallies that went wrong (rows restored with
// triggers disabled, say), and returns how many rows it counted. Writers to the table wait
// until it is done; it waits at most LOCK_TIMEOUT for writers under way (pqxx::sql_error).
// nullopt, changing nothing, when the table has no tally triggers.
std::optional<long long> recount_tallies(pqxx::connection& connection, const TalliedTable& table,
                                         std::chrono::milliseconds lock_timeout);

}  // namespace geo_ssf
