// Where bounded passes over a whole table stopped (geo_ssf_cursors), so that the next run goes
// on from there instead of starting over.
#pragma once

#include <pqxx/pqxx>

#include <optional>
#include <string>

namespace geo_ssf {

// The position stored under NAME, or nullopt when the pass is to start from the beginning.
std::optional<long long> read_cursor(pqxx::transaction_base& tx, const std::string& name);

// Stores POSITION under NAME in TX; nullopt forgets it, so the next pass starts over.
void write_cursor(pqxx::transaction_base& tx, const std::string& name, std::optional<long long> position);

}  // namespace geo_ssf
