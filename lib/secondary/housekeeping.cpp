#include "secondary/housekeeping.hpp"

#include "common/duration.hpp"
#include "common/error.hpp"
#include "common/logging.hpp"
#include "common/stop.hpp"
#include "db/housekeeping_table.hpp"
#include "db/primary_reads.hpp"
#include "repo/git_program.hpp"
#include "repo/housekeeping.hpp"
#include "repo/storage.hpp"

#include <spdlog/spdlog.h>

#include <map>

namespace geo_ssf::secondary {

namespace {

using Clock = std::chrono::steady_clock;
using housekeeping_table::HousekeepingOutcome;

class HousekeepingBatch : public ClaimedBatchOf<HousekeepingOutcome> {
public:
    HousekeepingBatch(Site& site, const Replicable& r, std::string claim_time, std::vector<Claim> claims,
                      RepositoryPaths paths, std::map<long long, housekeeping_table::History> history)
        : ClaimedBatchOf(std::move(claims)), m_site(site), m_replicable(r), m_claim_time(std::move(claim_time)),
          m_paths(std::move(paths)), m_history(std::move(history)) {}

    bool work(size_t i) override {
        const Claim& c = m_claims[i];
        const Config& config = m_site.config();
        auto started = Clock::now();
        HousekeepingPlan plan;
        try {
            const RepositoryLocation& found = m_paths.location(c.id, k_gone_from_primary);
            auto location = repository_location(config.storage(found.storage).root, found.path);
            const auto& history = m_history[c.id];
            plan = plan_housekeeping(inspect_copy(location, std::chrono::system_clock::now()), history.fresh_copy,
                                     history.seconds_since_full_repack);
            std::string tasks = plan.describe();
            if (auto git = git_program()) {
                run_housekeeping(*git, location, plan, config.sync.timeout, "sync.timeout");
            } else if (!plan.nothing()) {
                // Without git only the refs can be packed; the copy's objects are left as they are.
                pack_copy_refs(location, plan);
                tasks = plan.pack_refs ? "refs packed; objects left as they are: git is not installed"
                                       : "objects left as they are: git is not installed";
                plan = HousekeepingPlan{};
            }
            m_outcomes[i] = housekeeping_table::succeeded(tasks, plan.full_repack, seconds_since(started));
            log_record(spdlog::level::debug, LogFields{m_replicable.name, c.id, milliseconds_since(started)},
                       "housekeeping: " + tasks);
        } catch (const GitProgramInterrupted& e) {
            if (stop_requested())
                return false;  // not the copy's failure: the next run housekeeps it
            m_outcomes[i] = housekeeping_table::failed(c.retry_count, plan.describe(), e.what(), seconds_since(started));
        } catch (const std::exception& e) {
            m_outcomes[i] = housekeeping_table::failed(c.retry_count, plan.describe(), e.what(), seconds_since(started));
        }
        return true;
    }

    RecordResult result(size_t i) const override {
        const HousekeepingOutcome& o = m_outcomes[i];
        if (o.succeeded)
            return {m_claims[i].id, RecordResult::Kind::succeeded, o.tasks};
        return {m_claims[i].id, RecordResult::Kind::failed, "housekeeping: " + o.failure.value_or("")};
    }

private:
    void record_outcomes(const std::vector<std::pair<long long, HousekeepingOutcome>>& outcomes) override {
        housekeeping_table::record_outcomes(m_site.geo_database(), m_replicable, m_claim_time, outcomes);
    }

    Site& m_site;
    const Replicable& m_replicable;
    std::string m_claim_time;
    RepositoryPaths m_paths;
    std::map<long long, housekeeping_table::History> m_history;
};

class Housekeeping : public RunKind {
public:
    // Refused before any record is claimed when another user owns a storage root.
    explicit Housekeeping(Site& site) : m_site(site) { require_own_storage_roots(site.config()); }

    Site& site() override { return m_site; }
    const ClaimableWork& work() const override { return k_housekeeping; }
    void prepare(const Replicable&, TypeTotals&) override {}

    std::unique_ptr<ClaimedBatch> batch(const Replicable& r, const std::string& claim_time,
                                        std::vector<Claim> claims) override {
        RepositoryPaths paths = read_repository_paths(m_site.main_database(), r, ids_of(claims));
        std::map<long long, housekeeping_table::History> history;
        {
            pqxx::read_transaction tx(m_site.geo_database());
            history = housekeeping_table::history_of(tx, r, ids_of(claims));
        }
        return std::make_unique<HousekeepingBatch>(m_site, r, claim_time, std::move(claims), std::move(paths),
                                                   std::move(history));
    }

private:
    Site& m_site;
};

}  // namespace

std::vector<TypeTotals> housekeep(Site& site, const std::vector<const Replicable*>& types, const RunLimits& limits,
                                  Clock::time_point started) {
    std::vector<const Replicable*> kept;
    for (const Replicable* r : types)
        if (r->replication_enabled && r->housekeeping_enabled)
            kept.push_back(r);
    Housekeeping kind(site);
    RunLimits unshown = limits;  // the progress line is the fetches'
    unshown.progress = nullptr;
    return run_types(kind, kept, unshown, started);
}

}  // namespace geo_ssf::secondary
