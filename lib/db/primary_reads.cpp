#include "db/primary_reads.hpp"

#include "common/error.hpp"
#include "site/database.hpp"

#include <spdlog/spdlog.h>

#include <string_view>
#include <utility>

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

void reconnect_for_another_try(pqxx::connection& main, const pqxx::broken_connection& e) {
    spdlog::info("lost the connection to the primary's database: {}; connecting again to try the read once more",
                 describe_database_error(e));
    // libpqxx 6 connects a closed connection again in place, keeping what is attached to it
    // (the notice handler); it deprecates that for its version 7, which has no such thing. The
    // broken libpq connection goes first: activate() would take it for a live one.
    main.disconnect();
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    main.activate();
#pragma GCC diagnostic pop
    set_up_session(main, Access::read_only);
}

void log_recovery_conflict_retry(const pqxx::failure& e) {
    spdlog::info("the primary's database cancelled a read: {}; trying it once more", describe_database_error(e));
}

namespace {

// READ(tx, R, IDS) in one read_primary; nothing is read for no ids.
template <typename Read>
auto read_for_ids(pqxx::connection& main, const Replicable& r, const std::vector<long long>& ids, Read read) {
    using Result = decltype(read(std::declval<pqxx::transaction_base&>(), r, ids));
    if (ids.empty())
        return Result{};
    return read_primary(main, [&](pqxx::transaction_base& tx) { return read(tx, r, ids); });
}

PrimaryView primary_view(pqxx::transaction_base& tx, const Replicable& r, const std::vector<long long>& ids) {
    return PrimaryView{verification_states(tx, r, ids), repository_paths(tx, r, ids)};
}

}  // namespace

PrimaryView read_primary_view(pqxx::connection& main, const Replicable& r, const std::vector<long long>& ids) {
    return read_for_ids(main, r, ids, primary_view);
}

RepositoryPaths read_repository_paths(pqxx::connection& main, const Replicable& r, const std::vector<long long>& ids) {
    return read_for_ids(main, r, ids, repository_paths);
}

std::vector<long long> read_verified_ids(pqxx::connection& main, const Replicable& r, const std::vector<long long>& ids) {
    return read_for_ids(main, r, ids, verified_ids);
}

std::vector<long long> read_ids_in_scope(pqxx::connection& main, const Replicable& r, const std::vector<long long>& ids) {
    return read_for_ids(main, r, ids, ids_in_scope);
}

std::vector<long long> read_missing_ids(pqxx::connection& main, const Replicable& r, const std::vector<long long>& ids) {
    return read_for_ids(main, r, ids, missing_model_ids);
}

}  // namespace geo_ssf
