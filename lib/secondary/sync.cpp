#include "secondary/sync.hpp"

#include "common/error.hpp"
#include "common/redact.hpp"
#include "common/stop.hpp"
#include "common/url.hpp"
#include "db/copies.hpp"
#include "db/deep_checks.hpp"
#include "db/model_table.hpp"
#include "db/primary_reads.hpp"
#include "db/registry_table.hpp"
#include "repo/git_program.hpp"
#include "repo/mirror.hpp"
#include "repo/quarantine.hpp"
#include "repo/staging.hpp"
#include "repo/storage.hpp"
#include "secondary/event_replay.hpp"
#include "secondary/followed_primary.hpp"
#include "secondary/housekeeping.hpp"
#include "secondary/pool_copies.hpp"
#include "secondary/registry_consistency.hpp"
#include "secondary/removal.hpp"
#include "secondary/undefined_types.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <limits>
#include <map>
#include <optional>

namespace geo_ssf::secondary {

namespace {

using Clock = std::chrono::steady_clock;

// A copy that registry consistency moved to the quarantine comes back when its record does.
// Only from the quarantine of the storage the copy belongs in: one storage's copy is not moved
// into another's file system.
void restore_quarantined_copy(const Storage& storage, const Replicable& r, long long id,
                              const std::filesystem::path& target) {
    std::error_code ec;
    if (std::filesystem::exists(std::filesystem::symlink_status(target, ec)))
        return;
    if (restore_from_quarantine(storage.root, r.name, id, target))
        spdlog::info("{} {}: its copy is back from the quarantine; the fetch brings it up to date", r.name, id);
}

// The folder of the copy at LOCATION when it holds a repository; nullopt otherwise (a storage the
// site no longer has, a path no longer valid, a copy already gone).
std::optional<std::filesystem::path> existing_copy(const Config& config, const RepositoryLocation& location) {
    const Storage* storage = config.find_storage(location.storage);
    if (!storage)
        return std::nullopt;
    try {
        auto folder = repository_location(storage->root, location.path);
        if (is_bare_repository(folder))
            return folder;
    } catch (const RuntimeError&) {
    }
    return std::nullopt;
}

// A record whose path or storage changed on the primary starts from its copy at the old place,
// which this site keeps until the new one is verified: the fetch then brings what changed since
// the last sync, where a clone would bring everything again. A copy that borrows from a pool,
// or that cannot be copied, is not used: the record is cloned from the primary.
void start_from_old_copy(const Config& config, const Replicable& r, long long id, const RepositoryLocation& old,
                         const RepositoryLocation& location, const std::filesystem::path& target) {
    auto old_copy = existing_copy(config, old);
    std::error_code ec;
    if (!old_copy || std::filesystem::exists(std::filesystem::symlink_status(target, ec)) ||
        std::filesystem::exists(std::filesystem::symlink_status(*old_copy / "objects" / "info" / "alternates", ec)))
        return;
    try {
        copy_into_place(*old_copy, target, config.storage(location.storage).root);
        spdlog::info("{} {}: its copy at {} starts as a copy of the one at {}; the fetch brings it up to date", r.name,
                     id, printable(config.describe(location)), printable(config.describe(old)));
    } catch (const std::exception& e) {
        if (!stop_requested())
            spdlog::warn("{} {}: its old copy is not used, the record is cloned: {}", r.name, id, e.what());
    }
}

// Purges what the quarantine has kept for longer than sync.removed_retention: the copies of R's
// records, or without R the repositories no record claimed.
void purge_quarantined_copies(const Config& config, const Replicable* r) {
    const std::string what = r ? r->name + ": " : std::string();
    try {
        auto now = std::chrono::system_clock::now();
        int purged = 0;
        for (const auto& storage : config.storages)
            purged += r ? purge_quarantine(storage.root, r->name, config.removed_retention, now)
                        : purge_unclaimed(storage.root, config.removed_retention, now);
        if (purged)
            spdlog::info("{}purged {} quarantined {} older than sync.removed_retention", what, purged,
                         r ? "repositories" : "folders of unclaimed repositories");
    } catch (const Error& e) {
        spdlog::warn("{}the quarantine was not purged: {}", what, e.what());
    }
}

class MirrorBatch : public ClaimedBatchOf<SyncOutcome> {
public:
    MirrorBatch(Site& site, const Replicable& r, std::string claim_time, std::vector<Claim> claims,
                RepositoryPaths paths, std::map<long long, int> repairs,
                std::map<long long, RepositoryLocation> old_copies, PoolCopies& pools)
        : ClaimedBatchOf(std::move(claims)), m_site(site), m_replicable(r), m_claim_time(std::move(claim_time)),
          m_paths(std::move(paths)), m_repairs(std::move(repairs)), m_old_copies(std::move(old_copies)),
          m_pools(pools) {}

    bool work(size_t i) override {
        const Claim& c = m_claims[i];
        const Config& config = m_site.config();
        try {
            const RepositoryLocation& location = m_paths.location(c.id, k_gone_from_primary);
            const Storage& storage = config.storage(location.storage);
            auto target = repository_location(storage.root, location.path);
            if (auto around = repository_around(storage.root, target))
                throw RuntimeError("repository path \"" + printable(location.path) + "\" is refused: it lies inside the "
                                   "repository " + around->string());
            check_primary_repository_path(storage.primary_url, location.path);
            // A copy a deep check moved aside as damaged stays there: the record is cloned afresh.
            auto repairs = m_repairs.find(c.id);
            bool repaired = repairs != m_repairs.end() && repairs->second > 0;
            if (!repaired)
                restore_quarantined_copy(storage, m_replicable, c.id, target);
            std::optional<std::filesystem::path> pool;
            if (auto in_pool = m_paths.pools.find(c.id); in_pool != m_paths.pools.end())
                pool = m_pools.bring_up_to_date(storage, in_pool->second);
            else if (auto old_copy = m_old_copies.find(c.id); old_copy != m_old_copies.end() && !repaired)
                start_from_old_copy(config, m_replicable, c.id, old_copy->second, location, target);
            auto result = mirror_repository(primary_repository_url(storage.primary_url, location.path), target,
                                            storage.root, storage.transport, config.max_refs, pool);
            m_outcomes[i] = sync_succeeded(result.missing_on_primary);
            m_outcomes[i].cloned = result.cloned;
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
        if (o.state != SyncState::synced) {
            RecordResult failed{m_claims[i].id, RecordResult::Kind::failed, o.failure.value_or("")};
            if (auto path = m_paths.paths.find(m_claims[i].id); path != m_paths.paths.end())
                failed.concerns = sync_failure_concerns(failed.detail, m_site.config(), path->second);
            return failed;
        }
        return {m_claims[i].id, RecordResult::Kind::succeeded, o.missing_on_primary ? "missing on the primary" : ""};
    }

private:
    void record_outcomes(const std::vector<std::pair<long long, SyncOutcome>>& outcomes) override {
        // Verification becomes pending where the primary has a checksum to compare with.
        std::vector<long long> verified = read_verified_ids(m_site.main_database(), m_replicable, ids_of(m_claims));
        registry_table::record_sync_outcomes(m_site.geo_database(), m_replicable, m_claim_time, outcomes, verified);
        if (!m_replicable.verification_enabled) {  // no verification to wait for
            std::vector<long long> synced;
            for (const auto& [id, outcome] : outcomes)
                if (outcome.state == SyncState::synced)
                    synced.push_back(id);
            remove_superseded_copies(m_site, m_replicable, m_paths, synced);
        }
    }

    Site& m_site;
    const Replicable& m_replicable;
    std::string m_claim_time;
    RepositoryPaths m_paths;
    std::map<long long, int> m_repairs;  // copies moved aside as damaged since they last passed a deep check
    std::map<long long, RepositoryLocation> m_old_copies;  // of records moved since: where their copy was
    PoolCopies& m_pools;
};

class Sync : public RunKind {
public:
    // Refused before anything under a storage root or any record is touched when another user
    // owns the root: what the run writes there would be that user's no more.
    Sync(Site& site, bool allow_mass_removal) : m_site(site) {
        require_own_storage_roots(site.config());
        m_removals.allowed = allow_mass_removal;
    }

    Site& site() override { return m_site; }
    const ClaimableWork& work() const override { return k_registry_sync; }

    void prepare(const Replicable& r, TypeTotals& totals) override {
        reconcile_registry(m_site, r, totals, m_removals);
        purge_quarantined_copies(m_site.config(), &r);
    }

    std::unique_ptr<ClaimedBatch> batch(const Replicable& r, const std::string& claim_time,
                                        std::vector<Claim> claims) override {
        RepositoryPaths paths = read_repository_paths(m_site.main_database(), r, ids_of(claims));
        // Each path is reserved for its record before anything is fetched into it.
        auto refused = copies::reserve(m_site.geo_database(), r, paths.paths);
        for (auto& [id, reason] : refused) {
            paths.paths.erase(id);
            paths.invalid[id] = std::move(reason);
        }
        std::map<long long, int> repairs;
        std::map<long long, RepositoryLocation> old_copies;
        {
            pqxx::read_transaction tx(m_site.geo_database());
            repairs = deep_checks::repairs_of(tx, r, ids_of(claims));
            for (const auto& [id, location] : copies::live_copies(tx, r, ids_of(claims)))
                if (auto now = paths.paths.find(id); now != paths.paths.end() && now->second != location)
                    old_copies.emplace(id, location);
        }
        return std::make_unique<MirrorBatch>(m_site, r, claim_time, std::move(claims), std::move(paths),
                                             std::move(repairs), std::move(old_copies), m_pools);
    }

    const RemovalReport& removals() const { return m_removals; }

private:
    Site& m_site;
    RemovalReport m_removals;
    PoolCopies m_pools{m_site.config()};
};

// A file:// or plain-path primary whose folder is absent (an unmounted share) would fail
// every record: one clear error instead.
void require_primary_folders(const Config& config) {
    for (const auto& storage : config.storages) {
        auto folder = local_path_of(storage.primary_url);
        std::error_code ec;
        if (folder && !std::filesystem::is_directory(*folder, ec))
            throw RuntimeError((storage.name == k_default_storage ? "storage" : "storages." + storage.name) +
                               ".primary_url " + redact_url_credentials(storage.primary_url) +
                               " is not a folder; is the primary's storage mounted?");
    }
}

}  // namespace

std::string sync_failure_concerns(std::string_view reason, const Config& config, const RepositoryLocation& location) {
    const Storage* storage = config.find_storage(location.storage);
    if (!storage)
        return "copy " + config.describe(location);
    // Writing the copy fails for want of room or of a writable file system whatever the message
    // names; otherwise a message that names the storage root is about this site's side.
    bool copy = reason.find(storage->root.string()) != std::string_view::npos ||
                reason.find("storage root") != std::string_view::npos;
    for (const char* local : {"No space left on device", "Disk quota exceeded", "Read-only file system"})
        copy = copy || reason.find(local) != std::string_view::npos;
    if (copy)
        return "copy " + (storage->root / location.path).string();
    return "primary " + redact_url_credentials(primary_repository_url(storage->primary_url, location.path));
}

SyncRun sync(Site& site, const std::vector<std::string>& names, const RunLimits& limits, bool allow_mass_removal) {
    auto started = Clock::now();
    const Config& config = site.config();
    Sync kind(site, allow_mass_removal);
    auto types = select_run_types(config, names, &Replicable::replication_enabled, "replication");
    int removed = 0;
    for (const auto& storage : config.storages)
        removed += remove_abandoned_mirror_folders(storage.root);
    if (removed)
        spdlog::info("removed {} folders left by interrupted syncs", removed);
    require_primary_folders(config);
    require_every_type_defined(site);  // before any event is replayed, and its record skipped for good
    follow_primary(site);               // before any event is replayed: a new primary's cursor
    purge_quarantined_copies(config, nullptr);
    SyncRun run;
    run.removals_failed += finish_requested_removals(site);
    // Event replay is bounded like the steps after it: it stops between batches.
    run.events = consume_events(
        site, k_event_batch, [&] { return stop_requested() || limits.out_of_time(started); }, &run.removals_failed);
    run.types = run_types(kind, types, limits, started);
    run.housekeeping = housekeep(site, types, limits, started);
    run.removals_failed += kind.removals().failed;
    run.removals_refused = kind.removals().refused;
    return run;
}

std::vector<long long> sync_due_records(Site& site, const Replicable& r, const std::vector<long long>& ids,
                                        const RunLimits& limits, TypeTotals& totals) {
    Sync kind(site, false);
    return run_due_records(kind, r, ids, limits, totals);
}

std::vector<RecordResult> sync_records(Site& site, const std::string& replicable, const std::vector<long long>& ids,
                                       int jobs) {
    const Replicable& r = site.config().replicable(replicable);
    Sync kind(site, false);
    registry_table::create_rows(site.geo_database(), r, ids);
    return run_records(kind, r, ids, jobs, "another run is syncing this record right now");
}

}  // namespace geo_ssf::secondary
