#include "secondary/sync.hpp"

#include "common/error.hpp"
#include "repo/mirror.hpp"
#include "db/model_table.hpp"
#include "common/parallel.hpp"
#include "db/registry_table.hpp"
#include "db/run_lock.hpp"
#include "common/stop.hpp"
#include "repo/storage.hpp"
#include "db/tallies.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace geo_ssf {

namespace {

using Clock = std::chrono::steady_clock;

constexpr int k_event_batch = 1000;
constexpr int k_consistency_batch = 10000;

std::vector<long long> claim_ids(const std::vector<RegistryClaim>& claims) {
    std::vector<long long> ids;
    for (const auto& c : claims)
        ids.push_back(c.id);
    return ids;
}

// The records of IDS whose verification succeeded on the primary, ascending.
std::vector<long long> primary_verified(Site& site, const Replicable& r, const std::vector<long long>& ids) {
    std::vector<long long> out;
    if (ids.empty())
        return out;
    pqxx::read_transaction tx(site.main_database());
    for (const auto& row : tx.exec_params("SELECT " + r.foreign_key + " FROM " + r.states_table + " WHERE " +
                                              r.foreign_key + " = ANY($1::bigint[]) AND verification_state = 2 ORDER BY 1",
                                          bigint_array(ids)))
        out.push_back(row[0].as<long long>());
    return out;
}

// Adds registry rows for the primary's in-scope records that have none, and removes the rows
// (and repositories) of records that are gone or out of scope, in id ranges.
void reconcile_registry(Site& site, const Replicable& r, SyncTotals& totals) {
    pqxx::connection& main = site.main_database();
    pqxx::connection& geo = site.geo_database();
    IdRanges ranges(r, k_consistency_batch);
    while (true) {
        std::vector<long long> source;
        std::optional<std::pair<long long, long long>> range;
        {
            pqxx::read_transaction tx(main);
            range = ranges.next(tx);
            if (!range)
                break;
            for (const auto& row : tx.exec_params("SELECT id FROM " + r.model_table + " WHERE id BETWEEN $1 AND $2 AND " +
                                                      scope_predicate(r) + " ORDER BY id",
                                                  range->first, range->second))
                source.push_back(row[0].as<long long>());
        }
        pqxx::work tx(geo);
        auto tracked = registry_ids_in_range(tx, r, range->first, range->second);
        std::vector<long long> untracked, unused;
        std::set_difference(source.begin(), source.end(), tracked.begin(), tracked.end(), std::back_inserter(untracked));
        std::set_difference(tracked.begin(), tracked.end(), source.begin(), source.end(), std::back_inserter(unused));
        totals.registry_created += insert_registry_rows(tx, r, untracked);
        if (!unused.empty()) {
            // GitLab leaves these repositories behind; they are removed here, inside the root only.
            auto paths = repository_paths(site, r, unused);
            bool id_only = r.repository_path.columns() == std::vector<std::string>{"id"};
            for (long long id : unused) {
                auto it = paths.find(id);
                std::string relative = it != paths.end() ? it->second
                                       : id_only        ? r.repository_path.render({std::to_string(id)})
                                                        : std::string();
                if (relative.empty()) {
                    spdlog::warn("{} {}: the record is gone and its repository path is unknown; its repository stays",
                                 r.name, id);
                    continue;
                }
                try {
                    remove_repository(repository_location(site.config().storage_root, relative),
                                      site.config().storage_root);
                } catch (const RuntimeError& e) {
                    spdlog::warn("{} {}: repository not removed: {}", r.name, id, e.what());
                }
            }
            totals.registry_deleted += delete_registry_rows(tx, r, unused);
        }
        tx.commit();
    }
}

struct BatchOutcome {
    std::vector<std::pair<long long, SyncOutcome>> outcomes;
    std::vector<RegistryClaim> unattempted;
    std::vector<RecordResult> results;
};

BatchOutcome mirror_claimed(Site& site, const Replicable& r, const std::vector<RegistryClaim>& claims, int jobs) {
    const Config& config = site.config();
    auto paths = repository_paths(site, r, claim_ids(claims));
    std::vector<std::optional<SyncOutcome>> done(claims.size());
    parallel_for(claims.size(), jobs, [&](size_t i) {
        if (stop_requested())
            return;
        const RegistryClaim& c = claims[i];
        try {
            auto path = paths.find(c.id);
            if (path == paths.end())
                throw RuntimeError("the record no longer exists on the primary");
            auto target = repository_location(config.storage_root, path->second);
            auto result = mirror_repository(primary_repository_url(config.primary_url, path->second), target,
                                            config.storage_root);
            done[i] = sync_succeeded(result.missing_on_primary);
        } catch (const std::exception& e) {
            done[i] = sync_failed(c.retry_count, e.what());
        }
    });
    BatchOutcome batch;
    for (size_t i = 0; i < claims.size(); ++i) {
        if (!done[i]) {
            batch.unattempted.push_back(claims[i]);
            continue;
        }
        const SyncOutcome& o = *done[i];
        batch.outcomes.emplace_back(claims[i].id, o);
        bool ok = o.state == SyncState::synced;
        batch.results.push_back({claims[i].id, ok, ok && o.missing_on_primary ? "missing on the primary" : "",
                                 o.failure.value_or("")});
        if (!ok)
            spdlog::warn("{} {}: {}", r.name, claims[i].id, o.failure.value_or(""));
    }
    return batch;
}

BatchOutcome work_batch(Site& site, const Replicable& r, const std::string& claim_time,
                        const std::vector<RegistryClaim>& claims, int jobs) {
    BatchOutcome batch = mirror_claimed(site, r, claims, jobs);
    record_sync_outcomes(site.geo_database(), r, claim_time, batch.outcomes, primary_verified(site, r, claim_ids(claims)));
    restore_claimed_syncs(site.geo_database(), r, claim_time, batch.unattempted);
    return batch;
}

std::vector<const Replicable*> replication_types(const Config& config, const std::vector<std::string>& names) {
    std::vector<const Replicable*> out;
    if (names.empty()) {
        for (const auto& r : config.replicables)
            if (r.replication_enabled)
                out.push_back(&r);
        return out;
    }
    for (const auto& name : names) {
        const Replicable& r = config.replicable(name);
        if (!r.replication_enabled)
            throw UsageError("replication of " + r.name + " is disabled in " + r.file.string());
        out.push_back(&r);
    }
    return out;
}

}  // namespace

std::map<long long, std::string> repository_paths(Site& site, const Replicable& r, const std::vector<long long>& ids) {
    std::map<long long, std::string> paths;
    if (ids.empty())
        return paths;
    pqxx::read_transaction tx(site.main_database());
    for (const auto& row : tx.exec_params("SELECT m.id, " + repository_path_columns_sql(r, "m") + " FROM " +
                                              r.model_table + " m WHERE m.id = ANY($1::bigint[])",
                                          bigint_array(ids))) {
        try {
            paths[row[0].as<long long>()] = repository_path_of(r, row, 1);
        } catch (const RuntimeError& e) {
            spdlog::warn("{} {}: {}", r.name, row[0].as<long long>(), e.what());
        }
    }
    return paths;
}

SyncRun sync_secondary(Site& site, const std::vector<std::string>& names, const RunLimits& limits) {
    const Config& config = site.config();
    auto started = Clock::now();
    auto out_of_time = [&] { return limits.max_runtime && Clock::now() - started >= *limits.max_runtime; };
    auto types = replication_types(config, names);
    pqxx::connection& geo = site.geo_database();
    if (int removed = remove_abandoned_mirror_folders(config.storage_root))
        spdlog::info("removed {} folders left by interrupted syncs", removed);

    if (config.primary_url.rfind("file://", 0) == 0 || config.primary_url.find("://") == std::string::npos) {
        std::string base = config.primary_url.rfind("file://", 0) == 0 ? config.primary_url.substr(7) : config.primary_url;
        std::error_code ec;
        if (!std::filesystem::is_directory(base, ec))
            throw RuntimeError("storage.primary_url " + config.primary_url +
                               " is not a folder; is the primary's storage mounted?");
    }
    SyncRun result;
    result.events = consume_events(site, k_event_batch);
    for (const Replicable* r : types) {
        SyncTotals totals;
        totals.replicable = r->name;
        if (stop_requested() || out_of_time()) {
            result.types.push_back(std::move(totals));
            continue;
        }
        reconcile_registry(site, *r, totals);
        totals.released = release_abandoned_syncs(geo, *r, "");
        if (long long timed_out = fail_timed_out_syncs(geo, *r, config.sync.timeout))
            spdlog::warn("{}: {} syncs timed out", r->name, timed_out);
        while (!stop_requested() && !out_of_time()) {
            RunLock run(geo);  // a claim time of this batch's own, so timeouts count from the claim
            auto claims = claim_due_syncs(geo, *r, run.claim_time(), limits.batch_size);
            if (claims.empty())
                break;
            totals.claimed += static_cast<long long>(claims.size());
            auto batch = work_batch(site, *r, run.claim_time(), claims, limits.jobs);
            for (const auto& res : batch.results) {
                if (res.succeeded) {
                    ++totals.synced;
                } else {
                    ++totals.failed;
                    totals.failures.push_back({res.id, res.failure});
                }
            }
            if (static_cast<int>(claims.size()) < limits.batch_size)
                break;
        }
        result.types.push_back(std::move(totals));
    }
    fold_tallies(geo);
    return result;
}

std::vector<RecordResult> sync_secondary_records(Site& site, const std::string& name, const std::vector<long long>& ids,
                                                 int jobs) {
    const Replicable& r = site.config().replicable(name);
    pqxx::connection& geo = site.geo_database();
    RunLock run(geo);
    auto claims = claim_syncs(geo, r, run.claim_time(), ids);
    auto results = work_batch(site, r, run.claim_time(), claims, jobs).results;
    for (long long id : ids)
        if (std::none_of(results.begin(), results.end(), [&](const RecordResult& x) { return x.id == id; }))
            results.push_back({id, false, "", "another run is syncing this record right now"});
    std::sort(results.begin(), results.end(), [](const RecordResult& a, const RecordResult& b) { return a.id < b.id; });
    return results;
}

}  // namespace geo_ssf
