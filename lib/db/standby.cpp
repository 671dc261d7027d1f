#include "db/standby.hpp"

namespace geo_ssf {

std::string primary_now_sql() {
    return "(CASE WHEN NOT pg_is_in_recovery() THEN now() ELSE pg_last_xact_replay_timestamp() END)";
}

std::string standby_state_sql() {
    return "pg_is_in_recovery(), CASE WHEN NOT pg_is_in_recovery() THEN NULL"
           " WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0"
           " WHEN pg_last_xact_replay_timestamp() IS NULL THEN NULL"  // greatest() would make it 0
           " ELSE greatest(0, extract(epoch FROM now() - " +
           primary_now_sql() + "))::float8 END";
}

bool in_recovery(pqxx::transaction_base& tx) { return tx.exec1("SELECT pg_is_in_recovery()")[0].as<bool>(); }

}  // namespace geo_ssf
