#include "secondary/sync.hpp"

#include "common/error.hpp"
#include "common/redact.hpp"
#include "common/stop.hpp"
#include "common/url.hpp"
#include "db/cursors.hpp"
#include "db/model_table.hpp"
#include "db/primary_reads.hpp"
#include "db/registry_table.hpp"
#include "repo/git_program.hpp"
#include "repo/mirror.hpp"
#include "repo/quarantine.hpp"
#include "repo/staging.hpp"
#include "repo/storage.hpp"
#include "secondary/removal.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <limits>

namespace geo_ssf::secondary {

namespace {

using Clock = std::chrono::steady_clock;

constexpr int k_event_batch = 1000;

// The records of IDS whose verification succeeded on the primary, ascending.
std::vector<long long> primary_verified(Site& site, const Replicable& r, const std::vector<long long>& ids) {
    if (ids.empty())
        return {};
    return read_primary(site.main_database(), [&](pqxx::transaction_base& tx) {
        std::vector<long long> out;
        for (const auto& row : tx.exec_params("SELECT " + r.foreign_key + " FROM " + r.states_table + " WHERE " +
                                                  r.foreign_key + " = ANY($1::bigint[]) AND verification_state = 2 ORDER BY 1",
                                              bigint_array(ids)))
            out.push_back(row[0].as<long long>());
        return out;
    });
}

// The ids of the primary's records in scope in [FIRST, LAST], ascending.
std::vector<long long> ids_in_scope(pqxx::transaction_base& tx, const Replicable& r, long long first, long long last) {
    std::vector<long long> ids;
    const std::string& key = r.model_key;
    for (const auto& row : tx.exec_params("SELECT " + key + " FROM " + r.model_table + " WHERE " + key +
                                              " BETWEEN $1 AND $2 AND " + scope_predicate(r) + " ORDER BY " + key,
                                          first, last))
        ids.push_back(row[0].as<long long>());
    return ids;
}

// The copies to remove of UNUSED records: those of records that are gone, at the path their id
// gives. Records that still exist have left the scope: as in GitLab, their copies stay on disk.
std::vector<Removal> removals_of(Site& site, const Replicable& r, const std::vector<long long>& unused) {
    std::vector<long long> gone =
        read_primary(site.main_database(), [&](pqxx::transaction_base& main) { return missing_model_ids(main, r, unused); });
    std::vector<Removal> removals;
    for (long long id : gone) {
        if (auto path = repository_path_from_id(r, id))
            removals.push_back({&r, id, *path, true});
        else
            spdlog::warn("{} {}: the record is gone and its repository path is unknown; its repository stays", r.name, id);
    }
    if (!removals.empty())
        spdlog::info("{}: {} records are gone from the primary without a deleted event; their repositories move to "
                     "the quarantine", r.name, removals.size());
    if (unused.size() > gone.size())
        spdlog::info("{}: {} records left the scope; their registry rows are removed, their repositories stay", r.name,
                     unused.size() - gone.size());
    return removals;
}

struct IdBatch {
    std::pair<long long, long long> range;
    std::vector<long long> ids;  // the primary's records in scope in the range, ascending
};

// The next range of the walk RANGES, with the records in scope in it.
std::optional<IdBatch> next_batch(Site& site, const Replicable& r, IdRanges& ranges) {
    return read_primary(site.main_database(), [&](pqxx::transaction_base& main) -> std::optional<IdBatch> {
        IdRanges walk = ranges;  // moved on only once the read succeeds: it may be tried twice
        auto range = walk.next(main);
        std::optional<IdBatch> batch;
        if (range)
            batch = IdBatch{*range, ids_in_scope(main, r, range->first, range->second)};
        ranges = walk;
        return batch;
    });
}

// Brings the registry in step with the primary's records in RANGE, in one transaction of the
// tracking database that also moves CURSOR_NAME to CURSOR (when set). A mass removal
// (mass_removal) without REMOVALS.allowed removes nothing and leaves the cursor, so that every
// run says so until it is confirmed or set right.
void reconcile_range(Site& site, const Replicable& r, std::pair<long long, long long> range,
                     const std::vector<long long>& source, TypeTotals& totals,
                     const std::optional<std::pair<std::string, std::optional<long long>>>& cursor,
                     RemovalReport& removals) {
    pqxx::work tx(site.geo_database());
    auto tracked = registry_table::ids_in_range(tx, r, range.first, range.second);
    std::vector<long long> untracked, unused;
    std::set_difference(source.begin(), source.end(), tracked.begin(), tracked.end(), std::back_inserter(untracked));
    std::set_difference(tracked.begin(), tracked.end(), source.begin(), source.end(), std::back_inserter(unused));
    totals.registry_created += registry_table::insert_rows(tx, r, untracked);
    auto refusal = removals.allowed ? std::nullopt : mass_removal(site.config(), r, unused.size(), tracked.size());
    if (refusal) {
        tx.commit();
        removals.refused.push_back(*refusal);
        return;
    }
    std::vector<Removal> moving = removals_of(site, r, unused);
    totals.registry_deleted += registry_table::delete_rows(tx, r, unused);
    if (cursor)
        write_cursor(tx, cursor->first, cursor->second);
    tx.commit();
    removals.failed += remove_repositories(site, moving);
}

// Registry consistency, bounded like GitLab's worker: each run compares one batch of the
// primary's records (from where the last run stopped, starting over after the last id) with
// the registry, adding rows for records in scope that have none and removing the rows of
// records that are gone or out of scope; and one batch of the records above the registry's
// largest id, so that records created without an event are registered at once.
void reconcile_registry(Site& site, const Replicable& r, TypeTotals& totals, RemovalReport& removals) {
    const std::string cursor_name = registry_consistency_walk(r.name);
    std::optional<long long> after, largest_registered;
    {
        pqxx::read_transaction geo(site.geo_database());
        after = read_cursor(geo, cursor_name);
        auto row = geo.exec1("SELECT max(" + r.foreign_key + ") FROM " + r.registry_table);
        if (!row[0].is_null())
            largest_registered = row[0].as<long long>();
    }
    const int batch_size = site.config().consistency_batch_size;
    IdRanges ranges(r, batch_size, after);
    auto batch = next_batch(site, r, ranges);
    if (!batch) {
        // No records at all while the registry has rows: the first batch of them compared with
        // nothing, which the mass-removal guard stops unless it is confirmed.
        std::optional<long long> last;
        if (largest_registered) {
            pqxx::read_transaction geo(site.geo_database());
            last = registry_table::largest_of_first_ids(geo, r, batch_size);
        }
        if (last)
            reconcile_range(site, r, {std::numeric_limits<long long>::min(), *last}, {}, totals, std::nullopt, removals);
        return;
    }
    reconcile_range(site, r, batch->range, batch->ids, totals, std::make_pair(cursor_name, ranges.position()), removals);
    // Nothing above is left unseen when the batch reached the end of the table; and an empty
    // registry is being filled batch by batch.
    if (!ranges.position() || !largest_registered)
        return;
    IdRanges above(r, batch_size, std::max(*largest_registered, batch->range.second));
    batch = next_batch(site, r, above);
    if (batch && !batch->ids.empty())  // above the registry's largest id there is nothing to remove
        reconcile_range(site, r, batch->range, batch->ids, totals, std::nullopt, removals);
}

// A copy that registry consistency moved to the quarantine comes back when its record does.
void restore_quarantined_copy(const Config& config, const Replicable& r, long long id,
                              const std::filesystem::path& target) {
    std::error_code ec;
    if (std::filesystem::exists(std::filesystem::symlink_status(target, ec)))
        return;
    if (restore_from_quarantine(config.storage_root, r.name, id, target))
        spdlog::info("{} {}: its copy is back from the quarantine; the fetch brings it up to date", r.name, id);
}

// Purges what the quarantine has kept for longer than sync.removed_retention.
void purge_quarantined_copies(const Config& config, const Replicable& r) {
    try {
        if (int purged = purge_quarantine(config.storage_root, r.name, config.removed_retention,
                                          std::chrono::system_clock::now()))
            spdlog::info("{}: purged {} quarantined repositories older than sync.removed_retention", r.name, purged);
    } catch (const Error& e) {
        spdlog::warn("{}: the quarantine was not purged: {}", r.name, e.what());
    }
}

// Puts CLAIMS back as they were when a read of the primary's database failed after they were
// claimed: the run stops with that error, and nothing of the batch is recorded. (Should the
// tracking database fail too, the next run releases the rows, as after kill -9.)
void restore_after_failed_read(Site& site, const Replicable& r, const std::string& claim_time,
                               const std::vector<registry_table::Claim>& claims) {
    try {
        registry_table::restore_claimed_syncs(site.geo_database(), r, claim_time, claims);
    } catch (const std::exception& e) {
        spdlog::warn("{}: could not put back the claimed rows: {}", r.name, e.what());
    }
}

std::vector<long long> ids_of(const std::vector<registry_table::Claim>& claims) {
    std::vector<long long> ids;
    for (const auto& c : claims)
        ids.push_back(c.id);
    return ids;
}

class MirrorBatch : public ClaimedBatchOf<registry_table::Claim, SyncOutcome> {
public:
    MirrorBatch(Site& site, const Replicable& r, std::string claim_time, std::vector<registry_table::Claim> claims,
                RepositoryPaths paths)
        : ClaimedBatchOf(std::move(claims)), m_site(site), m_replicable(r), m_claim_time(std::move(claim_time)),
          m_paths(std::move(paths)) {}

    bool work(size_t i) override {
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
            restore_quarantined_copy(config, m_replicable, c.id, target);
            auto result = mirror_repository(primary_repository_url(config.primary_url, path->second), target,
                                            config.storage_root, config.transport, config.max_refs);
            m_outcomes[i] = sync_succeeded(result.missing_on_primary);
        } catch (const GitProgramInterrupted& e) {
            if (stop_requested())
                return false;  // not the record's failure: the next run fetches it
            m_outcomes[i] = sync_failed(c.retry_count, redact_url_credentials(e.what()));
        } catch (const std::exception& e) {
            m_outcomes[i] = sync_failed(c.retry_count, redact_url_credentials(e.what()));
        }
        return true;
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
        std::vector<long long> verified;
        try {
            verified = primary_verified(m_site, m_replicable, ids());
        } catch (...) {
            restore_after_failed_read(m_site, m_replicable, m_claim_time, m_claims);
            throw;
        }
        registry_table::record_sync_outcomes(geo, m_replicable, m_claim_time, outcomes, verified);
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
    Sync(Site& site, bool allow_mass_removal) : m_site(site) { m_removals.allowed = allow_mass_removal; }

    pqxx::connection& claims_database() override { return m_site.geo_database(); }
    const char* failed_filter() const override { return "--sync-state failed"; }

    long long count_due(const Replicable& r) override { return registry_table::count_due_syncs(m_site.geo_database(), r); }
    long long prepare(const Replicable& r, TypeTotals& totals) override {
        pqxx::connection& geo = m_site.geo_database();
        reconcile_registry(m_site, r, totals, m_removals);
        purge_quarantined_copies(m_site.config(), r);
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
        RepositoryPaths paths;
        if (!claims.empty()) {
            try {
                paths = read_primary(m_site.main_database(),
                                     [&](pqxx::transaction_base& main) { return repository_paths(main, r, ids_of(claims)); });
            } catch (...) {
                restore_after_failed_read(m_site, r, claim_time, claims);
                throw;
            }
        }
        return std::make_unique<MirrorBatch>(m_site, r, claim_time, std::move(claims), std::move(paths));
    }

    const RemovalReport& removals() const { return m_removals; }

private:
    Site& m_site;
    RemovalReport m_removals;
};

// A file:// or plain-path primary whose folder is absent (an unmounted share) would fail
// every record: one clear error instead.
void require_primary_folder(const Config& config) {
    auto folder = local_path_of(config.primary_url);
    std::error_code ec;
    if (folder && !std::filesystem::is_directory(*folder, ec))
        throw RuntimeError("storage.primary_url " + redact_url_credentials(config.primary_url) +
                           " is not a folder; is the primary's storage mounted?");
}

}  // namespace

SyncRun sync(Site& site, const std::vector<std::string>& names, const RunLimits& limits, bool allow_mass_removal) {
    auto started = Clock::now();
    const Config& config = site.config();
    auto types = select_run_types(config, names, &Replicable::replication_enabled, "replication");
    if (int removed = remove_abandoned_mirror_folders(config.storage_root))
        spdlog::info("removed {} folders left by interrupted syncs", removed);
    require_primary_folder(config);
    SyncRun run;
    // Event replay is bounded like the steps after it: it stops between batches.
    run.events = consume_events(
        site, k_event_batch, [&] { return stop_requested() || limits.out_of_time(started); }, &run.removals_failed);
    Sync kind(site, allow_mass_removal);
    run.types = run_types(kind, types, limits, started);
    run.removals_failed += kind.removals().failed;
    run.removals_refused = kind.removals().refused;
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
    Sync kind(site, false);
    return run_records(kind, r, ids, jobs, "another run is syncing this record right now");
}

}  // namespace geo_ssf::secondary
