#include "secondary/followed_primary.hpp"

#include "common/error.hpp"
#include "db/event_log.hpp"
#include "db/model_table.hpp"
#include "db/primary_reads.hpp"
#include "db/registry_table.hpp"
#include "db/site_identity.hpp"
#include "repo/quarantine.hpp"
#include "repo/storage.hpp"
#include "run/marking.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <limits>
#include <map>
#include <utility>
#include <string>
#include <vector>

namespace geo_ssf::secondary {

namespace {

constexpr int k_adoption_batch = 10000;

// Sorts out the repositories under SITE's storage roots against the records in scope on the
// primary (followed_primary.hpp). Nothing is moved when no record claims any of them: a primary
// with no records in scope more likely means a wrong database than a site to empty.
StorageAdoption adopt_storage_roots(Site& site) {
    const Config& config = site.config();
    StorageAdoption out;
    // Each storage's repositories, as (storage, path) sorted: one list to look records up in.
    std::vector<std::pair<std::string, std::string>> found;
    for (const auto& storage : config.storages)
        for (auto& path : repositories_under(storage.root))
            found.emplace_back(storage.name, std::move(path));
    std::sort(found.begin(), found.end());
    out.found = static_cast<long long>(found.size());
    if (found.empty())
        return out;
    std::vector<bool> claimed(found.size(), false);
    for (const auto& r : config.replicables) {
        if (!r.replication_enabled)
            continue;
        for (long long after = std::numeric_limits<long long>::min();;) {
            RepositoryPaths page = read_primary(site.main_database(), [&](pqxx::transaction_base& tx) {
                return repository_paths_in_scope_after(tx, r, after, k_adoption_batch);
            });
            if (page.paths.empty() && page.invalid.empty())
                break;
            auto claim = [&](const std::pair<std::string, std::string>& key) {
                if (auto at = std::lower_bound(found.begin(), found.end(), key); at != found.end() && *at == key)
                    claimed[static_cast<size_t>(at - found.begin())] = true;
            };
            for (const auto& [id, location] : page.paths) {
                claim({location.storage, location.path});
                if (auto pool = page.pools.find(id); pool != page.pools.end())
                    claim({location.storage, pool->second});  // its members borrow from it
            }
            after = std::max(page.paths.empty() ? after : page.paths.rbegin()->first,
                             page.invalid.empty() ? after : page.invalid.rbegin()->first);
        }
    }
    std::map<std::string, std::vector<std::string>> unclaimed;  // by storage
    for (size_t i = 0; i < found.size(); ++i) {
        if (claimed[i])
            ++out.adopted;
        else
            unclaimed[found[i].first].push_back(found[i].second);
    }
    if (out.adopted == 0) {
        for (auto& [storage, paths] : unclaimed)
            out.unclaimed.insert(out.unclaimed.end(), paths.begin(), paths.end());
        return out;
    }
    auto now = std::chrono::system_clock::now();
    for (auto& [storage, paths] : unclaimed) {
        out.quarantines.push_back(quarantine_unclaimed(config.storage(storage).root, paths, now));
        out.unclaimed.insert(out.unclaimed.end(), paths.begin(), paths.end());
    }
    return out;
}

std::string roots_hold(const Config& config) {
    return config.storages.size() == 1 ? "the storage root holds" : "the storage roots hold";
}

std::string folder_list(const std::vector<std::filesystem::path>& folders) {
    std::string out;
    for (const auto& folder : folders)
        out += (out.empty() ? "" : ", ") + folder.string();
    return out;
}

// Event replay must not skip the new primary's events: it goes back to the newest event the new
// primary kept from before it became the primary (or, for a primary with no promotion recorded,
// the newest it has), when it stood beyond it.
std::optional<long long> event_cursor_for(Site& site, const FollowedPrimary& now) {
    long long kept = now.last_event_id ? *now.last_event_id
                                       : read_primary(site.main_database(),
                                                      [](pqxx::transaction_base& tx) { return newest_event_id(tx); });
    pqxx::read_transaction tx(site.geo_database());
    auto cursor = event_cursor(tx);
    if (cursor && *cursor > kept)
        return kept;
    return std::nullopt;
}

}  // namespace

FollowedPrimaryChange follow_primary(Site& site) {
    FollowedPrimaryChange change;
    change.now = read_primary(site.main_database(),
                              [](pqxx::transaction_base& tx) { return primary_followed_through(tx); });
    {
        pqxx::read_transaction tx(site.geo_database());
        change.before = recorded_followed_primary(tx);
    }
    const std::optional<FollowedPrimary>& before = change.before;
    if (before && before->same_primary(change.now) && before->storage_root_adopted)
        return change;

    if (!before) {
        change.kind = FollowedPrimaryChange::Kind::first;
    } else if (!before->same_primary(change.now)) {
        change.kind = FollowedPrimaryChange::Kind::repointed;
        for (const auto& r : site.config().replicables)
            change.marked += registry_table::mark_selection(site.geo_database(), r, registry_table::Mark::verification_pending,
                                                            BulkSelection::all, k_bulk_batch, [](long long) {});
        change.cursor_moved_to = event_cursor_for(site, change.now);
        spdlog::warn("the primary changed: it was {}, it is now {}; {} synced copies are verified again against the "
                     "new primary's checksums, and those that differ are fetched into, none cloned again{}",
                     describe_followed_primary(*before), describe_followed_primary(change.now), change.marked,
                     change.cursor_moved_to ? "; event replay goes back to event " +
                                                  std::to_string(*change.cursor_moved_to) +
                                                  ", the newest the new primary kept"
                                            : std::string());
    }
    change.now.storage_root_adopted = before && before->storage_root_adopted;
    if (!change.now.storage_root_adopted) {
        change.adoption = adopt_storage_roots(site);
        const StorageAdoption& adoption = *change.adoption;
        if (adoption.adopted == 0 && !adoption.unclaimed.empty()) {
            spdlog::warn("{} {} repositories, and no record in scope on the primary claims any: none is moved; is "
                         "databases.main the right database?",
                         roots_hold(site.config()), adoption.found);
        } else {
            change.now.storage_root_adopted = true;
            if (adoption.found > 0)
                spdlog::log(adoption.unclaimed.empty() ? spdlog::level::info : spdlog::level::warn,
                            "{} {} repositories: {} are copies of records in scope, kept and "
                             "fetched into rather than cloned again; {} that no record claims moved to {}",
                            roots_hold(site.config()), adoption.found, adoption.adopted, adoption.unclaimed.size(),
                             adoption.unclaimed.empty() ? std::string("the quarantine") : folder_list(adoption.quarantines));
        }
    }
    pqxx::work tx(site.geo_database());
    if (change.cursor_moved_to)
        move_event_cursor(tx, *change.cursor_moved_to);
    record_followed_primary(tx, change.now);
    tx.commit();
    return change;
}

}  // namespace geo_ssf::secondary
