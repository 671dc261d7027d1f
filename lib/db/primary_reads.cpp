#include "db/primary_reads.hpp"

#include "common/error.hpp"
#include "site/database.hpp"

#include <spdlog/spdlog.h>

#include <string_view>

namespace geo_ssf {

bool is_recovery_conflict(const pqxx::failure& e) {
    bool conflict_with_recovery = std::string_view(e.what()).find("conflict with recovery") != std::string_view::npos;
    // libpqxx 6 maps these SQLSTATEs to classes that carry no sqlstate(); libpqxx 7 has both.
    if (dynamic_cast<const pqxx::serialization_failure*>(&e))
        return true;
    if (dynamic_cast<const pqxx::deadlock_detected*>(&e))
        return conflict_with_recovery;
    if (const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e))
        return sql->sqlstate() == "40001" || (sql->sqlstate() == "40P01" && conflict_with_recovery);
    return false;
}

void throw_repeated_recovery_conflict(const pqxx::failure& e) {
    throw DatabaseError(database_error(e).what() +
                        std::string(" (databases.main is a standby replaying the primary's changes; the read was tried "
                                    "twice; a longer max_standby_streaming_delay there lets such reads finish)"));
}

void log_recovery_conflict_retry(const pqxx::failure& e) {
    spdlog::info("the primary's database cancelled a read: {}; trying it once more", describe_database_error(e));
}

}  // namespace geo_ssf
