#include "secondary/removal.hpp"

#include "common/error.hpp"
#include "db/states.hpp"
#include "repo/quarantine.hpp"
#include "repo/staging.hpp"
#include "repo/storage.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

namespace geo_ssf::secondary {

namespace {

// The registry row of a copy that is still there: sync failed, so that status and show tell,
// and the next run's registry consistency finds it again and retries the removal (a record
// still on the primary is synced again after a minute instead).
void keep_registry_row(Site& site, const Removal& removal, const std::string& reason) {
    const Replicable& r = *removal.replicable;
    std::string failure = truncate_failure("repository not removed: " + reason);
    pqxx::work tx(site.geo_database());
    tx.exec_params("INSERT INTO " + r.registry_table + " (" + r.foreign_key +
                       ", created_at, state, retry_count, retry_at, last_sync_failure)"
                       " VALUES ($1, now(), 3, 1, now() + interval '1 minute', $2) ON CONFLICT (" + r.foreign_key +
                       ") DO UPDATE SET state = 3, retry_at = EXCLUDED.retry_at, last_sync_failure = EXCLUDED.last_sync_failure",
                   removal.id, failure);
    tx.commit();
}

}  // namespace

int remove_repositories(Site& site, const std::vector<Removal>& removals) {
    const Config& config = site.config();
    int failed = 0;
    for (const auto& removal : removals) {
        try {
            auto location = repository_location(config.storage_root, removal.relative_path);
            if (removal.quarantine)
                quarantine_repository(config.storage_root, removal.replicable->name, removal.id, location,
                                      std::chrono::system_clock::now());
            else
                remove_repository(location, config.storage_root);
        } catch (const Error& e) {
            spdlog::warn("{} {}: repository not removed: {}; its registry row is kept and the next sync retries",
                         removal.replicable->name, removal.id, e.what());
            keep_registry_row(site, removal, e.what());
            ++failed;
        }
    }
    return failed;
}

std::optional<std::string> mass_removal(const Config& config, const Replicable& r, size_t removing, size_t compared) {
    auto share = static_cast<double>(removing) / static_cast<double>(std::max<size_t>(compared, 1));
    bool too_many = static_cast<long long>(removing) > config.max_removal_count;
    if (!too_many && share <= config.max_removal_share)
        return std::nullopt;
    char percent[16];
    std::snprintf(percent, sizeof percent, "%.0f%%", share * 100);
    std::string limit = too_many ? "more than sync.max_removal_count " + std::to_string(config.max_removal_count)
                                 : std::string("more than sync.max_removal_share ") +
                                       std::to_string(static_cast<int>(config.max_removal_share * 100 + 0.5)) + "%";
    return r.name + ": registry consistency would remove " + std::to_string(removing) + " of " +
           std::to_string(compared) + " registry rows compared (" + percent + ", " + limit +
           "), so it removed none; check databases.main and the type's scope, and if the primary really lost "
           "these records run geo-ssf sync --allow-mass-removal";
}

}  // namespace geo_ssf::secondary
