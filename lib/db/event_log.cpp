#include "db/event_log.hpp"

#include "common/error.hpp"
#include "db/model_table.hpp"
#include "db/states_table.hpp"

#include <nlohmann/json.hpp>

#include <map>

namespace geo_ssf {

namespace {

constexpr const char* k_event_names[] = {"created", "updated", "deleted", "checksum_succeeded"};

std::string id_list(const std::vector<long long>& ids) {
    std::string out;
    for (size_t i = 0; i < ids.size() && i < 10; ++i)
        out += (i ? ", " : "") + std::to_string(ids[i]);
    if (ids.size() > 10)
        out += " and " + std::to_string(ids.size() - 10) + " more";
    return out;
}

// The repository path of each record in IDS: from its row when it still exists, or from the
// id alone when the template needs nothing else.
std::map<long long, std::string> deleted_paths(pqxx::transaction_base& tx, const Replicable& r,
                                               const std::vector<long long>& ids) {
    std::map<long long, std::string> paths;
    for (const auto& row : tx.exec_params("SELECT m.id, " + repository_path_columns_sql(r, "m") + " FROM " +
                                              r.model_table + " m WHERE m.id = ANY($1::bigint[])",
                                          bigint_array(ids)))
        paths[row[0].as<long long>()] = repository_path_of(r, row, 1);
    bool id_only = r.repository_path.columns() == std::vector<std::string>{"id"};
    std::vector<long long> unknown;
    for (long long id : ids) {
        if (paths.count(id))
            continue;
        if (id_only)
            paths[id] = r.repository_path.render({std::to_string(id)});
        else
            unknown.push_back(id);
    }
    if (!unknown.empty())
        throw UsageError("no " + r.name + " record with id " + id_list(unknown) + ", so its repository path is unknown; "
                         "publish the deleted event before deleting the record");
    return paths;
}

}  // namespace

const char* event_name_text(EventName name) { return k_event_names[static_cast<int>(name)]; }

std::optional<EventName> parse_event_name(const std::string& text) {
    for (int i = 0; i < 4; ++i)
        if (text == k_event_names[i])
            return static_cast<EventName>(i);
    return std::nullopt;
}

PublishResult publish_events(Site& site, const std::string& name, EventName event, const std::vector<long long>& ids) {
    const Replicable& r = site.config().replicable(name);
    PublishResult result;
    if (ids.empty())
        return result;
    pqxx::work tx(site.main_database());

    nlohmann::json payloads = nlohmann::json::array();
    if (event == EventName::deleted) {
        for (const auto& [id, path] : deleted_paths(tx, r, ids))
            payloads.push_back({{"model_record_id", id}, {"repository_storage", "default"}, {"disk_path", path},
                                {"full_path", path}});
    } else {
        auto missing = missing_model_ids(tx, r, ids);
        if (!missing.empty())
            throw UsageError("no " + r.name + " record with id " + id_list(missing));
        for (long long id : ids)
            payloads.push_back({{"model_record_id", id}});
        if (r.verification_enabled)
            result.marked_pending = mark_ids_pending(tx, r, ids, false);
    }
    if (r.replication_enabled)
        result.events = tx.exec_params("INSERT INTO geo_events (replicable_name, event_name, payload, created_at)"
                                       " SELECT $1, $2, p, now() FROM jsonb_array_elements($3::jsonb) WITH ORDINALITY AS e(p, n) ORDER BY n",
                                       r.name, event_name_text(event), payloads.dump())
                            .affected_rows();
    tx.commit();
    return result;
}

}  // namespace geo_ssf
