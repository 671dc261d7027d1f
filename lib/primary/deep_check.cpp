#include "primary/deep_check.hpp"

#include "common/duration.hpp"
#include "common/error.hpp"
#include "common/stop.hpp"
#include "db/claims.hpp"
#include "db/deep_checks.hpp"
#include "db/primary_reads.hpp"
#include "repo/deep_check.hpp"
#include "repo/git_program.hpp"
#include "repo/storage.hpp"
#include "run/deep_check_result.hpp"

#include <spdlog/spdlog.h>

namespace geo_ssf::primary {

namespace {

using Clock = std::chrono::steady_clock;
using deep_checks::PrimaryOutcome;

class DeepCheckBatch : public ClaimedBatchOf<PrimaryOutcome> {
public:
    DeepCheckBatch(Site& site, const Replicable& r, std::string claim_time, std::vector<Claim> claims,
                   RepositoryPaths paths)
        : ClaimedBatchOf(std::move(claims)), m_site(site), m_replicable(r), m_claim_time(std::move(claim_time)),
          m_paths(std::move(paths)) {}

    bool work(size_t i) override {
        const Claim& c = m_claims[i];
        const Config& config = m_site.config();
        auto started = Clock::now();
        auto seconds = [&] { return seconds_since(started); };
        m_outcomes[i].failed_before = c.previous_state == static_cast<int16_t>(VerificationState::failed);
        try {
            const RepositoryLocation& found = m_paths.location(c.id);
            auto location = repository_location(config.storage(found.storage).root, found.path);
            DeepCheckResult result = geo_ssf::deep_check(location, config.verification.timeout, "verification.timeout");
            m_methods[i] = result.method;
            if (result.verdict == DeepCheckResult::Verdict::passed)
                m_outcomes[i].check = deep_checks::passed(seconds());
            else
                m_outcomes[i].check =
                    deep_checks::failed(c.retry_count,
                                        result.verdict == DeepCheckResult::Verdict::unchecked
                                            ? "not checked: " + result.problem
                                            : result.problem,
                                        seconds(), 0);
        } catch (const GitProgramInterrupted& e) {
            if (stop_requested())
                return false;  // not the repository's failure: the next run checks it
            m_outcomes[i].check = deep_checks::failed(c.retry_count, e.what(), seconds(), 0);
        } catch (const std::exception& e) {
            m_outcomes[i].check = deep_checks::failed(c.retry_count, e.what(), seconds(), 0);
        }
        return true;
    }

    RecordResult result(size_t i) const override {
        return deep_check_record_result(m_claims[i].id, m_outcomes[i].check, m_methods[i]);
    }

private:
    void record_outcomes(const std::vector<std::pair<long long, PrimaryOutcome>>& outcomes) override {
        deep_checks::record_primary_outcomes(m_site.main_database(), m_replicable, m_claim_time, outcomes,
                                             m_site.config().deep_interval);
    }

    Site& m_site;
    const Replicable& m_replicable;
    std::string m_claim_time;
    RepositoryPaths m_paths;
    std::vector<const char*> m_methods = std::vector<const char*>(m_claims.size(), "");
};

class DeepCheck : public RunKind {
public:
    explicit DeepCheck(Site& site) : m_site(site) {}

    Site& site() override { return m_site; }
    const ClaimableWork& work() const override { return k_primary_deep_check; }

    void prepare(const Replicable& r, TypeTotals&) override {
        const Config& config = m_site.config();
        if (long long scheduled = deep_checks::schedule_first_checks(m_site.main_database(), r, config.deep_interval,
                                                                     config.backfill_batch_size))
            spdlog::info("{}: scheduled the first deep checks of {} repositories", r.name, scheduled);
    }

    std::unique_ptr<ClaimedBatch> batch(const Replicable& r, const std::string& claim_time,
                                        std::vector<Claim> claims) override {
        RepositoryPaths paths = read_repository_paths(m_site.main_database(), r, ids_of(claims));
        return std::make_unique<DeepCheckBatch>(m_site, r, claim_time, std::move(claims), std::move(paths));
    }

private:
    Site& m_site;
};

}  // namespace

std::vector<TypeTotals> deep_check(Site& site, const std::vector<const Replicable*>& types, const RunLimits& limits,
                                   Clock::time_point started) {
    DeepCheck kind(site);
    RunLimits unshown = limits;  // the progress line is the verification's
    unshown.progress = nullptr;
    return run_types(kind, types, unshown, started);
}

std::vector<RecordResult> deep_check_records(Site& site, const std::string& replicable,
                                             const std::vector<long long>& ids, int jobs) {
    const Replicable& r = site.config().replicable(replicable);
    deep_checks::create_missing_rows(site.main_database(), r, ids, k_primary_deep_check.available(r));
    DeepCheck kind(site);
    return run_records(kind, r, ids, jobs, "no state row yet, or another run is checking it right now");
}

}  // namespace geo_ssf::primary
