// Where bounded passes over a whole table stopped (geo_ssf_cursors), so that the next run goes
// on from there instead of starting over, and when a pass last went through to the end.
#pragma once

#include <pqxx/pqxx>

#include <optional>
#include <string>

namespace geo_ssf {

// The position stored under NAME, or nullopt when the pass is to start from the beginning.
std::optional<long long> read_cursor(pqxx::transaction_base& tx, const std::string& name);

// Stores POSITION under NAME in TX; nullopt records that the pass went through to the end, so
// that the next one starts over.
void write_cursor(pqxx::transaction_base& tx, const std::string& name, std::optional<long long> position);

// A walk's progress as status reports it.
struct WalkProgress {
    std::optional<long long> position;  // where the current pass stands; nullopt: at the start
    long long passes = 0;               // passes that went through to the end
    std::optional<std::string> passed_at;       // when the last of them ended, ISO 8601
    std::optional<double> passed_unix_time;     // the same, in seconds since 1970
    std::optional<double> passed_age_seconds;   // how long ago, on the database's clock
};
// The statement that reads it (its one parameter: the walk's name), and its result read.
const char* walk_progress_sql();
WalkProgress walk_progress(const pqxx::result& rows);

// The names of the walks: a primary's state-row backfill and a secondary's registry
// consistency, per type.
std::string state_backfill_walk(const std::string& replicable);
std::string registry_consistency_walk(const std::string& replicable);

}  // namespace geo_ssf
