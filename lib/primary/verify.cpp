#include "primary/verify.hpp"

#include "common/duration.hpp"
#include "common/error.hpp"
#include "db/states_table.hpp"
#include "repo/checksum.hpp"
#include "repo/storage.hpp"

#include <spdlog/spdlog.h>

namespace geo_ssf::primary {

namespace {

using Clock = std::chrono::steady_clock;

class ChecksumBatch : public ClaimedBatchOf<states_table::Claim, VerificationOutcome> {
public:
    ChecksumBatch(Site& site, const Replicable& r, std::string claim_time, std::vector<states_table::Claim> claims)
        : ClaimedBatchOf(std::move(claims)), m_site(site), m_replicable(r), m_claim_time(std::move(claim_time)) {}

    bool work(size_t i) override {
        const states_table::Claim& c = m_claims[i];
        try {
            if (!c.path_error.empty())
                throw RuntimeError(c.path_error);
            auto location = repository_location(m_site.config().storage_root, c.relative_path);
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
        return {m_claims[i].id, RecordResult::Kind::failed, o.failure.value_or("")};
    }

    void record(const std::vector<std::pair<long long, VerificationOutcome>>& outcomes,
                const std::vector<states_table::Claim>& unworked) override {
        pqxx::connection& db = m_site.main_database();
        states_table::record_verification_outcomes(db, m_replicable, m_claim_time, outcomes,
                                                   m_replicable.replication_enabled);
        states_table::restore_claimed_verifications(db, m_replicable, m_claim_time, unworked);
    }

private:
    Site& m_site;
    const Replicable& m_replicable;
    std::string m_claim_time;
};

class PrimaryVerification : public RunKind {
public:
    PrimaryVerification(Site& site, int reverification_limit)
        : m_site(site), m_reverification_limit(reverification_limit) {}

    pqxx::connection& claims_database() override { return m_site.main_database(); }
    const char* failed_filter() const override { return "--verification-state failed"; }

    long long count_due(const Replicable& r) override { return states_table::count_due_verifications(m_site.main_database(), r); }
    long long prepare(const Replicable& r, TypeTotals&) override {
        pqxx::connection& db = m_site.main_database();
        const Config& config = m_site.config();
        auto backfill_started = Clock::now();
        auto backfill = states_table::backfill_rows(db, r, config.backfill_batch_size);
        spdlog::debug("{}: state rows backfilled in {} ms", r.name, milliseconds_since(backfill_started));
        if (backfill.created || backfill.deleted)
            spdlog::info("{}: created {} and deleted {} state rows", r.name, backfill.created, backfill.deleted);
        long long released = states_table::release_abandoned_verifications(db, r, "");
        if (long long timed_out = states_table::fail_timed_out_verifications(db, r, config.verification.timeout))
            spdlog::warn("{}: {} verifications timed out", r.name, timed_out);
        states_table::mark_due_for_reverification(db, r, config.reverification_interval, m_reverification_limit);
        return released;
    }

    std::unique_ptr<ClaimedBatch> claim(const Replicable& r, const std::string& claim_time,
                                        const ClaimRequest& request) override {
        pqxx::connection& db = m_site.main_database();
        auto claims = request.ids ? states_table::claim_verifications(db, r, claim_time, *request.ids)
                                  : states_table::claim_due_verifications(db, r, claim_time, request.limit);
        return std::make_unique<ChecksumBatch>(m_site, r, claim_time, std::move(claims));
    }

private:
    Site& m_site;
    int m_reverification_limit;
};

}  // namespace

std::vector<TypeTotals> verify(Site& site, const std::vector<std::string>& types, const RunLimits& limits) {
    auto started = Clock::now();
    PrimaryVerification kind(site, limits.batch_size);
    return run_types(kind, select_run_types(site.config(), types, &Replicable::verification_enabled, "verification"),
                     limits, started);
}

std::vector<RecordResult> verify_records(Site& site, const std::string& replicable, const std::vector<long long>& ids,
                                         int jobs) {
    PrimaryVerification kind(site, 0);
    return run_records(kind, site.config().replicable(replicable), ids, jobs,
                       "not verified: out of scope, or another run is verifying it right now");
}

}  // namespace geo_ssf::primary
