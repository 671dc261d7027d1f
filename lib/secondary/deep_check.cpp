#include "secondary/deep_check.hpp"

#include "common/duration.hpp"
#include "common/error.hpp"
#include "common/logging.hpp"
#include "common/stop.hpp"
#include "db/claims.hpp"
#include "db/primary_reads.hpp"
#include "repo/deep_check.hpp"
#include "repo/git_program.hpp"
#include "repo/quarantine.hpp"
#include "repo/storage.hpp"
#include "run/deep_check_result.hpp"

#include <spdlog/spdlog.h>

#include <map>
#include <random>

namespace geo_ssf::secondary {

namespace {

using Clock = std::chrono::steady_clock;
using deep_checks::CopyOutcome;
using deep_checks::CopyRepair;
using deep_checks::PrimaryCheck;

int thread_random_30() {
    thread_local std::mt19937 generator{std::random_device{}()};
    return std::uniform_int_distribution<int>(0, 29)(generator);
}

std::string fresh_clones(int n) { return std::to_string(n) + (n == 1 ? " fresh clone" : " fresh clones"); }

std::string primary_words(const std::optional<PrimaryCheck>& primary) {
    return primary && primary->state == VerificationState::succeeded
               ? "the primary's repository passes its own deep check"
               : "the primary's repository has not passed a deep check yet";
}

// The primary's checks of IDS and where the copies are, read from the primary's database.
struct PrimaryChecks {
    std::map<long long, PrimaryCheck> checks;
    RepositoryPaths paths;
};

class DeepCheckBatch : public ClaimedBatchOf<CopyOutcome> {
public:
    DeepCheckBatch(Site& site, const Replicable& r, std::string claim_time, std::vector<Claim> claims,
                   PrimaryChecks primary, std::map<long long, int> repairs)
        : ClaimedBatchOf(std::move(claims)), m_site(site), m_replicable(r), m_claim_time(std::move(claim_time)),
          m_primary(std::move(primary.checks)), m_paths(std::move(primary.paths)), m_repairs(std::move(repairs)) {}

    bool work(size_t i) override {
        const Claim& c = m_claims[i];
        const Config& config = m_site.config();
        int repairs = m_repairs[c.id];
        auto started = Clock::now();
        auto seconds = [&] { return seconds_since(started); };
        try {
            const RepositoryLocation& found = m_paths.location(c.id, k_gone_from_primary);
            const Storage& storage = config.storage(found.storage);
            auto location = repository_location(storage.root, found.path);
            DeepCheckResult result = geo_ssf::deep_check(location, config.verification.timeout, "verification.timeout");
            m_methods[i] = result.method;
            if (result.verdict == DeepCheckResult::Verdict::passed) {
                m_outcomes[i] = {deep_checks::passed(seconds()), CopyRepair::none, {}};
                return true;
            }
            if (result.verdict == DeepCheckResult::Verdict::unchecked) {
                m_outcomes[i] = {deep_checks::failed(c.retry_count, "not checked: " + result.problem, seconds(),
                                                     repairs),
                                 CopyRepair::none,
                                 {}};
                return true;
            }
            std::optional<PrimaryCheck> primary;
            if (auto p = m_primary.find(c.id); p != m_primary.end())
                primary = p->second;
            CopyRepair repair = repair_for(primary, repairs);
            std::string problem = result.problem;
            if (repair != CopyRepair::none) {
                try {
                    quarantine_repository(storage.root, m_replicable.name, c.id, location,
                                          std::chrono::system_clock::now());
                } catch (const Error& e) {
                    repair = CopyRepair::none;
                    problem += "; the copy could not be moved to the quarantine: " + std::string(e.what());
                }
            }
            m_outcomes[i] = failed_copy(problem, repair, c.retry_count, repairs, primary, seconds(), thread_random_30);
        } catch (const GitProgramInterrupted& e) {
            if (stop_requested())
                return false;  // not the copy's failure: the next run checks it
            m_outcomes[i] = {deep_checks::failed(c.retry_count, e.what(), seconds(), repairs), CopyRepair::none, {}};
        } catch (const std::exception& e) {
            m_outcomes[i] = {deep_checks::failed(c.retry_count, e.what(), seconds(), repairs), CopyRepair::none, {}};
        }
        return true;
    }

    RecordResult result(size_t i) const override {
        return deep_check_record_result(m_claims[i].id, m_outcomes[i].check, m_methods[i]);
    }

private:
    void record_outcomes(const std::vector<std::pair<long long, CopyOutcome>>& outcomes) override {
        deep_checks::record_copy_outcomes(m_site.geo_database(), m_replicable, m_claim_time, outcomes,
                                          m_site.config().deep_interval);
    }

    Site& m_site;
    const Replicable& m_replicable;
    std::string m_claim_time;
    std::map<long long, PrimaryCheck> m_primary;
    RepositoryPaths m_paths;
    std::map<long long, int> m_repairs;
    std::vector<const char*> m_methods = std::vector<const char*>(m_claims.size(), "");
};

class DeepCheck : public RunKind {
public:
    // Refused before any record is claimed when another user owns a storage root.
    explicit DeepCheck(Site& site) : m_site(site) { require_own_storage_roots(site.config()); }

    Site& site() override { return m_site; }
    const ClaimableWork& work() const override { return k_registry_deep_check; }

    void prepare(const Replicable& r, TypeTotals&) override {
        const Config& config = m_site.config();
        if (long long scheduled = deep_checks::schedule_first_checks(m_site.geo_database(), r, config.deep_interval,
                                                                     config.backfill_batch_size))
            spdlog::info("{}: scheduled the first deep checks of {} copies", r.name, scheduled);
    }

    std::unique_ptr<ClaimedBatch> batch(const Replicable& r, const std::string& claim_time,
                                        std::vector<Claim> claims) override {
        std::vector<long long> ids = ids_of(claims);
        PrimaryChecks primary = read_primary(m_site.main_database(), [&](pqxx::transaction_base& tx) {
            return PrimaryChecks{deep_checks::primary_checks(tx, r, ids), repository_paths(tx, r, ids)};
        });
        std::map<long long, int> repairs;
        {
            pqxx::read_transaction tx(m_site.geo_database());
            repairs = deep_checks::repairs_of(tx, r, ids);
        }
        return std::make_unique<DeepCheckBatch>(m_site, r, claim_time, std::move(claims), std::move(primary),
                                                std::move(repairs));
    }

private:
    Site& m_site;
};

}  // namespace

CopyRepair repair_for(const std::optional<PrimaryCheck>& primary, int repairs) {
    if (primary && primary->state == VerificationState::failed)
        return CopyRepair::none;  // this copy may be the better one
    return repairs == 0 ? CopyRepair::fresh_clone : CopyRepair::backed_off;
}

CopyOutcome failed_copy(std::string_view problem, CopyRepair repair, int retry_count, int repairs,
                        const std::optional<PrimaryCheck>& primary, double seconds,
                        const std::function<int()>& random_30) {
    CopyOutcome o;
    o.repair = repair;
    // What was done first, then the problem: the failure column keeps 255 characters.
    std::string text;
    switch (repair) {
    case CopyRepair::none:
        if (primary && primary->state == VerificationState::failed)
            text = "the copy is kept: the primary's repository fails its deep check too: ";
        break;
    case CopyRepair::fresh_clone:
        text = "moved to the quarantine, and cloned again by the next sync: ";
        repairs = 1;
        break;
    case CopyRepair::backed_off:
        repairs += 1;
        text = "moved to the quarantine after " + fresh_clones(repairs - 1) + " failed in a row, and " +
               primary_words(primary) + ": ";
        o.sync = sync_failed(repairs - 2,
                             "a fresh clone failed its deep check again (" + std::to_string(repairs - 1) +
                                 " in a row, and " + primary_words(primary) + "): " + std::string(problem),
                             random_30);
        break;
    }
    text += problem;
    o.check = deep_checks::failed(retry_count, text, seconds, repairs, random_30);
    if (repair != CopyRepair::none)
        o.check.retry_in = std::chrono::seconds(0);  // the copy cloned again is checked as soon as it is synced
    return o;
}

std::vector<TypeTotals> deep_check(Site& site, const std::vector<const Replicable*>& types, const RunLimits& limits,
                                   Clock::time_point started) {
    std::vector<const Replicable*> kept;
    for (const Replicable* r : types)
        if (r->replication_enabled && r->verification_enabled)
            kept.push_back(r);
    DeepCheck kind(site);
    RunLimits unshown = limits;  // the progress line is the verification's
    unshown.progress = nullptr;
    return run_types(kind, kept, unshown, started);
}

std::vector<RecordResult> deep_check_records(Site& site, const std::string& replicable,
                                             const std::vector<long long>& ids, int jobs) {
    const Replicable& r = site.config().replicable(replicable);
    deep_checks::create_missing_rows(site.geo_database(), r, ids, k_registry_deep_check.available(r));
    DeepCheck kind(site);
    return run_records(kind, r, ids, jobs, "no copy here yet, or another run is working on it right now");
}

}  // namespace geo_ssf::secondary
