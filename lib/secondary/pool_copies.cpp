#include "secondary/pool_copies.hpp"

#include "common/error.hpp"
#include "common/redact.hpp"
#include "repo/mirror.hpp"
#include "repo/pools.hpp"
#include "repo/storage.hpp"

#include <spdlog/spdlog.h>

namespace geo_ssf::secondary {

std::filesystem::path PoolCopies::bring_up_to_date(const Storage& storage, const std::string& path) {
    std::filesystem::path target = repository_location(storage.root, path);
    std::lock_guard<std::mutex> lock(m_mutex);
    auto [at, added] = m_fetched.try_emplace({storage.name, path});
    if (added) {
        try {
            check_primary_repository_path(storage.primary_url, path);
            PoolFolderLock folder(target);
            MirrorResult result = mirror_repository(primary_repository_url(storage.primary_url, path), target,
                                                    storage.root, storage.transport, m_config.max_refs);
            if (result.missing_on_primary)
                throw RuntimeError("the primary has no such repository");
            housekeep_pool(target, m_config.sync.timeout, "sync.timeout");
            if (result.cloned)
                spdlog::info("pool {}: copied from the primary", printable(m_config.describe({storage.name, path})));
        } catch (const std::exception& e) {
            at->second = redact_url_credentials(e.what());
        }
    }
    if (at->second)
        throw RuntimeError("its pool " + printable(path) + ": " + *at->second);
    return target;
}

}  // namespace geo_ssf::secondary
