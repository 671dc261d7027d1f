// Reading a replicable's model table in the main database: which records exist and where
// their repositories are.
#pragma once

#include "site/replicable.hpp"

#include <pqxx/pqxx>

#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace geo_ssf {

// "(<scope>)", or "true" when the type replicates every record. ALIAS qualifies nothing: the
// scope is written over the model table's own columns.
std::string scope_predicate(const Replicable& replicable);

// The SELECT list that reads a record's repository path columns as text, over alias ALIAS.
std::string repository_path_columns_sql(const Replicable& replicable, const std::string& alias);

// The repository path of one record from the columns repository_path_columns_sql selected,
// starting at FIRST in ROW. A NULL column is a RuntimeError.
std::string repository_path_of(const Replicable& replicable, const pqxx::row& row, int first);

// Walks the model table's ids in ranges of at most BATCH ids: [first, last] inclusive.
class IdRanges {
public:
    IdRanges(const Replicable& replicable, int batch);
    // The next range, or nullopt at the end.
    std::optional<std::pair<long long, long long>> next(pqxx::transaction_base& tx);

private:
    const Replicable& m_replicable;
    int m_batch;
    long long m_cursor = std::numeric_limits<long long>::min();
    bool m_started = false;
    bool m_done = false;
};

// Of IDS, those that have no row in the model table, ascending.
std::vector<long long> missing_model_ids(pqxx::transaction_base& tx, const Replicable& replicable,
                                         const std::vector<long long>& ids);

// "{1,2,3}": a PostgreSQL array literal of IDS, for $n::bigint[].
std::string bigint_array(const std::vector<long long>& ids);

}  // namespace geo_ssf
