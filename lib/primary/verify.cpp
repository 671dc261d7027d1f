#include "primary/verify.hpp"

#include "common/duration.hpp"
#include "common/error.hpp"
#include "db/claims.hpp"
#include "db/deep_checks.hpp"
#include "db/model_table.hpp"
#include "db/states_table.hpp"
#include "primary/deep_check.hpp"
#include "repo/checksum.hpp"
#include "repo/storage.hpp"

#include <pqxx/pqxx>
#include <spdlog/spdlog.h>

#include <map>

namespace geo_ssf::primary {

namespace {

using Clock = std::chrono::steady_clock;

class ChecksumBatch : public ClaimedBatchOf<VerificationOutcome> {
public:
    ChecksumBatch(Site& site, const Replicable& r, std::string claim_time, std::vector<Claim> claims,
                  RepositoryPaths paths, std::map<long long, std::string> deep_check_failures)
        : ClaimedBatchOf(std::move(claims)), m_site(site), m_replicable(r), m_claim_time(std::move(claim_time)),
          m_paths(std::move(paths)), m_deep_check_failures(std::move(deep_check_failures)) {}

    bool work(size_t i) override {
        const Claim& c = m_claims[i];
        // A repository whose objects failed their last deep check is not proven by its refs.
        if (auto failure = m_deep_check_failures.find(c.id); failure != m_deep_check_failures.end()) {
            m_outcomes[i] = verification_failed(c.retry_count, "deep check failed: " + failure->second);
            return true;
        }
        try {
            const RepositoryLocation& found = m_paths.location(c.id);
            auto location = repository_location(m_site.config().storage(found.storage).root, found.path);
            m_outcomes[i] = verification_succeeded(repository_checksum(location));
        } catch (const std::exception& e) {
            m_outcomes[i] = verification_failed(c.retry_count, e.what());
        }
        return true;
    }

    RecordResult result(size_t i) const override {
        const VerificationOutcome& o = m_outcomes[i];
        if (o.state == VerificationState::succeeded)
            return {m_claims[i].id, RecordResult::Kind::succeeded, o.checksum.value_or("")};
        RecordResult failed{m_claims[i].id, RecordResult::Kind::failed, o.failure.value_or("")};
        if (auto path = m_paths.paths.find(m_claims[i].id); path != m_paths.paths.end())
            failed.concerns = "repository " + m_site.config().describe(path->second);
        return failed;
    }

private:
    void record_outcomes(const std::vector<std::pair<long long, VerificationOutcome>>& outcomes) override {
        states_table::record_verification_outcomes(m_site.main_database(), m_replicable, m_claim_time, outcomes,
                                                   m_replicable.replication_enabled);
    }

    Site& m_site;
    const Replicable& m_replicable;
    std::string m_claim_time;
    RepositoryPaths m_paths;
    std::map<long long, std::string> m_deep_check_failures;
};

class PrimaryVerification : public RunKind {
public:
    PrimaryVerification(Site& site, int reverification_limit)
        : m_site(site), m_reverification_limit(reverification_limit) {}

    Site& site() override { return m_site; }
    const ClaimableWork& work() const override { return k_primary_verification; }

    void prepare(const Replicable& r, TypeTotals&) override {
        pqxx::connection& db = m_site.main_database();
        const Config& config = m_site.config();
        auto backfill_started = Clock::now();
        auto backfill = states_table::backfill_rows(db, r, config.backfill_batch_size);
        spdlog::debug("{}: state rows backfilled in {} ms", r.name, milliseconds_since(backfill_started));
        if (backfill.created || backfill.deleted)
            spdlog::info("{}: created {} and deleted {} state rows", r.name, backfill.created, backfill.deleted);
        states_table::mark_due_for_reverification(db, r, config.reverification_interval, m_reverification_limit);
    }

    std::unique_ptr<ClaimedBatch> batch(const Replicable& r, const std::string& claim_time,
                                        std::vector<Claim> claims) override {
        // The primary's own database: a lost connection ends the run (exit 4). read_primary's
        // reconnection is for a secondary's read-only view of it, and would leave this one read-only.
        RepositoryPaths paths;
        std::map<long long, std::string> deep_check_failures;
        {
            pqxx::read_transaction tx(m_site.main_database());
            paths = repository_paths(tx, r, ids_of(claims));
            deep_check_failures = deep_checks::failures_of(tx, r, ids_of(claims));
        }
        return std::make_unique<ChecksumBatch>(m_site, r, claim_time, std::move(claims), std::move(paths),
                                               std::move(deep_check_failures));
    }

private:
    Site& m_site;
    int m_reverification_limit;
};

}  // namespace

VerifyRun verify(Site& site, const std::vector<std::string>& types, const RunLimits& limits) {
    auto started = Clock::now();
    auto selected = select_run_types(site.config(), types, &Replicable::verification_enabled, "verification");
    PrimaryVerification kind(site, limits.batch_size);
    VerifyRun run;
    run.types = run_types(kind, selected, limits, started);
    run.deep_checks = deep_check(site, selected, limits, started);
    return run;
}

std::vector<long long> verify_due_records(Site& site, const Replicable& r, const std::vector<long long>& ids,
                                          const RunLimits& limits, TypeTotals& totals) {
    PrimaryVerification kind(site, 0);
    return run_due_records(kind, r, ids, limits, totals);
}

std::vector<RecordResult> verify_records(Site& site, const std::string& replicable, const std::vector<long long>& ids,
                                         int jobs) {
    const Replicable& r = site.config().replicable(replicable);
    states_table::create_missing_rows(site.main_database(), r, ids);
    PrimaryVerification kind(site, 0);
    return run_records(kind, r, ids, jobs,
                       "not verified: out of scope, or another run is verifying it right now");
}

}  // namespace geo_ssf::primary
