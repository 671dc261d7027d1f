// Reading a replicable's model table in the main database: which records exist and where
// their repositories are.
#pragma once

#include "db/states.hpp"
#include "site/replicable.hpp"

#include <pqxx/pqxx>

#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace geo_ssf {

// "(<scope>)", or "true" when the type replicates every record. The scope is written over the
// model table's own columns, unqualified.
std::string scope_predicate(const Replicable& replicable);
// The same for a statement whose FROM has other tables beside the model table (aliased ALIAS),
// where an unqualified column of the scope ("id <> 2") could be ambiguous: the scope is read in
// a subquery over the model table alone.
std::string scope_predicate_of(const Replicable& replicable, const std::string& alias);

// What leaves a type's records out of this site's, in words: "the scope (archived = false)",
// "sync.storages (nfs-01)", or both joined by "and"; empty when the site has every record.
std::string describe_scope(const Replicable& replicable);

// "COLUMN IN (<the ids of the records in scope>)", or "true" when the type replicates every
// record: for a table other than the model table whose COLUMN holds record ids.
std::string in_scope_predicate(const Replicable& replicable, const std::string& column);

// Why a secondary's work on a record stops when the primary has no row for it.
inline constexpr const char* k_gone_from_primary = "the record no longer exists on the primary";

// The repository locations of records, read from their rows.
struct RepositoryPaths {
    std::map<long long, RepositoryLocation> paths;  // records that exist and whose path renders
    std::map<long long, std::string> invalid;       // records whose location cannot be read: why
    std::map<long long, std::string> pools;         // records in a pool: its path, in their storage

    // Record ID's location; a RuntimeError saying why there is none: its reason in invalid, or
    // GONE for a record that does not exist.
    const RepositoryLocation& location(long long id, const char* gone = "the record no longer exists") const;
};
// The repository paths of the records IDS; ids with no record are in neither map.
RepositoryPaths repository_paths(pqxx::transaction_base& tx, const Replicable& replicable,
                                 const std::vector<long long>& ids);

// The repository paths of up to LIMIT records in scope with ids above AFTER, lowest first: a
// walk over every copy a secondary should hold. Empty maps: none is left.
RepositoryPaths repository_paths_in_scope_after(pqxx::transaction_base& tx, const Replicable& replicable,
                                                long long after, int limit);

// Of IDS, the records that exist and are in R's scope, ascending.
std::vector<long long> ids_in_scope(pqxx::transaction_base& tx, const Replicable& replicable,
                                    const std::vector<long long>& ids);
// The ids of the records in scope in [FIRST, LAST], ascending.
std::vector<long long> ids_in_scope_between(pqxx::transaction_base& tx, const Replicable& replicable,
                                            long long first, long long last);
// The smallest id of a record in scope; nullopt when there is none.
std::optional<long long> first_id_in_scope(pqxx::transaction_base& tx, const Replicable& replicable);
// The smallest id of a record in scope whose repository is in the storage named STORAGE; nullopt
// when there is none.
std::optional<long long> first_id_in_storage(pqxx::transaction_base& tx, const Replicable& replicable,
                                             const std::string& storage);

// What `show` reads of one record: whether the scope selects it, and its repository path (or
// why it cannot be rendered). nullopt when the record does not exist.
struct ModelRow {
    bool in_scope = false;
    std::string storage;
    std::string repository_path;
    std::string path_error;
};
std::optional<ModelRow> model_row(pqxx::transaction_base& tx, const Replicable& replicable, long long id);

// The primary's verification of a record, as a secondary compares with it.
struct PrimaryVerificationState {
    VerificationState state = VerificationState::pending;
    std::string checksum;  // hex; empty when there is none
};
// The state rows of the records IDS, by id; records without one are absent.
std::map<long long, PrimaryVerificationState> verification_states(pqxx::transaction_base& tx,
                                                                   const Replicable& replicable,
                                                                   const std::vector<long long>& ids);
// Of IDS, the records whose verification succeeded on the primary, ascending.
std::vector<long long> verified_ids(pqxx::transaction_base& tx, const Replicable& replicable,
                                    const std::vector<long long>& ids);

// The repository location of a record that is gone, when the template needs nothing but its
// key (the model_key column, {id} by default) and the type has no storage column.
std::optional<RepositoryLocation> location_from_id(const Replicable& replicable, long long id);

// Walks the model table's ids (its model_key) in ranges of at most BATCH ids: [first, last]. The
// first range starts at the smallest id there can be, or just after AFTER when a walk resumes.
class IdRanges {
public:
    IdRanges(const Replicable& replicable, int batch, std::optional<long long> after = std::nullopt);
    // The next range, or nullopt at the end.
    std::optional<std::pair<long long, long long>> next(pqxx::transaction_base& tx);
    // Where a walk that stops now resumes (the last id of the latest range), or nullopt when
    // the latest range reached the end of the table.
    std::optional<long long> position() const;

private:
    const Replicable* m_replicable;  // a pointer, so that a walk can be copied and assigned
    int m_batch;
    long long m_cursor = std::numeric_limits<long long>::min();
    bool m_started = false;
    bool m_done = false;
};

// Of IDS, those that have no row in the model table, ascending.
std::vector<long long> missing_model_ids(pqxx::transaction_base& tx, const Replicable& replicable,
                                         const std::vector<long long>& ids);

// A UsageError naming the IDS that have no record in the primary's model table (read through
// MAIN); WHERE ends the message's first part (" on the primary").
void require_records(pqxx::connection& main, const Replicable& replicable, const std::vector<long long>& ids,
                     const char* where);

// Whether R's model table exists in the database (as the connection's search_path resolves it).
bool model_table_exists(pqxx::transaction_base& tx, const Replicable& r);

// Where a replicable's definition does not fit its model table: the definition key at fault
// (model_key, repository_path, storage_column or scope) and why, in words naming the table and column.
struct DefinitionMisfit {
    std::string key;
    std::string reason;
};
// The first misfit of R against its model table, which must exist, or nullopt when it fits:
// model_key is an integer column, NOT NULL and unique (a primary key, or a unique index on that
// column alone, so that the states table's foreign key can reference it); every {column} of
// repository_path is a column; the scope is a condition PostgreSQL accepts (EXPLAIN: nothing is
// read). `check` reports it, `generate` refuses it, and a run would fail on it.
std::optional<DefinitionMisfit> definition_misfit(pqxx::dbtransaction& tx, const Replicable& r);

// "{1,2,3}": a PostgreSQL array literal of IDS, for $n::bigint[].
std::string bigint_array(const std::vector<long long>& ids);

}  // namespace geo_ssf
