#include "primary/verify.hpp"

#include "repo/checksum.hpp"
#include "common/error.hpp"
#include "repo/mirror.hpp"
#include "db/model_table.hpp"
#include "db/registry_table.hpp"
#include "secondary/sync.hpp"
#include "common/parallel.hpp"
#include "db/run_lock.hpp"
#include "db/states_table.hpp"
#include "db/tallies.hpp"
#include "common/stop.hpp"
#include "repo/storage.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace geo_ssf {

namespace {

using Clock = std::chrono::steady_clock;

struct Checked {
    bool attempted = false;
    VerificationOutcome outcome;
};

// Checksums CLAIMED on JOBS threads. Records not started because a stop was requested stay
// unattempted.
std::vector<Checked> checksum_claimed(const Config& config, const std::vector<ClaimedRecord>& claimed, int jobs) {
    std::vector<Checked> results(claimed.size());
    parallel_for(claimed.size(), jobs, [&](size_t i) {
        if (stop_requested())
            return;
        const ClaimedRecord& c = claimed[i];
        results[i].attempted = true;
        try {
            if (!c.path_error.empty())
                throw RuntimeError(c.path_error);
            auto location = repository_location(config.storage_root, c.relative_path);
            results[i].outcome = verification_succeeded(repository_checksum(location));
        } catch (const std::exception& e) {
            results[i].outcome = verification_failed(c.retry_count, e.what());
        }
    });
    return results;
}

struct BatchResult {
    long long recorded_succeeded = 0;
    long long recorded_failed = 0;
    std::vector<RecordFailure> failures;
    std::vector<RecordResult> results;
};

// Checksums a claimed batch, records what was checksummed, and puts back what was not.
BatchResult work_batch(Site& site, const Replicable& r, const std::string& claim_time,
                       const std::vector<ClaimedRecord>& claimed, int jobs) {
    auto checked = checksum_claimed(site.config(), claimed, jobs);
    std::vector<std::pair<long long, VerificationOutcome>> outcomes;
    std::vector<ClaimedRecord> unattempted;
    BatchResult batch;
    for (size_t i = 0; i < claimed.size(); ++i) {
        if (!checked[i].attempted) {
            unattempted.push_back(claimed[i]);
            continue;
        }
        const auto& o = checked[i].outcome;
        outcomes.emplace_back(claimed[i].id, o);
        RecordResult result{claimed[i].id, o.state == VerificationState::succeeded, o.checksum.value_or(""),
                            o.failure.value_or("")};
        if (result.succeeded) {
            ++batch.recorded_succeeded;
        } else {
            ++batch.recorded_failed;
            batch.failures.push_back({claimed[i].id, result.failure});
            spdlog::warn("{} {}: {}", r.name, claimed[i].id, result.failure);
        }
        batch.results.push_back(std::move(result));
    }
    auto record_started = Clock::now();
    record_verification_outcomes(site.main_database(), r, claim_time, outcomes, r.replication_enabled);
    restore_claimed(site.main_database(), r, claim_time, unattempted);
    spdlog::debug("{}: recorded {} outcomes in {} ms", r.name, outcomes.size(),
                  std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - record_started).count());
    return batch;
}

std::vector<const Replicable*> selected_types(const Config& config, const std::vector<std::string>& names) {
    std::vector<const Replicable*> out;
    if (names.empty()) {
        for (const auto& r : config.replicables)
            if (r.verification_enabled)
                out.push_back(&r);
        return out;
    }
    for (const auto& name : names) {
        const Replicable& r = config.replicable(name);
        if (!r.verification_enabled)
            throw UsageError("verification of " + r.name + " is disabled in " + r.file.string());
        out.push_back(&r);
    }
    return out;
}

}  // namespace

std::vector<VerifyTotals> verify_primary(Site& site, const std::vector<std::string>& types, const RunLimits& limits) {
    const Config& config = site.config();
    auto started = Clock::now();
    auto out_of_time = [&] { return limits.max_runtime && Clock::now() - started >= *limits.max_runtime; };
    pqxx::connection& db = site.main_database();

    std::vector<VerifyTotals> all;
    for (const Replicable* r : selected_types(config, types)) {
        VerifyTotals totals;
        totals.replicable = r->name;
        if (stop_requested() || out_of_time()) {
            all.push_back(std::move(totals));
            continue;
        }
        auto backfill_started = Clock::now();
        auto backfill = backfill_state_rows(db, *r, 10000);
        spdlog::debug("{}: state rows backfilled in {} ms", r->name,
                      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - backfill_started).count());
        if (backfill.created || backfill.deleted)
            spdlog::info("{}: created {} and deleted {} state rows", r->name, backfill.created, backfill.deleted);
        totals.released = release_abandoned_verifications(db, *r, "");
        if (totals.released)
            spdlog::info("{}: released {} rows left started by runs that are gone", r->name, totals.released);
        if (long long timed_out = fail_timed_out_verifications(db, *r, config.verification.timeout))
            spdlog::warn("{}: {} verifications timed out", r->name, timed_out);
        mark_due_for_reverification(db, *r, config.reverification_interval, limits.batch_size);

        while (!stop_requested() && !out_of_time()) {
            auto claim_started = Clock::now();
            // Each batch has its own claim time, so timeouts count from when its rows were claimed.
            RunLock run(db);
            auto claimed = claim_due_verifications(db, *r, run.claim_time(), limits.batch_size);
            if (claimed.empty())
                break;
            totals.claimed += static_cast<long long>(claimed.size());
            auto work_started = Clock::now();
            auto batch = work_batch(site, *r, run.claim_time(), claimed, limits.jobs);
            spdlog::debug("{}: claimed {} in {} ms, checksummed and recorded them in {} ms", r->name, claimed.size(),
                          std::chrono::duration_cast<std::chrono::milliseconds>(work_started - claim_started).count(),
                          std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - work_started).count());
            totals.succeeded += batch.recorded_succeeded;
            totals.failed += batch.recorded_failed;
            std::move(batch.failures.begin(), batch.failures.end(), std::back_inserter(totals.failures));
            if (static_cast<int>(claimed.size()) < limits.batch_size)
                break;
        }
        all.push_back(std::move(totals));
    }
    fold_tallies(db);
    return all;
}

std::vector<RecordResult> verify_primary_records(Site& site, const std::string& name, const std::vector<long long>& ids,
                                                 int jobs) {
    const Replicable& r = site.config().replicable(name);
    pqxx::connection& db = site.main_database();
    RunLock run(db);
    auto claimed = claim_verifications(db, r, run.claim_time(), ids);
    auto batch = work_batch(site, r, run.claim_time(), claimed, jobs);
    std::vector<RecordResult> results = std::move(batch.results);
    for (long long id : ids) {
        bool seen = std::any_of(results.begin(), results.end(), [&](const RecordResult& x) { return x.id == id; });
        if (!seen)
            results.push_back({id, false, "", "not verified: out of scope, or another run is verifying it right now"});
    }
    std::sort(results.begin(), results.end(), [](const RecordResult& a, const RecordResult& b) { return a.id < b.id; });
    return results;
}

namespace {

struct PrimaryState {
    int16_t state = 0;
    std::string checksum;
};

std::map<long long, PrimaryState> primary_states(Site& site, const Replicable& r, const std::vector<long long>& ids) {
    std::map<long long, PrimaryState> out;
    pqxx::read_transaction tx(site.main_database());
    for (const auto& row : tx.exec_params("SELECT " + r.foreign_key + ", verification_state, encode(verification_checksum, "
                                              "'hex') FROM " + r.states_table + " WHERE " + r.foreign_key +
                                              " = ANY($1::bigint[])",
                                          bigint_array(ids)))
        out[row[0].as<long long>()] = {row[1].as<int16_t>(), row[2].is_null() ? "" : row[2].as<std::string>()};
    return out;
}

// "refs differ: refs/heads/main here 1a2b3c4 primary 5d6e7f8; refs/tags/v1 only on the primary"
std::string describe_ref_differences(const std::filesystem::path& local, const std::string& url) {
    try {
        auto differences = compare_refs(local, url);
        if (differences.empty())
            return "the refs listed by the primary match";
        std::string out = "refs differ:";
        for (size_t i = 0; i < differences.size(); ++i) {
            const auto& d = differences[i];
            if (i == 5) {
                out += " and " + std::to_string(differences.size() - 5) + " more";
                break;
            }
            out += (i ? "; " : " ") + d.name;
            if (d.here.empty())
                out += " only on the primary";
            else if (d.primary.empty())
                out += " only here";
            else
                out += " here " + d.here.substr(0, 12) + " primary " + d.primary.substr(0, 12);
        }
        return out;
    } catch (const std::exception& e) {
        return std::string("cannot compare refs: ") + e.what();
    }
}

struct SecondaryBatch {
    std::vector<RecordResult> results;
    std::vector<RecordFailure> failures;
    long long succeeded = 0;
    long long failed = 0;
};

SecondaryBatch verify_registry_claims(Site& site, const Replicable& r, const std::string& claim_time,
                                      const std::vector<RegistryClaim>& claims, int jobs) {
    const Config& config = site.config();
    std::vector<long long> ids;
    for (const auto& c : claims)
        ids.push_back(c.id);
    auto primary = primary_states(site, r, ids);
    auto paths = repository_paths(site, r, ids);
    std::vector<std::optional<RegistryVerificationOutcome>> outcomes(claims.size());
    std::vector<std::string> details(claims.size());
    parallel_for(claims.size(), jobs, [&](size_t i) {
        if (stop_requested())
            return;
        const RegistryClaim& c = claims[i];
        auto p = primary.find(c.id);
        if (p == primary.end() || p->second.state != static_cast<int16_t>(VerificationState::succeeded)) {
            outcomes[i] = registry_verification_disabled();
            return;
        }
        try {
            auto path = paths.find(c.id);
            if (path == paths.end())
                throw RuntimeError("the record no longer exists on the primary");
            auto local = repository_location(config.storage_root, path->second);
            std::string checksum = repository_checksum(local);
            if (checksum == p->second.checksum) {
                outcomes[i] = registry_verification_succeeded(checksum);
            } else {
                outcomes[i] = registry_verification_mismatched(c.retry_count, checksum, p->second.checksum, c.registry_id);
                details[i] = "checksum mismatch: " +
                             describe_ref_differences(local, primary_repository_url(config.primary_url, path->second));
            }
        } catch (const std::exception& e) {
            outcomes[i] = registry_verification_failed(c.retry_count, e.what());
        }
    });
    SecondaryBatch batch;
    std::vector<std::pair<long long, RegistryVerificationOutcome>> recorded;
    std::vector<RegistryClaim> unattempted;
    for (size_t i = 0; i < claims.size(); ++i) {
        if (!outcomes[i]) {
            unattempted.push_back(claims[i]);
            continue;
        }
        const auto& o = *outcomes[i];
        recorded.emplace_back(claims[i].id, o);
        RecordResult result{claims[i].id, o.state == VerificationState::succeeded, o.checksum.value_or(""), ""};
        if (o.state == VerificationState::disabled) {
            result.failure = "the primary has not verified this record yet";
        } else if (o.state == VerificationState::failed) {
            result.failure = details[i].empty() ? o.failure.value_or("") : details[i];
            ++batch.failed;
            batch.failures.push_back({claims[i].id, result.failure});
            spdlog::warn("{} {}: {}", r.name, claims[i].id, result.failure);
        } else {
            ++batch.succeeded;
        }
        batch.results.push_back(std::move(result));
    }
    record_registry_verification_outcomes(site.geo_database(), r, claim_time, recorded);
    restore_claimed_registry_verifications(site.geo_database(), r, claim_time, unattempted);
    return batch;
}

std::vector<const Replicable*> secondary_verification_types(const Config& config, const std::vector<std::string>& names) {
    std::vector<const Replicable*> out;
    for (const Replicable* r : selected_types(config, names))
        if (r->replication_enabled)
            out.push_back(r);
    return out;
}

}  // namespace

std::vector<VerifyTotals> verify_secondary(Site& site, const std::vector<std::string>& types, const RunLimits& limits) {
    const Config& config = site.config();
    auto started = Clock::now();
    auto out_of_time = [&] { return limits.max_runtime && Clock::now() - started >= *limits.max_runtime; };
    pqxx::connection& geo = site.geo_database();
    std::vector<VerifyTotals> all;
    for (const Replicable* r : secondary_verification_types(config, types)) {
        VerifyTotals totals;
        totals.replicable = r->name;
        if (!stop_requested() && !out_of_time()) {
            totals.released = release_abandoned_registry_verifications(geo, *r, "");
            if (long long timed_out = fail_timed_out_registry_verifications(geo, *r, config.verification.timeout))
                spdlog::warn("{}: {} verifications timed out", r->name, timed_out);
        }
        while (!stop_requested() && !out_of_time()) {
            RunLock run(geo);  // a claim time of this batch's own
            auto claims = claim_due_registry_verifications(geo, *r, run.claim_time(), limits.batch_size);
            if (claims.empty())
                break;
            totals.claimed += static_cast<long long>(claims.size());
            auto batch = verify_registry_claims(site, *r, run.claim_time(), claims, limits.jobs);
            totals.succeeded += batch.succeeded;
            totals.failed += batch.failed;
            std::move(batch.failures.begin(), batch.failures.end(), std::back_inserter(totals.failures));
            if (static_cast<int>(claims.size()) < limits.batch_size)
                break;
        }
        all.push_back(std::move(totals));
    }
    fold_tallies(geo);
    return all;
}

std::vector<RecordResult> verify_secondary_records(Site& site, const std::string& name, const std::vector<long long>& ids,
                                                   int jobs) {
    const Replicable& r = site.config().replicable(name);
    pqxx::connection& geo = site.geo_database();
    RunLock run(geo);
    auto claims = claim_registry_verifications(geo, r, run.claim_time(), ids);
    auto results = verify_registry_claims(site, r, run.claim_time(), claims, jobs).results;
    for (long long id : ids)
        if (std::none_of(results.begin(), results.end(), [&](const RecordResult& x) { return x.id == id; }))
            results.push_back({id, false, "", "not synced yet, or another run is verifying it right now"});
    std::sort(results.begin(), results.end(), [](const RecordResult& a, const RecordResult& b) { return a.id < b.id; });
    return results;
}

}  // namespace geo_ssf
