// A secondary's copies of the primary's pool repositories (the type definition's
// pool_repository_path): each is brought up to date before the first of its members that a run
// syncs, once per run, and one process at a time (repo/pools.hpp). A pool copy is never removed
// by geo-ssf: its members borrow its objects.
#pragma once

#include "site/config.hpp"

#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

namespace geo_ssf::secondary {

class PoolCopies {
public:
    explicit PoolCopies(const Config& config) : m_config(config) {}

    // The copy of the pool at PATH in STORAGE, fetched from the primary's once in this object's
    // life. A RuntimeError "its pool <path>: <why>" when it cannot be had; the members that need
    // it fail with it, and the next run tries again.
    std::filesystem::path bring_up_to_date(const Storage& storage, const std::string& path);

private:
    const Config& m_config;
    std::mutex m_mutex;  // one pool fetch at a time in this process
    std::map<std::pair<std::string, std::string>, std::optional<std::string>> m_fetched;  // → the failure, if any
};

}  // namespace geo_ssf::secondary
