// The one way a secondary reads the primary's database (databases.main), usually a hot standby
// of the primary's cluster. Replaying the primary's changes there can cancel a query that
// conflicts with them: a row version VACUUM removed, a lock taken by DDL (SQLSTATE 40001,
// "canceling statement due to conflict with recovery", once max_standby_streaming_delay has
// passed). Such a read is run once more, in a new transaction; a second conflict is a
// DatabaseError, which stops the run before anything of the read's batch is recorded. A
// conflict that finds the session between two statements of a read ends the connection
// instead, and libpq does not say why: a read whose connection is lost connects again, once,
// and is run once more; a second loss, or a failed connection, stops the run as before.
#pragma once

#include "db/model_table.hpp"
#include "site/replicable.hpp"

#include <pqxx/pqxx>

#include <map>
#include <vector>

#include <type_traits>
#include <utility>

namespace geo_ssf {

// Whether E is a statement cancelled by a recovery conflict (40001, or 40P01 "conflict with
// recovery": a buffer pin deadlock with the startup process). On a read-only transaction of
// the primary's database, nothing else raises 40001.
bool is_recovery_conflict(const pqxx::failure& e);

// The DatabaseError thrown when the retry met a conflict again: "database query failed:
// canceling statement due to conflict with recovery (...; tried twice)".
[[noreturn]] void throw_repeated_recovery_conflict(const pqxx::failure& e);

// Logs (at info, -v) that a read met a conflict and is tried once more.
void log_recovery_conflict_retry(const pqxx::failure& e);

// Logs the loss E and connects MAIN again, read-only as a secondary's main database is; throws
// when it cannot.
void reconnect_for_another_try(pqxx::connection& main, const pqxx::broken_connection& e);

// Runs READ(tx) in a read-only transaction of MAIN and returns what it returns; a recovery
// conflict runs it once more in a new transaction (see above). READ may therefore run twice:
// it must only read, and leave nothing changed outside its result when it throws.
template <typename Read>
auto read_primary(pqxx::connection& main, Read&& read)
    -> std::invoke_result_t<Read&, pqxx::transaction_base&> {
    for (int attempt = 1;; ++attempt) {
        try {
            pqxx::read_transaction tx(main);
            return read(static_cast<pqxx::transaction_base&>(tx));
        } catch (const pqxx::broken_connection& e) {
            if (attempt == 2)
                throw;
            reconnect_for_another_try(main, e);
        } catch (const pqxx::failure& e) {
            if (!is_recovery_conflict(e))
                throw;
            if (attempt == 2)
                throw_repeated_recovery_conflict(e);
            log_recovery_conflict_retry(e);
        }
    }
}

// What a secondary reads of the primary's database for the records IDS of R, each in one
// read_primary; empty IDS read nothing.

// What a verification compares a copy with: the primary's states and where the repositories are.
struct PrimaryView {
    std::map<long long, PrimaryVerificationState> states;
    RepositoryPaths paths;
};
PrimaryView read_primary_view(pqxx::connection& main, const Replicable& r, const std::vector<long long>& ids);
// Where the repositories of IDS are.
RepositoryPaths read_repository_paths(pqxx::connection& main, const Replicable& r, const std::vector<long long>& ids);
// Of IDS, the records whose verification succeeded on the primary, ascending.
std::vector<long long> read_verified_ids(pqxx::connection& main, const Replicable& r, const std::vector<long long>& ids);
// Of IDS, the records that exist and are in R's scope, ascending.
std::vector<long long> read_ids_in_scope(pqxx::connection& main, const Replicable& r, const std::vector<long long>& ids);
// Of IDS, the records that do not exist, ascending.
std::vector<long long> read_missing_ids(pqxx::connection& main, const Replicable& r, const std::vector<long long>& ids);

}  // namespace geo_ssf
