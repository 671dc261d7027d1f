#include "db/copies.hpp"

#include "common/error.hpp"
#include "db/model_table.hpp"
#include "db/transitions.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>

namespace geo_ssf::copies {

namespace {

// The folders PATH lies in: "a/b/c.git" → "a", "a/b".
std::vector<std::string> folders_above(const std::string& path) {
    std::vector<std::string> out;
    for (size_t slash = path.find('/'); slash != std::string::npos; slash = path.find('/', slash + 1))
        out.push_back(path.substr(0, slash));
    return out;
}

// Whether PATH is one of PATHS, or lies inside or around one of them.
bool meets_any(const std::set<std::string>& paths, const std::string& path) {
    if (paths.count(path))
        return true;
    for (const auto& folder : folders_above(path))
        if (paths.count(folder))
            return true;
    auto inside = paths.lower_bound(path + "/");
    return inside != paths.end() && inside->compare(0, path.size() + 1, path + "/") == 0;
}

std::string describe(const std::string& path, const std::string& other, const std::string& replicable,
                     long long record_id) {
    std::string where = other == path                            ? "that path"
                        : other.compare(0, path.size() + 1, path + "/") == 0 ? "a path inside it, " + printable(other)
                                                                              : "a folder around it, " + printable(other);
    return "repository path \"" + printable(path) + "\" is refused: " + replicable + " " + std::to_string(record_id) +
           " holds " + where;
}

}  // namespace

namespace {

// reserve() for the records of R whose copies are in STORAGE: PATHS, record id → path.
void reserve_in(pqxx::transaction_base& tx, const std::string& storage, const Replicable& r,
                const std::map<long long, std::string>& paths, std::map<long long, std::string>& refused) {
    nlohmann::json wanted = nlohmann::json::array();
    for (const auto& [id, path] : paths)
        wanted.push_back({{"id", id}, {"path", path}, {"folders", folders_above(path)}});
    const std::string records = "jsonb_to_recordset($1::jsonb) AS w(id bigint, path text, folders text[])";
    // The same path, a folder around it, a path inside it: three lookups of the primary key each.
    const std::string columns = "SELECT w.id, c.path, c.replicable, c.record_id, c.removal IS NOT NULL FROM w";
    const std::string not_own_copy = " WHERE NOT (c.replicable = $3 AND c.record_id = w.id AND c.path = w.path COLLATE "
                                     "\"C\" AND c.removal IS NULL)";
    for (const auto& row : tx.exec_params(
             "WITH w AS MATERIALIZED (SELECT * FROM " + records + ") " + columns +
                 " JOIN geo_ssf_copies c ON c.storage = $2 AND c.path = w.path COLLATE \"C\"" + not_own_copy +
                 " UNION ALL " + columns + " CROSS JOIN unnest(w.folders) AS f(folder) JOIN geo_ssf_copies c ON"
                 " c.storage = $2 AND c.path = f.folder COLLATE \"C\"" + not_own_copy +
                 " UNION ALL " + columns + " JOIN geo_ssf_copies c ON c.storage = $2 AND c.path >= (w.path || '/') "
                 "COLLATE \"C\" AND c.path < (w.path || '0') COLLATE \"C\"" + not_own_copy + " ORDER BY 1",
             wanted.dump(), storage, r.name)) {
        long long id = row[0].as<long long>();
        if (refused.count(id))
            continue;
        std::string holder = row[2].as<std::string>();
        long long holder_id = row[3].as<long long>();
        if (holder == r.name && holder_id == id && row[4].as<bool>())
            refused[id] = "its copy at " + printable(row[1].as<std::string>()) +
                          " is being removed; a later sync fetches it again";
        else
            refused[id] = describe(paths.at(id), row[1].as<std::string>(), holder, holder_id);
    }
    // Two records of this batch may also meet: the lower id keeps the path.
    std::set<std::string> accepted;
    nlohmann::json inserted = nlohmann::json::array();
    for (const auto& [id, path] : paths) {
        if (refused.count(id))
            continue;
        if (meets_any(accepted, path)) {
            refused[id] = "repository path \"" + printable(path) + "\" is refused: another " + r.name +
                          " record renders that path, or one inside or around it";
            continue;
        }
        accepted.insert(path);
        inserted.push_back({{"id", id}, {"path", path}, {"folders", nlohmann::json::array()}});
    }
    tx.exec_params("INSERT INTO geo_ssf_copies (storage, path, replicable, record_id) SELECT $2, w.path, $3, w.id FROM " +
                       records + " ON CONFLICT DO NOTHING",
                   inserted.dump(), storage, r.name);
}

}  // namespace

std::map<long long, std::string> reserve(pqxx::connection& geo, const Replicable& r,
                                         const std::map<long long, RepositoryLocation>& locations) {
    std::map<long long, std::string> refused;
    if (locations.empty())
        return refused;
    std::map<std::string, std::map<long long, std::string>> by_storage;
    for (const auto& [id, location] : locations)
        by_storage[location.storage][id] = location.path;
    pqxx::work tx(geo);
    // One reservation at a time, so that two hosts cannot reserve a path and one inside it at once.
    tx.exec("LOCK TABLE geo_ssf_copies IN SHARE ROW EXCLUSIVE MODE");
    for (const auto& [storage, paths] : by_storage)
        reserve_in(tx, storage, r, paths, refused);
    tx.commit();
    return refused;
}


std::vector<RepositoryLocation> locations_of(pqxx::transaction_base& tx, const Replicable& r, long long id) {
    std::vector<RepositoryLocation> out;
    for (const auto& row : tx.exec_params("SELECT storage, path FROM geo_ssf_copies WHERE replicable = $1 AND "
                                          "record_id = $2 ORDER BY recorded_at DESC, storage, path",
                                          r.name, id))
        out.push_back({row[0].as<std::string>(), row[1].as<std::string>()});
    return out;
}

std::vector<std::pair<long long, RepositoryLocation>> live_copies(pqxx::transaction_base& tx, const Replicable& r,
                                                                  const std::vector<long long>& ids) {
    std::vector<std::pair<long long, RepositoryLocation>> out;
    if (ids.empty())
        return out;
    for (const auto& row : tx.exec_params("SELECT record_id, storage, path FROM geo_ssf_copies WHERE replicable = $1 AND "
                                          "record_id = ANY($2::bigint[]) AND removal IS NULL ORDER BY 1, 2, 3",
                                          r.name, bigint_array(ids)))
        out.push_back({row[0].as<long long>(), {row[1].as<std::string>(), row[2].as<std::string>()}});
    return out;
}

std::optional<Holder> holder_of(pqxx::transaction_base& tx, const RepositoryLocation& location) {
    auto rows = tx.exec_params("SELECT replicable, record_id FROM geo_ssf_copies WHERE storage = $1 AND path = $2",
                               location.storage, location.path);
    if (rows.empty())
        return std::nullopt;
    return Holder{rows[0][0].as<std::string>(), rows[0][1].as<long long>()};
}

std::vector<long long> unrecorded_copies(pqxx::transaction_base& tx, const Replicable& r, long long first,
                                         long long last) {
    std::vector<long long> out;
    for (const auto& row : tx.exec_params("SELECT g." + r.foreign_key + " FROM " + r.registry_table + " g WHERE g." +
                                              r.foreign_key + " BETWEEN $1 AND $2 AND g.state = " +
                                              sql::value(SyncState::synced) + " AND NOT g.missing_on_primary AND NOT "
                                              "EXISTS (SELECT FROM geo_ssf_copies c WHERE c.replicable = $3 AND "
                                              "c.record_id = g." + r.foreign_key + ") ORDER BY 1",
                                          first, last, r.name))
        out.push_back(row[0].as<long long>());
    return out;
}

std::vector<bool> request_removals(pqxx::transaction_base& tx, const std::vector<Removal>& removals) {
    std::vector<bool> requested;
    for (const auto& removal : removals) {
        // A path no record holds is taken for this one; one it holds gets the request; one
        // another record holds is that record's copy, and stays.
        auto rows = tx.exec_params(
            "INSERT INTO geo_ssf_copies AS c (storage, path, replicable, record_id, removal) VALUES ($1, $2, $3, $4, $5)"
            " ON CONFLICT (storage, path) DO UPDATE SET removal = EXCLUDED.removal, recorded_at = now()"
            " WHERE c.replicable = EXCLUDED.replicable AND c.record_id = EXCLUDED.record_id RETURNING 1",
            removal.location.storage, removal.location.path, removal.replicable->name, removal.id,
            removal.quarantine ? "quarantine" : "delete");
        requested.push_back(!rows.empty());
    }
    return requested;
}

std::string removal_lock_sql() { return "hashtextextended('geo-ssf removal ' || $1 || ':' || $2, 0)"; }

std::optional<TakenRemoval> take_removal(pqxx::transaction_base& tx, const RepositoryLocation& location) {
    tx.exec_params("SELECT pg_advisory_xact_lock(" + removal_lock_sql() + ")", location.storage, location.path);
    auto rows = tx.exec_params("SELECT replicable, record_id, removal FROM geo_ssf_copies WHERE storage = $1 AND "
                               "path = $2 AND removal IS NOT NULL FOR UPDATE",
                               location.storage, location.path);
    if (rows.empty())
        return std::nullopt;
    return TakenRemoval{rows[0][0].as<std::string>(), rows[0][1].as<long long>(), location,
                        rows[0][2].as<std::string>() == "quarantine"};
}

std::vector<RepositoryLocation> requested_removals(pqxx::transaction_base& tx, int limit) {
    std::vector<RepositoryLocation> out;
    for (const auto& row : tx.exec_params("SELECT storage, path FROM geo_ssf_copies WHERE removal IS NOT NULL "
                                          "ORDER BY storage, path LIMIT $1",
                                          limit))
        out.push_back({row[0].as<std::string>(), row[1].as<std::string>()});
    return out;
}

void finish_removal(pqxx::transaction_base& tx, const RepositoryLocation& location) {
    tx.exec_params("DELETE FROM geo_ssf_copies WHERE storage = $1 AND path = $2", location.storage, location.path);
}

void log_removals(pqxx::transaction_base& tx, const Replicable& r, long long records) {
    if (records == 0)
        return;
    tx.exec("DELETE FROM geo_ssf_removals WHERE removed_at < now() - interval '2 days'");
    tx.exec_params("INSERT INTO geo_ssf_removals (replicable, records) VALUES ($1, $2)", r.name, records);
}

long long removals_in_a_day(pqxx::transaction_base& tx, const Replicable& r) {
    return tx.exec_params1("SELECT coalesce(sum(records), 0) FROM geo_ssf_removals WHERE replicable = $1 AND "
                           "removed_at > now() - interval '1 day'",
                           r.name)[0]
        .as<long long>();
}

}  // namespace geo_ssf::copies
