#include "run/run_loop.hpp"

#include "common/duration.hpp"
#include "common/error.hpp"
#include "common/logging.hpp"
#include "common/parallel.hpp"
#include "common/stop.hpp"
#include "db/run_lock.hpp"
#include "db/tallies.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cstddef>

namespace geo_ssf {

namespace {

using Clock = std::chrono::steady_clock;

// Works BATCH on JOBS threads, records it, and returns the results of the records worked.
// Records not started because a stop was requested or the run is OUT_OF_TIME, and records whose
// work a stop request cut short, are put back, not worked: a run ends within --max-runtime plus one record's work (which the fetch timeouts bound).
// WORKED_ONE, if set, is called on the worker thread after each record.
// Puts CLAIMS back when what was to work or record them failed, before the error stops the run,
// so that nothing of the batch is recorded. (Should the database fail too, the next run
// releases the rows, as after kill -9.)
void restore_after_failure(RunKind& kind, const Replicable& r, const std::string& claim_time,
                           const std::vector<Claim>& claims) {
    const ClaimableWork& work = kind.work();
    pqxx::connection& db = kind.site().database(work.database);
    // A lost connection is not opened again here: that would hide which database was lost, and the
    // rows of a run whose connection is gone are released by the next run anyway.
    if (!db.is_open())
        return;
    try {
        restore_claims(db, work, r, claim_time, claims);
    } catch (const std::exception& e) {
        spdlog::warn("{}: could not put back the claimed rows: {}", r.name, e.what());
    }
}

// Works the CLAIMS of R on JOBS threads, records them, and returns the results of the records
// worked. Records not started because a stop was requested or the run is OUT_OF_TIME, and
// records whose work a stop request cut short, are put back, not worked: a run ends within
// --max-runtime plus one record's work (which the fetch timeouts bound). WORKED_ONE, if set, is
// called on the worker thread after each record.
template <typename OutOfTime>
std::vector<RecordResult> work_claims(RunKind& kind, const Replicable& r, const std::string& claim_time,
                                      std::vector<Claim> claims, int jobs, const OutOfTime& out_of_time,
                                      const std::function<void()>& worked_one = {}) {
    std::unique_ptr<ClaimedBatch> batch;
    try {
        batch = kind.batch(r, claim_time, claims);
    } catch (...) {
        restore_after_failure(kind, r, claim_time, claims);
        throw;
    }
    std::vector<char> worked(batch->size(), 0);  // not vector<bool>: each thread writes its own element
    parallel_for(batch->size(), jobs, [&](size_t i) {
        if (stop_requested() || out_of_time())
            return;
        worked[i] = batch->work(i) ? 1 : 0;
        if (worked[i] && worked_one)
            worked_one();
    });
    std::vector<size_t> done;
    std::vector<Claim> unworked;
    for (size_t i = 0; i < batch->size(); ++i) {
        if (worked[i])
            done.push_back(i);
        else
            unworked.push_back(claims[i]);
    }
    try {
        batch->record(done);
    } catch (...) {
        restore_after_failure(kind, r, claim_time, claims);
        throw;
    }
    const ClaimableWork& work = kind.work();
    restore_claims(kind.site().database(work.database), work, r, claim_time, unworked);
    std::vector<RecordResult> results;
    for (size_t i : done)
        results.push_back(batch->result(i));
    return results;
}

// A failed record is an error, logged under -q too, so that the journal of a quiet cron or timer
// run names it. A run logs the first failures of each type only, so that one with thousands of
// them does not mail thousands of lines; -v logs every one.
constexpr long long k_failures_logged = 10;

void log_failure(const std::string& replicable, const RecordResult& result) {
    log_record(spdlog::level::err, replicable, result.id,
               result.concerns.empty() ? result.detail : result.detail + " (" + result.concerns + ")");
}

void add_results(const std::string& replicable, const std::vector<RecordResult>& results, TypeTotals& totals) {
    bool every_failure = spdlog::should_log(spdlog::level::info);
    for (const auto& result : results) {
        if (result.kind == RecordResult::Kind::succeeded) {
            ++totals.succeeded;
        } else if (result.kind == RecordResult::Kind::failed) {
            ++totals.failed;
            totals.failures.push_back({result.id, result.detail});
            if (every_failure || totals.failed <= k_failures_logged)
                log_failure(replicable, result);
        }
    }
}

// After a type's last batch: how many failures were not logged, and how to list them.
void log_unlogged_failures(RunKind& kind, const std::string& replicable, const TypeTotals& totals) {
    if (spdlog::should_log(spdlog::level::info) || totals.failed <= k_failures_logged)
        return;
    std::string more = "and " + std::to_string(totals.failed - k_failures_logged) + " more failures";
    std::string filter = kind.work().failed_filter;
    log_record(spdlog::level::err, LogFields{replicable, std::nullopt, std::nullopt},
               filter.empty() ? more + " (geo-ssf -v to log each)"
                              : more + ": geo-ssf list " + replicable + " " + filter + " (or geo-ssf -v to log each)");
}

}  // namespace

std::vector<const Replicable*> select_run_types(const Config& config, const std::vector<std::string>& names,
                                                bool Replicable::*enabled, const char* what) {
    std::vector<const Replicable*> out;
    if (names.empty()) {
        for (const auto& r : config.replicables)
            if (r.*enabled)
                out.push_back(&r);
        return out;
    }
    for (const auto& name : names) {
        const Replicable& r = config.replicable(name);
        if (!(r.*enabled))
            throw UsageError(std::string(what) + " of " + r.name + " is disabled in " + r.file.string());
        out.push_back(&r);
    }
    return out;
}

namespace {

// Runs type R until nothing is due, the time is up or a stop is requested.
void run_type(RunKind& kind, const Replicable& r, const RunLimits& limits, const std::function<bool()>& out_of_time,
              TypeTotals& totals) {
    const ClaimableWork& work = kind.work();
    pqxx::connection& db = kind.site().database(work.database);
    kind.prepare(r, totals);
    totals.released = release_abandoned(db, work, r, "");
    if (totals.released)
        spdlog::info("{}: released {} rows left started by runs that are gone", r.name, totals.released);
    auto timeout = (kind.site().config().*work.settings).*work.timeout;
    if (long long timed_out = fail_timed_out(db, work, r, timeout))
        spdlog::warn("{}: {} {}s timed out", r.name, timed_out, work.name);
    std::function<void()> worked_one;
    std::atomic<long long> done{0};
    if (limits.progress) {
        long long due = count_due(db, work, r);
        limits.progress(r.name, 0, due);
        worked_one = [&, due] { limits.progress(r.name, ++done, std::max(due, done.load())); };
    }
    bool ran_out = false;  // of due records
    while (!ran_out && !stop_requested() && !out_of_time()) {
        auto claim_started = Clock::now();
        // Each batch has its own claim time, so timeouts count from when its rows were claimed.
        RunLock run(db);
        auto claims = claim_due(db, work, r, run.claim_time(), limits.batch_size);
        if (claims.empty()) {
            ran_out = true;
            break;
        }
        size_t claimed = claims.size();
        totals.claimed += static_cast<long long>(claimed);
        auto work_started = Clock::now();
        auto results = work_claims(kind, r, run.claim_time(), std::move(claims), limits.jobs, out_of_time, worked_one);
        ran_out = static_cast<int>(claimed) < limits.batch_size && results.size() == claimed;
        add_results(r.name, results, totals);
        spdlog::debug("{}: claimed {} in {} ms, worked and recorded them in {} ms", r.name, claimed,
                      std::chrono::duration_cast<std::chrono::milliseconds>(work_started - claim_started).count(),
                      milliseconds_since(work_started));
    }
    totals.stopped_by_max_runtime = !ran_out && out_of_time();
}

// An error of the statement rather than of the server: a column, table or operator the
// type's scope or repository_path names that the database does not have (SQLSTATE class 42),
// or a value it cannot read (class 22).
bool is_definition_error(const pqxx::sql_error& e) {
    const std::string& state = e.sqlstate();
    return state.rfind("42", 0) == 0 || state.rfind("22", 0) == 0;
}

}  // namespace

std::vector<TypeTotals> run_types(RunKind& kind, const std::vector<const Replicable*>& types, const RunLimits& limits,
                                  Clock::time_point started) {
    auto out_of_time = [&] { return limits.out_of_time(started); };
    std::vector<TypeTotals> all;
    for (const Replicable* r : types) {
        TypeTotals totals;
        totals.replicable = r->name;
        if (stop_requested() || out_of_time()) {
            totals.stopped_by_max_runtime = out_of_time();
            all.push_back(std::move(totals));
            continue;
        }
        auto type_started = Clock::now();
        try {
            run_type(kind, *r, limits, out_of_time, totals);
        } catch (const pqxx::sql_error& e) {
            if (!is_definition_error(e))
                throw;
            totals.error = r->name + " (" + r->file.string() + ") did not run: " + first_line(e.what());
            spdlog::error("{}", totals.error);
        }
        totals.seconds = seconds_since(type_started);
        log_unlogged_failures(kind, r->name, totals);
        all.push_back(std::move(totals));
    }
    fold_tallies(kind.site().database(kind.work().database));
    return all;
}

std::vector<long long> run_due_records(RunKind& kind, const Replicable& r, const std::vector<long long>& ids,
                                       const RunLimits& limits, TypeTotals& totals) {
    const ClaimableWork& work = kind.work();
    pqxx::connection& db = kind.site().database(work.database);
    std::vector<long long> succeeded;
    size_t batch = static_cast<size_t>(std::max(1, limits.batch_size));
    for (size_t first = 0; first < ids.size() && !stop_requested(); first += batch) {
        std::vector<long long> chunk(ids.begin() + static_cast<std::ptrdiff_t>(first),
                                     ids.begin() + static_cast<std::ptrdiff_t>(std::min(ids.size(), first + batch)));
        RunLock run(db);
        auto claims = claim_due_records(db, work, r, run.claim_time(), chunk);
        if (claims.empty())
            continue;
        totals.claimed += static_cast<long long>(claims.size());
        auto results = work_claims(kind, r, run.claim_time(), std::move(claims), limits.jobs, [] { return false; });
        add_results(r.name, results, totals);
        for (const auto& result : results)
            if (result.succeeded())
                succeeded.push_back(result.id);
    }
    return succeeded;
}

std::vector<RecordResult> run_records(RunKind& kind, const Replicable& r, const std::vector<long long>& ids, int jobs,
                                      const std::string& unclaimed_reason) {
    const ClaimableWork& work = kind.work();
    pqxx::connection& db = kind.site().database(work.database);
    RunLock run(db);
    auto claims = claim_records(db, work, r, run.claim_time(), ids);
    auto results = work_claims(kind, r, run.claim_time(), std::move(claims), jobs, [] { return false; });
    for (long long id : ids)
        if (std::none_of(results.begin(), results.end(), [&](const RecordResult& x) { return x.id == id; }))
            results.push_back({id, RecordResult::Kind::failed, unclaimed_reason});
    std::sort(results.begin(), results.end(), [](const RecordResult& a, const RecordResult& b) { return a.id < b.id; });
    for (const auto& result : results)  // at most --limit of them
        if (result.kind == RecordResult::Kind::failed)
            log_failure(r.name, result);
    return results;
}

}  // namespace geo_ssf
