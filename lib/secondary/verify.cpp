#include "secondary/verify.hpp"

#include "common/error.hpp"
#include "common/redact.hpp"
#include "db/model_table.hpp"
#include "db/primary_reads.hpp"
#include "db/registry_table.hpp"
#include "repo/checksum.hpp"
#include "repo/mirror.hpp"
#include "repo/ref_differences.hpp"
#include "repo/storage.hpp"
#include "secondary/deep_check.hpp"
#include "secondary/removal.hpp"

#include <spdlog/spdlog.h>

#include <map>
#include <string>
#include <vector>

namespace geo_ssf::secondary {

namespace {

using Clock = std::chrono::steady_clock;

// Why a copy whose refs are those the primary advertises still has another checksum.
constexpr char k_refs_match[] =
    "Checksum does not match the primary's, though this copy has every ref the primary advertises: the primary's "
    "checksum counts refs it hides (uploadpack.hideRefs) or predates its refs; not fetched again";

// "refs differ: refs/heads/main here 1a2b3c4 primary 5d6e7f8; refs/tags/v1 only on the primary"
std::string describe_ref_differences(const std::vector<RefDifference>& differences) {
    std::string out = "refs differ:";
    for (size_t i = 0; i < differences.size(); ++i) {
        const auto& d = differences[i];
        if (i == 5) {
            out += " and " + std::to_string(differences.size() - 5) + " more";
            break;
        }
        out += (i ? "; " : " ") + printable(d.name);
        if (d.here.empty())
            out += " only on the primary";
        else if (d.primary.empty())
            out += " only here";
        else
            out += " here " + d.here.substr(0, 12) + " primary " + d.primary.substr(0, 12);
    }
    return out;
}

class CompareBatch : public ClaimedBatchOf<RegistryVerificationOutcome> {
public:
    CompareBatch(Site& site, const Replicable& r, std::string claim_time, std::vector<Claim> claims,
                 PrimaryView primary)
        : ClaimedBatchOf(std::move(claims)), m_site(site), m_replicable(r), m_claim_time(std::move(claim_time)),
          m_primary(std::move(primary.states)), m_paths(std::move(primary.paths)) {}

    bool work(size_t i) override {
        const Claim& c = m_claims[i];
        const Config& config = m_site.config();
        auto p = m_primary.find(c.id);
        if (p == m_primary.end() || p->second.state != VerificationState::succeeded) {
            m_outcomes[i] = registry_verification_disabled();
            return true;
        }
        try {
            const RepositoryLocation& found = m_paths.location(c.id, k_gone_from_primary);
            const Storage& storage = config.storage(found.storage);
            auto local = repository_location(storage.root, found.path);
            std::string checksum = repository_checksum(local);
            if (checksum == p->second.checksum) {
                m_outcomes[i] = registry_verification_succeeded(checksum);
                return true;
            }
            std::vector<RefDifference> differences;
            try {
                differences = compare_refs(local, primary_repository_url(storage.primary_url, found.path),
                                           storage.transport);
            } catch (const std::exception& e) {
                m_outcomes[i] = registry_verification_mismatched(c.retry_count, checksum, p->second.checksum, c.row_id);
                m_outcomes[i].ref_differences = "cannot compare refs: " + redact_url_credentials(e.what());
                return true;
            }
            if (differences.empty()) {  // a fetch would bring nothing: no resync, the verification backs off
                m_outcomes[i] = registry_verification_mismatched_without_resync(c.retry_count, checksum, k_refs_match);
                return true;
            }
            m_outcomes[i] = registry_verification_mismatched(c.retry_count, checksum, p->second.checksum, c.row_id);
            m_outcomes[i].ref_differences = describe_ref_differences(differences);
        } catch (const std::exception& e) {
            m_outcomes[i] = registry_verification_failed(c.retry_count, redact_url_credentials(e.what()));
        }
        return true;
    }

    RecordResult result(size_t i) const override {
        const RegistryVerificationOutcome& o = m_outcomes[i];
        long long id = m_claims[i].id;
        if (o.state == VerificationState::succeeded)
            return {id, RecordResult::Kind::succeeded, o.checksum.value_or("")};
        if (o.state == VerificationState::disabled)
            return {id, RecordResult::Kind::deferred, "the primary has not verified this record yet"};
        RecordResult failed{id, RecordResult::Kind::failed,
                            o.ref_differences ? "checksum mismatch: " + *o.ref_differences : o.failure.value_or("")};
        if (auto path = m_paths.paths.find(id); path != m_paths.paths.end())
            failed.concerns = "copy " + m_site.config().describe(path->second);
        return failed;
    }

private:
    void record_outcomes(const std::vector<std::pair<long long, RegistryVerificationOutcome>>& outcomes) override {
        registry_table::record_verification_outcomes(m_site.geo_database(), m_replicable, m_claim_time, outcomes);
        std::vector<long long> verified;
        for (const auto& [id, outcome] : outcomes)
            if (outcome.state == VerificationState::succeeded)
                verified.push_back(id);
        remove_superseded_copies(m_site, m_replicable, m_paths, verified);
    }

    Site& m_site;
    const Replicable& m_replicable;
    std::string m_claim_time;
    std::map<long long, PrimaryVerificationState> m_primary;
    RepositoryPaths m_paths;
};

class SecondaryVerification : public RunKind {
public:
    // Refused before any record is claimed when another user owns a storage root.
    explicit SecondaryVerification(Site& site) : m_site(site) { require_own_storage_roots(site.config()); }

    Site& site() override { return m_site; }
    const ClaimableWork& work() const override { return k_registry_verification; }
    void prepare(const Replicable&, TypeTotals&) override {}

    std::unique_ptr<ClaimedBatch> batch(const Replicable& r, const std::string& claim_time,
                                        std::vector<Claim> claims) override {
        PrimaryView primary = read_primary_view(m_site.main_database(), r, ids_of(claims));
        return std::make_unique<CompareBatch>(m_site, r, claim_time, std::move(claims), std::move(primary));
    }

private:
    Site& m_site;
};

}  // namespace

VerifyRun verify(Site& site, const std::vector<std::string>& types, const RunLimits& limits) {
    auto started = Clock::now();
    std::vector<const Replicable*> replicated;
    for (const Replicable* r :
         select_run_types(site.config(), types, &Replicable::verification_enabled, "verification"))
        if (r->replication_enabled)
            replicated.push_back(r);
    SecondaryVerification kind(site);
    VerifyRun run;
    run.types = run_types(kind, replicated, limits, started);
    run.deep_checks = deep_check(site, replicated, limits, started);
    return run;
}

std::vector<long long> verify_due_records(Site& site, const Replicable& r, const std::vector<long long>& ids,
                                          const RunLimits& limits, TypeTotals& totals) {
    SecondaryVerification kind(site);
    return run_due_records(kind, r, ids, limits, totals);
}

std::vector<RecordResult> verify_records(Site& site, const std::string& replicable, const std::vector<long long>& ids,
                                         int jobs) {
    SecondaryVerification kind(site);
    return run_records(kind, site.config().replicable(replicable), ids, jobs,
                       "not synced yet, or another run is verifying it right now");
}

}  // namespace geo_ssf::secondary
