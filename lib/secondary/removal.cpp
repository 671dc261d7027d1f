#include "secondary/removal.hpp"

#include "common/error.hpp"
#include "db/registry_table.hpp"
#include "repo/quarantine.hpp"
#include "repo/staging.hpp"
#include "repo/storage.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

namespace geo_ssf::secondary {

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
            // Its registry row says so, and the next run's registry consistency finds it again and
            // retries the removal (a record still on the primary is synced again instead).
            registry_table::record_removal_failure(site.geo_database(), *removal.replicable, removal.id, e.what());
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
