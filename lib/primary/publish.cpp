#include "primary/publish.hpp"

#include "common/error.hpp"
#include "db/model_table.hpp"
#include "db/states_table.hpp"
#include "repo/storage.hpp"

#include <map>

namespace geo_ssf::primary {

namespace {

std::string id_list(const std::vector<long long>& ids) {
    std::string out;
    for (size_t i = 0; i < ids.size() && i < 10; ++i)
        out += (i ? ", " : "") + std::to_string(ids[i]);
    if (ids.size() > 10)
        out += " and " + std::to_string(ids.size() - 10) + " more";
    return out;
}

// The repository location of each record in IDS: from its row when it still exists, or from the
// id alone when the template needs nothing else and the type has one storage.
std::map<long long, RepositoryLocation> deleted_locations(pqxx::transaction_base& tx, const Replicable& r,
                                               const std::vector<long long>& ids) {
    RepositoryPaths known = repository_paths(tx, r, ids);
    if (!known.invalid.empty())
        throw RuntimeError(r.name + " " + std::to_string(known.invalid.begin()->first) + ": " +
                           known.invalid.begin()->second);
    std::vector<long long> unknown;
    for (long long id : ids) {
        if (known.paths.count(id))
            continue;
        if (auto location = location_from_id(r, id))
            known.paths[id] = *location;
        else
            unknown.push_back(id);
    }
    if (!unknown.empty())
        throw UsageError("no " + r.name + " record with id " + id_list(unknown) + ", so its repository's location is unknown; "
                         "publish the deleted event before deleting the record");
    return known.paths;
}

// Of IDS, the records whose repository exists on this primary: an update of a record without
// one does not ask for a checksum that can only fail (GitLab's after_verifiable_update).
std::vector<long long> with_repository(Site& site, pqxx::transaction_base& tx, const Replicable& r,
                                       const std::vector<long long>& ids) {
    std::vector<long long> out;
    for (const auto& [id, location] : repository_paths(tx, r, ids).paths) {
        std::error_code ec;
        try {
            const Storage& storage = site.config().storage(location.storage);
            if (std::filesystem::exists(repository_location(storage.root, location.path) / "HEAD", ec))
                out.push_back(id);
        } catch (const Error&) {
            // A path the storage root refuses, or a storage this site lacks, has no repository here.
        }
    }
    return out;
}

}  // namespace

PublishResult publish_events(Site& site, const std::string& name, EventName event, const std::vector<long long>& ids) {
    const Replicable& r = site.config().replicable(name);
    PublishResult result;
    if (ids.empty())
        return result;
    pqxx::work tx(site.main_database());

    nlohmann::json payloads = nlohmann::json::array();
    if (event == EventName::deleted) {
        for (const auto& [id, location] : deleted_locations(tx, r, ids))
            payloads.push_back({{"model_record_id", id}, {"repository_storage", location.storage},
                                {"disk_path", location.path}, {"full_path", location.path}});
    } else {
        auto missing = missing_model_ids(tx, r, ids);
        if (!missing.empty())
            throw UsageError("no " + r.name + " record with id " + id_list(missing));
        for (long long id : ids)
            payloads.push_back({{"model_record_id", id}});
        if (r.verification_enabled)
            result.marked_pending =
                states_table::mark_ids(tx, r, event == EventName::updated ? with_repository(site, tx, r, ids) : ids, false);
    }
    if (r.replication_enabled)
        result.events = append_events(tx, r.name, event, payloads);
    tx.commit();
    return result;
}

}  // namespace geo_ssf::primary
