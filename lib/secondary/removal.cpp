#include "secondary/removal.hpp"

#include "common/error.hpp"
#include "repo/mirror.hpp"
#include "repo/storage.hpp"

#include <spdlog/spdlog.h>

namespace geo_ssf::secondary {

int remove_repositories(const Config& config, const std::vector<Removal>& removals) {
    int failed = 0;
    for (const auto& removal : removals) {
        try {
            remove_repository(repository_location(config.storage_root, removal.relative_path), config.storage_root);
        } catch (const Error& e) {
            spdlog::warn("{} {}: repository not removed: {}", removal.replicable, removal.id, e.what());
            ++failed;
        }
    }
    return failed;
}

}  // namespace geo_ssf::secondary
