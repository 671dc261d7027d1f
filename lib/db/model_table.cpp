#include "db/model_table.hpp"

#include "common/error.hpp"
#include "db/primary_reads.hpp"
#include "db/transitions.hpp"
#include "site/database.hpp"

#include <algorithm>
#include <limits>
#include <optional>

namespace geo_ssf {

namespace {

// The condition over the model table's own columns that selects the site's records: the type's
// scope and, on a secondary that replicates some storages only, the storage. Empty: every record.
std::string site_condition(const Replicable& replicable) {
    std::string storages;
    if (replicable.synced_storages) {
        const auto& synced = *replicable.synced_storages;
        if (replicable.storage_column.empty())
            storages = std::find(synced.begin(), synced.end(), k_default_storage) == synced.end() ? "false" : "";
        else {
            std::string names;
            for (const auto& name : synced)  // plain words (the config checks them): no quote to double
                names += (names.empty() ? "'" : ", '") + name + "'";
            storages = names.empty() ? "false" : replicable.storage_column + " IN (" + names + ")";
        }
    }
    if (replicable.scope.empty())
        return storages;
    return storages.empty() ? "(" + replicable.scope + ")" : "(" + replicable.scope + ") AND " + storages;
}

}  // namespace

std::string describe_scope(const Replicable& replicable) {
    std::string out = replicable.scope.empty() ? "" : "the scope (" + replicable.scope + ")";
    if (replicable.synced_storages) {
        std::string names;
        for (const auto& name : *replicable.synced_storages)
            names += (names.empty() ? "" : ", ") + name;
        out += (out.empty() ? "" : " and ") + std::string("sync.storages (") + names + ")";
    }
    return out;
}

std::string scope_predicate(const Replicable& replicable) {
    std::string condition = site_condition(replicable);
    return condition.empty() ? "true" : "(" + condition + ")";
}

std::string scope_predicate_of(const Replicable& replicable, const std::string& alias) {
    std::string condition = site_condition(replicable);
    if (condition.empty())
        return "true";
    const std::string& key = replicable.model_key;
    return "EXISTS (SELECT FROM " + replicable.model_table + " geo_ssf_scoped WHERE geo_ssf_scoped." + key + " = " +
           alias + "." + key + " AND (" + condition + "))";
}

std::string in_scope_predicate(const Replicable& replicable, const std::string& column) {
    std::string condition = site_condition(replicable);
    if (condition.empty())
        return "true";
    return column + " IN (SELECT " + replicable.model_key + " FROM " + replicable.model_table + " WHERE (" + condition +
           "))";
}

namespace {

// The SELECT list that reads a record's location over alias ALIAS: its repository path columns
// as text, then its storage column and its pool path columns, if the type has them.
std::string location_columns_sql(const Replicable& replicable, const std::string& alias) {
    std::string out;
    for (const auto& column : replicable.repository_path.columns())
        out += (out.empty() ? "" : ", ") + alias + "." + column + "::text";
    if (!replicable.storage_column.empty())
        out += ", " + alias + "." + replicable.storage_column + "::text";
    if (replicable.pool_repository_path)
        for (const auto& column : replicable.pool_repository_path->columns())
            out += ", " + alias + "." + column + "::text";
    return out;
}

// The pool path of the record in ROW, from the columns after its location's (location_columns_sql,
// from FIRST); nullopt when the type has no pools or a pool column is NULL. A RuntimeError when
// the path does not render.
std::optional<std::string> pool_of(const Replicable& replicable, const pqxx::row& row, int first) {
    if (!replicable.pool_repository_path)
        return std::nullopt;
    int at = first + static_cast<int>(replicable.repository_path.columns().size()) +
             (replicable.storage_column.empty() ? 0 : 1);
    std::vector<std::string> values;
    for (size_t i = 0; i < replicable.pool_repository_path->columns().size(); ++i) {
        const auto& field = row[static_cast<pqxx::row::size_type>(at + static_cast<int>(i))];
        if (field.is_null())
            return std::nullopt;
        values.push_back(field.as<std::string>());
    }
    return replicable.pool_repository_path->render(values);
}

// The location of one record from the columns location_columns_sql selected, starting at FIRST
// in ROW. A NULL column, or a path that does not render, is a RuntimeError.
RepositoryLocation location_of(const Replicable& replicable, const pqxx::row& row, int first) {
    const auto& columns = replicable.repository_path.columns();
    std::vector<std::string> values;
    for (size_t i = 0; i < columns.size(); ++i) {
        const auto& field = row[static_cast<pqxx::row::size_type>(first + static_cast<int>(i))];
        if (field.is_null())
            throw RuntimeError("repository path column " + columns[i] + " is NULL");
        values.push_back(field.as<std::string>());
    }
    RepositoryLocation location{k_default_storage, replicable.repository_path.render(values)};
    if (!replicable.storage_column.empty()) {
        const auto& field = row[static_cast<pqxx::row::size_type>(first + static_cast<int>(columns.size()))];
        if (field.is_null())
            throw RuntimeError("storage column " + replicable.storage_column + " is NULL");
        location.storage = field.as<std::string>();
    }
    return location;
}

// The locations of the rows of RESULT: each an id, then the location columns.
RepositoryPaths paths_of_rows(const Replicable& replicable, const pqxx::result& result) {
    RepositoryPaths out;
    for (const auto& row : result) {
        long long id = row[0].as<long long>();
        try {
            RepositoryLocation location = location_of(replicable, row, 1);
            if (auto pool = pool_of(replicable, row, 1))
                out.pools[id] = *pool;
            out.paths[id] = std::move(location);
        } catch (const Error& e) {
            out.invalid[id] = e.what();
        }
    }
    return out;
}

}  // namespace

const RepositoryLocation& RepositoryPaths::location(long long id, const char* gone) const {
    if (auto found = paths.find(id); found != paths.end())
        return found->second;
    if (auto reason = invalid.find(id); reason != invalid.end())
        throw RuntimeError(reason->second);
    throw RuntimeError(gone);
}

RepositoryPaths repository_paths(pqxx::transaction_base& tx, const Replicable& replicable,
                                 const std::vector<long long>& ids) {
    if (ids.empty())
        return {};
    const std::string& key = replicable.model_key;
    return paths_of_rows(replicable,
                         tx.exec_params("SELECT m." + key + ", " + location_columns_sql(replicable, "m") +
                                            " FROM " + replicable.model_table + " m WHERE m." + key +
                                            " = ANY($1::bigint[])",
                                        bigint_array(ids)));
}

RepositoryPaths repository_paths_in_scope_after(pqxx::transaction_base& tx, const Replicable& replicable,
                                                long long after, int limit) {
    const std::string& key = replicable.model_key;
    return paths_of_rows(replicable,
                         tx.exec_params("SELECT m." + key + ", " + location_columns_sql(replicable, "m") +
                                            " FROM " + replicable.model_table + " m WHERE m." + key + " > $1 AND " +
                                            scope_predicate_of(replicable, "m") + " ORDER BY m." + key + " LIMIT $2",
                                        after, limit));
}

std::vector<long long> ids_in_scope(pqxx::transaction_base& tx, const Replicable& replicable,
                                    const std::vector<long long>& ids) {
    std::vector<long long> out;
    if (ids.empty())
        return out;
    const std::string& key = replicable.model_key;
    for (const auto& row : tx.exec_params("SELECT " + key + " FROM " + replicable.model_table + " WHERE " + key +
                                              " = ANY($1::bigint[]) AND " + scope_predicate(replicable) + " ORDER BY " +
                                              key,
                                          bigint_array(ids)))
        out.push_back(row[0].as<long long>());
    return out;
}

std::vector<long long> ids_in_scope_between(pqxx::transaction_base& tx, const Replicable& replicable,
                                            long long first, long long last) {
    std::vector<long long> out;
    const std::string& key = replicable.model_key;
    for (const auto& row : tx.exec_params("SELECT " + key + " FROM " + replicable.model_table + " WHERE " + key +
                                              " BETWEEN $1 AND $2 AND " + scope_predicate(replicable) + " ORDER BY " +
                                              key,
                                          first, last))
        out.push_back(row[0].as<long long>());
    return out;
}

std::optional<long long> first_id_in_scope(pqxx::transaction_base& tx, const Replicable& replicable) {
    const std::string& key = replicable.model_key;
    auto rows = tx.exec("SELECT " + key + " FROM " + replicable.model_table + " WHERE " + scope_predicate(replicable) +
                        " ORDER BY " + key + " LIMIT 1");
    return rows.empty() ? std::nullopt : std::optional<long long>(rows[0][0].as<long long>());
}

std::optional<long long> first_id_in_storage(pqxx::transaction_base& tx, const Replicable& replicable,
                                             const std::string& storage) {
    if (replicable.storage_column.empty())
        return storage == k_default_storage ? first_id_in_scope(tx, replicable) : std::nullopt;
    const std::string& key = replicable.model_key;
    auto rows = tx.exec_params("SELECT " + key + " FROM " + replicable.model_table + " WHERE " +
                                   scope_predicate(replicable) + " AND " + replicable.storage_column +
                                   " = $1 ORDER BY " + key + " LIMIT 1",  // no cast: an index on it serves
                               storage);
    return rows.empty() ? std::nullopt : std::optional<long long>(rows[0][0].as<long long>());
}

std::optional<ModelRow> model_row(pqxx::transaction_base& tx, const Replicable& replicable, long long id) {
    auto rows = tx.exec_params("SELECT " + scope_predicate(replicable) + ", " +
                                   location_columns_sql(replicable, "m") + " FROM " + replicable.model_table +
                                   " m WHERE m." + replicable.model_key + " = $1",
                               id);
    if (rows.empty())
        return std::nullopt;
    ModelRow row;
    row.in_scope = rows[0][0].as<bool>();
    try {
        RepositoryLocation location = location_of(replicable, rows[0], 1);
        row.storage = location.storage;
        row.repository_path = location.path;
    } catch (const std::exception& e) {
        row.path_error = e.what();
    }
    return row;
}

std::map<long long, PrimaryVerificationState> verification_states(pqxx::transaction_base& tx,
                                                                   const Replicable& replicable,
                                                                   const std::vector<long long>& ids) {
    std::map<long long, PrimaryVerificationState> out;
    for (const auto& row : tx.exec_params("SELECT " + replicable.foreign_key +
                                              ", verification_state, encode(verification_checksum, 'hex') FROM " +
                                              replicable.states_table + " WHERE " + replicable.foreign_key +
                                              " = ANY($1::bigint[])",
                                          bigint_array(ids)))
        out[row[0].as<long long>()] = {static_cast<VerificationState>(row[1].as<int>()),
                                       row[2].is_null() ? "" : row[2].as<std::string>()};
    return out;
}

std::vector<long long> verified_ids(pqxx::transaction_base& tx, const Replicable& replicable,
                                    const std::vector<long long>& ids) {
    std::vector<long long> out;
    for (const auto& row : tx.exec_params("SELECT " + replicable.foreign_key + " FROM " + replicable.states_table +
                                              " WHERE " + replicable.foreign_key + " = ANY($1::bigint[]) AND " +
                                              "verification_state = " + sql::value(VerificationState::succeeded) +
                                              " ORDER BY 1",
                                          bigint_array(ids)))
        out.push_back(row[0].as<long long>());
    return out;
}

std::optional<RepositoryLocation> location_from_id(const Replicable& replicable, long long id) {
    if (replicable.repository_path.columns() != std::vector<std::string>{replicable.model_key} ||
        !replicable.storage_column.empty())
        return std::nullopt;
    return RepositoryLocation{k_default_storage, replicable.repository_path.render({std::to_string(id)})};
}

IdRanges::IdRanges(const Replicable& replicable, int batch, std::optional<long long> after)
    : m_replicable(&replicable), m_batch(batch) {
    if (after) {
        m_cursor = *after;
        m_started = true;
    }
}

std::optional<long long> IdRanges::position() const {
    if (m_done || !m_started)
        return std::nullopt;
    return m_cursor;
}

std::optional<std::pair<long long, long long>> IdRanges::next(pqxx::transaction_base& tx) {
    if (m_done)
        return std::nullopt;
    const std::string& key = m_replicable->model_key;
    auto row = tx.exec_params1("SELECT max(" + key + "), count(*) FROM (SELECT " + key + " FROM " +
                                   m_replicable->model_table + " WHERE " + key + " > $1 ORDER BY " + key +
                                   " LIMIT $2) batch",
                               m_cursor, m_batch);
    // The first range starts at the smallest id and the last one ends at the largest, so rows
    // that refer to records gone from either end are covered too.
    long long first = m_started ? m_cursor + 1 : std::numeric_limits<long long>::min();
    m_started = true;
    if (row[0].is_null() || row[1].as<long long>() < m_batch) {
        m_done = true;
        return std::make_pair(first, std::numeric_limits<long long>::max());
    }
    m_cursor = row[0].as<long long>();
    return std::make_pair(first, m_cursor);
}

std::vector<long long> missing_model_ids(pqxx::transaction_base& tx, const Replicable& replicable,
                                         const std::vector<long long>& ids) {
    std::vector<long long> missing;
    for (const auto& row : tx.exec_params("SELECT i FROM unnest($1::bigint[]) AS i WHERE NOT EXISTS (SELECT 1 FROM " +
                                              replicable.model_table + " m WHERE m." + replicable.model_key +
                                              " = i) ORDER BY i",
                                          bigint_array(ids)))
        missing.push_back(row[0].as<long long>());
    return missing;
}

void require_records(pqxx::connection& main, const Replicable& replicable, const std::vector<long long>& ids,
                     const char* where) {
    auto missing =
        read_primary(main, [&](pqxx::transaction_base& tx) { return missing_model_ids(tx, replicable, ids); });
    if (missing.empty())
        return;
    std::string list;
    for (long long id : missing)
        list += (list.empty() ? "" : ", ") + std::to_string(id);
    throw UsageError("no " + replicable.name + " record with id " + list + where + "; nothing was changed");
}

bool model_table_exists(pqxx::transaction_base& tx, const Replicable& r) {
    return tx.exec_params1("SELECT to_regclass($1) IS NOT NULL", r.model_table)[0].as<bool>();
}

std::optional<DefinitionMisfit> definition_misfit(pqxx::dbtransaction& tx, const Replicable& r) {
    const std::string key_column = r.model_table + "." + r.model_key;
    auto key = tx.exec_params("SELECT a.atttypid::regtype::text, a.atttypid IN ('int2'::regtype, 'int4'::regtype, "
                              "'int8'::regtype), a.attnotnull, EXISTS (SELECT FROM pg_index i WHERE i.indrelid = "
                              "a.attrelid AND i.indisunique AND i.indimmediate AND i.indnkeyatts = 1 AND i.indkey[0] = "
                              "a.attnum AND i.indpred IS NULL AND i.indexprs IS NULL) FROM pg_attribute a WHERE "
                              "a.attrelid = $1::regclass AND a.attname = $2 AND a.attnum > 0 AND NOT a.attisdropped",
                              r.model_table, r.model_key);
    if (key.empty())
        return DefinitionMisfit{"model_key", r.model_table + " has no column " + r.model_key};
    if (!key[0][1].as<bool>())
        return DefinitionMisfit{"model_key", key_column + " is " + key[0][0].as<std::string>() + ", not an integer"};
    if (!key[0][2].as<bool>())
        return DefinitionMisfit{"model_key", key_column + " may be NULL: it is not NOT NULL"};
    if (!key[0][3].as<bool>())
        return DefinitionMisfit{"model_key",
                                key_column + " is not unique: no primary key or unique index on that column alone"};

    auto has_column = [&](const std::string& column) {
        return !tx.exec_params("SELECT FROM pg_attribute WHERE attrelid = $1::regclass AND attname = $2 AND attnum > 0 "
                               "AND NOT attisdropped",
                               r.model_table, column)
                    .empty();
    };
    std::vector<std::string> missing;
    for (const auto& column : r.repository_path.columns())
        if (!has_column(column))
            missing.push_back("{" + column + "}");
    if (!missing.empty()) {
        std::string names;
        for (const auto& name : missing)
            names += (names.empty() ? "" : ", ") + name;
        const char* verb = missing.size() == 1 ? " is not a column of " : " are not columns of ";
        return DefinitionMisfit{"repository_path", names + verb + r.model_table};
    }
    if (!r.storage_column.empty() && !has_column(r.storage_column))
        return DefinitionMisfit{"storage_column", r.storage_column + " is not a column of " + r.model_table};
    if (r.pool_repository_path)
        for (const auto& column : r.pool_repository_path->columns())
            if (!has_column(column))
                return DefinitionMisfit{"pool_repository_path", "{" + column + "} is not a column of " + r.model_table};

    try {
        pqxx::subtransaction probe(tx, "definition");
        probe.exec("EXPLAIN SELECT " + location_columns_sql(r, "m") + ", m." + r.model_key + " FROM " +
                   r.model_table + " m WHERE " + scope_predicate(r));
    } catch (const pqxx::sql_error& e) {
        return DefinitionMisfit{"scope", "not a condition on " + r.model_table + ": " + describe_database_error(e)};
    }
    return std::nullopt;
}

std::string bigint_array(const std::vector<long long>& ids) {
    std::string out = "{";
    for (size_t i = 0; i < ids.size(); ++i) {
        if (i)
            out += ',';
        out += std::to_string(ids[i]);
    }
    return out + "}";
}

}  // namespace geo_ssf
