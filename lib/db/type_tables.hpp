// The tables of geo-ssf's types that a database holds, read from its catalog: whatever the
// configuration of the site reading it defines.
#pragma once

#include <pqxx/pqxx>

#include <string>
#include <vector>

namespace geo_ssf {

// The states tables in the main database: the tables, visible on the search path, to which a
// type's states migration attached geo-ssf's tally trigger (with one argument, the foreign key;
// a registry's has two). By name.
std::vector<std::string> tallied_states_tables(pqxx::transaction_base& tx);

}  // namespace geo_ssf
