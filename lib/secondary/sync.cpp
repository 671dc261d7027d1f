#include "secondary/sync.hpp"

#include "common/error.hpp"
#include "db/model_table.hpp"
#include "db/registry_table.hpp"
#include "repo/mirror.hpp"
#include "repo/storage.hpp"
#include "secondary/removal.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace geo_ssf::secondary {

namespace {

using Clock = std::chrono::steady_clock;

constexpr int k_event_batch = 1000;
// Registry consistency compares this many of the primary's records at a time.
constexpr int k_consistency_batch = 10000;

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

// The ids of the primary's records in scope in [FIRST, LAST], ascending.
std::vector<long long> ids_in_scope(pqxx::transaction_base& tx, const Replicable& r, long long first, long long last) {
    std::vector<long long> ids;
    for (const auto& row : tx.exec_params("SELECT id FROM " + r.model_table + " WHERE id BETWEEN $1 AND $2 AND " +
                                              scope_predicate(r) + " ORDER BY id",
                                          first, last))
        ids.push_back(row[0].as<long long>());
    return ids;
}

// Where the copies of UNUSED records are: from their rows while they exist, else from the id.
std::vector<Removal> removals_of(Site& site, const Replicable& r, const std::vector<long long>& unused) {
    RepositoryPaths known;
    {
        pqxx::read_transaction main(site.main_database());
        known = repository_paths(main, r, unused);
    }
    std::vector<Removal> removals;
    for (long long id : unused) {
        auto it = known.paths.find(id);
        auto path = it != known.paths.end() ? std::optional<std::string>(it->second) : repository_path_from_id(r, id);
        if (path)
            removals.push_back({r.name, id, *path});
        else
            spdlog::warn("{} {}: the record is gone and its repository path is unknown; its repository stays", r.name, id);
    }
    return removals;
}

// Registry consistency: adds registry rows for the primary's in-scope records that have none,
// and removes the rows of records that are gone or out of scope, range by range. GitLab leaves
// the repositories of removed rows behind; here they are removed, inside the root only.
void reconcile_registry(Site& site, const Replicable& r, TypeTotals& totals) {
    IdRanges ranges(r, k_consistency_batch);
    while (true) {
        std::vector<long long> source;
        std::optional<std::pair<long long, long long>> range;
        {
            pqxx::read_transaction tx(site.main_database());
            range = ranges.next(tx);
            if (!range)
                break;
            source = ids_in_scope(tx, r, range->first, range->second);
        }
        pqxx::work tx(site.geo_database());
        auto tracked = registry_table::ids_in_range(tx, r, range->first, range->second);
        std::vector<long long> untracked, unused;
        std::set_difference(source.begin(), source.end(), tracked.begin(), tracked.end(), std::back_inserter(untracked));
        std::set_difference(tracked.begin(), tracked.end(), source.begin(), source.end(), std::back_inserter(unused));
        totals.registry_created += registry_table::insert_rows(tx, r, untracked);
        std::vector<Removal> removals = removals_of(site, r, unused);
        totals.registry_deleted += registry_table::delete_rows(tx, r, unused);
        tx.commit();
        remove_repositories(site.config(), removals);
    }
}

class MirrorBatch : public ClaimedBatchOf<registry_table::Claim, SyncOutcome> {
public:
    MirrorBatch(Site& site, const Replicable& r, std::string claim_time, std::vector<registry_table::Claim> claims)
        : ClaimedBatchOf(std::move(claims)), m_site(site), m_replicable(r), m_claim_time(std::move(claim_time)) {
        pqxx::read_transaction main(site.main_database());
        m_paths = repository_paths(main, r, ids());
    }

    void work(size_t i) override {
        const registry_table::Claim& c = m_claims[i];
        const Config& config = m_site.config();
        try {
            auto path = m_paths.paths.find(c.id);
            if (path == m_paths.paths.end()) {
                auto invalid = m_paths.invalid.find(c.id);
                throw RuntimeError(invalid != m_paths.invalid.end() ? invalid->second
                                                                    : "the record no longer exists on the primary");
            }
            auto target = repository_location(config.storage_root, path->second);
            auto result = mirror_repository(primary_repository_url(config.primary_url, path->second), target,
                                            config.storage_root);
            m_outcomes[i] = sync_succeeded(result.missing_on_primary);
        } catch (const std::exception& e) {
            m_outcomes[i] = sync_failed(c.retry_count, e.what());
        }
    }

    RecordResult result(size_t i) const override {
        const SyncOutcome& o = m_outcomes[i];
        if (o.state != SyncState::synced)
            return {m_claims[i].id, RecordResult::Kind::failed, o.failure.value_or("")};
        return {m_claims[i].id, RecordResult::Kind::succeeded, o.missing_on_primary ? "missing on the primary" : ""};
    }

    void record(const std::vector<std::pair<long long, SyncOutcome>>& outcomes,
                const std::vector<registry_table::Claim>& unworked) override {
        pqxx::connection& geo = m_site.geo_database();
        registry_table::record_sync_outcomes(geo, m_replicable, m_claim_time, outcomes,
                                             primary_verified(m_site, m_replicable, ids()));
        registry_table::restore_claimed_syncs(geo, m_replicable, m_claim_time, unworked);
    }

private:
    Site& m_site;
    const Replicable& m_replicable;
    std::string m_claim_time;
    RepositoryPaths m_paths;
};

class Sync : public RunKind {
public:
    explicit Sync(Site& site) : m_site(site) {}

    pqxx::connection& claims_database() override { return m_site.geo_database(); }

    long long prepare(const Replicable& r, TypeTotals& totals) override {
        pqxx::connection& geo = m_site.geo_database();
        reconcile_registry(m_site, r, totals);
        long long released = registry_table::release_abandoned_syncs(geo, r, "");
        if (long long timed_out = registry_table::fail_timed_out_syncs(geo, r, m_site.config().sync.timeout))
            spdlog::warn("{}: {} syncs timed out", r.name, timed_out);
        return released;
    }

    std::unique_ptr<ClaimedBatch> claim(const Replicable& r, const std::string& claim_time,
                                        const ClaimRequest& request) override {
        pqxx::connection& geo = m_site.geo_database();
        auto claims = request.ids ? registry_table::claim_syncs(geo, r, claim_time, *request.ids)
                                  : registry_table::claim_due_syncs(geo, r, claim_time, request.limit);
        return std::make_unique<MirrorBatch>(m_site, r, claim_time, std::move(claims));
    }

private:
    Site& m_site;
};

// A file:// or plain-path primary whose folder is absent (an unmounted share) would fail
// every record: one clear error instead.
void require_primary_folder(const Config& config) {
    auto folder = local_path_of(config.primary_url);
    std::error_code ec;
    if (folder && !std::filesystem::is_directory(*folder, ec))
        throw RuntimeError("storage.primary_url " + config.primary_url +
                           " is not a folder; is the primary's storage mounted?");
}

}  // namespace

SyncRun sync(Site& site, const std::vector<std::string>& names, const RunLimits& limits) {
    auto started = Clock::now();
    const Config& config = site.config();
    auto types = select_run_types(config, names, &Replicable::replication_enabled, "replication");
    if (int removed = remove_abandoned_mirror_folders(config.storage_root))
        spdlog::info("removed {} folders left by interrupted syncs", removed);
    require_primary_folder(config);
    SyncRun run;
    run.events = consume_events(site, k_event_batch);
    Sync kind(site);
    run.types = run_types(kind, types, limits, started);
    return run;
}

std::vector<RecordResult> sync_records(Site& site, const std::string& replicable, const std::vector<long long>& ids,
                                       int jobs) {
    const Replicable& r = site.config().replicable(replicable);
    {
        pqxx::work tx(site.geo_database());
        registry_table::insert_rows(tx, r, ids);
        tx.commit();
    }
    Sync kind(site);
    return run_records(kind, r, ids, jobs, "another run is syncing this record right now");
}

}  // namespace geo_ssf::secondary
