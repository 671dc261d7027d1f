#include "db/type_tables.hpp"

namespace geo_ssf {

std::vector<std::string> tallied_states_tables(pqxx::transaction_base& tx) {
    std::vector<std::string> tables;
    for (const auto& row : tx.exec("SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                                   "WHERE t.tgname = 'geo_ssf_tally_insert' AND t.tgnargs = 1 "
                                   "AND pg_table_is_visible(c.oid) ORDER BY c.relname"))
        tables.push_back(row[0].as<std::string>());
    return tables;
}

}  // namespace geo_ssf
