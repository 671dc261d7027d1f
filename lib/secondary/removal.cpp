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

namespace {

constexpr int k_resumed_per_run = 1000;

const Replicable* replicable_named(const Config& config, const std::string& name) {
    for (const auto& r : config.replicables)
        if (r.name == name)
            return &r;
    return nullptr;
}

// Does the requested removal of the copy at LOCATION, if no other run has it. False when it failed.
bool remove_one(Site& site, const RepositoryLocation& location) {
    const Config& config = site.config();
    pqxx::work tx(site.geo_database());
    auto taken = copies::take_removal(tx, location);
    if (!taken)
        return true;  // done, or under way in another run
    std::string failure;
    try {
        const Storage& storage = config.storage(location.storage);
        auto folder = repository_location(storage.root, location.path);
        if (taken->quarantine)
            quarantine_repository(storage.root, taken->replicable, taken->id, folder, std::chrono::system_clock::now());
        else
            remove_repository(folder, storage.root);
        copies::finish_removal(tx, location);
        tx.commit();
        return true;
    } catch (const Error& e) {
        failure = e.what();
    }
    tx.abort();
    spdlog::warn("{} {}: repository not removed: {}; its registry row is kept and the next sync retries",
                 taken->replicable, taken->id, failure);
    if (const Replicable* r = replicable_named(config, taken->replicable))
        registry_table::record_removal_failure(site.geo_database(), *r, taken->id, failure);
    return false;
}

}  // namespace

std::vector<Removal> request_removals(Site& site, pqxx::transaction_base& tx, const std::vector<Removal>& removals) {
    std::vector<Removal> requested;
    auto accepted = copies::request_removals(tx, removals);
    for (size_t i = 0; i < removals.size(); ++i) {
        if (accepted[i])
            requested.push_back(removals[i]);
        else
            spdlog::warn("{} {}: its repository is not removed: {} is another record's copy", removals[i].replicable->name,
                         removals[i].id, printable(site.config().describe(removals[i].location)));
    }
    return requested;
}

int remove_repositories(Site& site, const std::vector<Removal>& removals) {
    int failed = 0;
    for (const auto& removal : removals)
        if (!remove_one(site, removal.location))
            ++failed;
    return failed;
}

int remove_superseded_copies(Site& site, const Replicable& r, const RepositoryPaths& current,
                             const std::vector<long long>& good) {
    std::vector<long long> ids;
    for (long long id : good)
        if (current.paths.count(id))
            ids.push_back(id);
    if (ids.empty())
        return 0;
    std::vector<Removal> removals;
    pqxx::work tx(site.geo_database());
    for (const auto& [id, location] : copies::live_copies(tx, r, ids)) {
        const RepositoryLocation& now = current.paths.at(id);
        if (location != now) {
            spdlog::info("{} {}: its copy at {} is superseded by the verified one at {}; it moves to the quarantine",
                         r.name, id, printable(site.config().describe(location)),
                         printable(site.config().describe(now)));
            removals.push_back({&r, id, location, true});
        }
    }
    if (removals.empty())
        return 0;
    removals = request_removals(site, tx, removals);
    tx.commit();
    return remove_repositories(site, removals);
}

int finish_requested_removals(Site& site) {
    std::vector<RepositoryLocation> locations;
    {
        pqxx::read_transaction tx(site.geo_database());
        locations = copies::requested_removals(tx, k_resumed_per_run);
    }
    if (!locations.empty())
        spdlog::info("finishing {} removals that an earlier run requested", locations.size());
    int failed = 0;
    for (const auto& location : locations)
        if (!remove_one(site, location))
            ++failed;
    return failed;
}

namespace {

std::string percent_text(double share) {
    char text[16];
    std::snprintf(text, sizeof text, "%.0f%%", share * 100);
    return text;
}

}  // namespace

std::optional<std::string> mass_removal(const Config& config, const Replicable& r, const RemovalBudget& budget) {
    if (budget.removing == 0)
        return std::nullopt;
    const std::string share_limit =
        "sync.max_removal_share " + std::to_string(static_cast<int>(config.max_removal_share * 100 + 0.5)) + "%";
    const std::string advice = "; check databases.main and the type's scope, and if the primary really lost these "
                               "records run geo-ssf sync --allow-mass-removal";
    auto batch_share = static_cast<double>(budget.removing) / static_cast<double>(std::max<long long>(budget.compared, 1));
    long long in_a_day = budget.removed_in_a_day + budget.removing;
    // What the type held when the day's removals began.
    long long held_then = budget.held + budget.removed_in_a_day;
    auto day_share = static_cast<double>(in_a_day) / static_cast<double>(std::max<long long>(held_then, 1));
    const std::string would = r.name + ": registry consistency would remove " + std::to_string(budget.removing);
    const std::string count_limit = "sync.max_removal_count " + std::to_string(config.max_removal_count);
    if (budget.removing > config.max_removal_count)
        return would + " registry rows (more than " + count_limit + "), so it removed none" + advice;
    if (batch_share > config.max_removal_share)
        return would + " of " + std::to_string(budget.compared) + " registry rows compared (" +
               percent_text(batch_share) + ", more than " + share_limit + "), so it removed none" + advice;
    if (in_a_day > config.max_removal_count)
        return would + " registry rows, " + std::to_string(in_a_day) + " in 24 hours (more than " + count_limit +
               "), so it removed none" + advice;
    if (day_share > config.max_removal_share)
        return would + " registry rows, " + std::to_string(in_a_day) + " of " + std::to_string(held_then) +
               " in 24 hours (" + percent_text(day_share) + ", more than " + share_limit + "), so it removed none" +
               advice;
    return std::nullopt;
}

}  // namespace geo_ssf::secondary
