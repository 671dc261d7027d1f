// The one run loop of sync, primary verify and secondary verify: for each type, release what
// dead runs left started and time out stuck rows, then claim a batch, work each record on
// worker threads, record what was worked and put back what was not, until nothing is due,
// --max-runtime passes or a stop is requested. Each kind of run supplies its steps (RunKind).
#pragma once

#include "db/claims.hpp"
#include "site/config.hpp"
#include "site/site.hpp"

#include <pqxx/pqxx>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace geo_ssf {

// How far a run has got, for a progress line: DONE records of TYPE worked so far, of TOTAL that
// were due when the run came to the type. Called on worker threads.
using RunProgress = std::function<void(const std::string& type, long long done, long long total)>;

// How much one run does.
struct RunLimits {
    int batch_size = 1000;
    int jobs = 2;
    std::optional<std::chrono::seconds> max_runtime;  // stop claiming once reached
    // Where to report progress; unset, the due rows are not even counted.
    RunProgress progress;

    // Whether a run that began at STARTED has used up max_runtime.
    bool out_of_time(std::chrono::steady_clock::time_point started) const {
        return max_runtime && std::chrono::steady_clock::now() - started >= *max_runtime;
    }
};

// What became of one worked record.
struct RecordResult {
    enum class Kind {
        succeeded,
        failed,
        deferred,  // neither: a secondary's verification waits for the primary's
    };
    RecordResult() = default;
    RecordResult(long long record, Kind outcome, std::string text, std::string where = {})
        : id(record), kind(outcome), detail(std::move(text)), concerns(std::move(where)) {}

    long long id = 0;
    Kind kind = Kind::failed;
    std::string detail;  // the checksum, or a note, when succeeded; the reason otherwise
    // What a failure concerns, named in its log line: "primary <url>" or "copy <path>" on a
    // secondary, "repository <path>" on a primary; empty when the record has no path.
    std::string concerns;

    bool succeeded() const { return kind == Kind::succeeded; }
};

struct RecordFailure {
    long long id = 0;
    std::string reason;
};

// One type's share of a run.
struct TypeTotals {
    std::string replicable;
    long long registry_created = 0;  // sync: rows added for records that had none
    long long registry_deleted = 0;  // sync: rows removed for records that are gone
    long long released = 0;          // rows of dead runs put back to pending at the start
    long long claimed = 0;
    long long succeeded = 0;
    long long failed = 0;
    std::vector<RecordFailure> failures;
    bool stopped_by_max_runtime = false;  // --max-runtime passed before the type ran out of due records
    double seconds = 0;                   // how long the type's share of the run took
    // Why the type could not run: its definition (scope, repository_path) fails against the
    // database. Empty when it ran. The other types still run.
    std::string error;
};

// A verify run: the verification of each type, then the deep checks that are due.
struct VerifyRun {
    std::vector<TypeTotals> types;
    std::vector<TypeTotals> deep_checks;
};

// A batch of claimed records of one type, as a kind of run works it.
class ClaimedBatch {
public:
    virtual ~ClaimedBatch() = default;
    virtual size_t size() const = 0;
    // Works record I: the pure unit of work, called on a worker thread once per record; it must
    // not throw and must touch only what belongs to record I. False: a stop request cut the work
    // short, and the record is put back as if it had not been started.
    virtual bool work(size_t i) = 0;
    virtual RecordResult result(size_t i) const = 0;
    // Records the outcomes of the records WORKED (indexes), in one transaction; the run loop
    // puts the others back.
    virtual void record(const std::vector<size_t>& worked) = 0;
};

// A batch of claims worked into OUTCOMEs, one per claim.
template <typename Outcome>
class ClaimedBatchOf : public ClaimedBatch {
public:
    explicit ClaimedBatchOf(std::vector<Claim> claims) : m_claims(std::move(claims)), m_outcomes(m_claims.size()) {}

    size_t size() const override { return m_claims.size(); }

    void record(const std::vector<size_t>& worked) override {
        std::vector<std::pair<long long, Outcome>> outcomes;
        for (size_t i : worked)
            outcomes.emplace_back(m_claims[i].id, m_outcomes[i]);
        record_outcomes(outcomes);
    }

protected:
    // Records OUTCOMES, by record id.
    virtual void record_outcomes(const std::vector<std::pair<long long, Outcome>>& outcomes) = 0;

    std::vector<Claim> m_claims;
    std::vector<Outcome> m_outcomes;  // m_outcomes[i] is set by work(i)
};

// What a kind of run supplies to the loop besides the kind of work it claims; releasing the rows
// of runs that are gone and timing out stuck ones the loop does for every kind.
class RunKind {
public:
    virtual ~RunKind() = default;
    virtual Site& site() = 0;
    virtual const ClaimableWork& work() const = 0;
    // Once per type before its first claim: backfills, registry consistency.
    virtual void prepare(const Replicable& r, TypeTotals& totals) = 0;
    // The batch that works CLAIMS of R, claimed with CLAIM_TIME; it may read what the work
    // needs (where the repositories are, the primary's checksums). Should that fail, the loop
    // puts the claims back.
    virtual std::unique_ptr<ClaimedBatch> batch(const Replicable& r, const std::string& claim_time,
                                                std::vector<Claim> claims) = 0;
};

// The types a run works: those named (an error for one whose ENABLED switch is off), or every
// type whose switch is on. WHAT names the switch in errors ("replication", "verification").
std::vector<const Replicable*> select_run_types(const Config& config, const std::vector<std::string>& names,
                                                bool Replicable::*enabled, const char* what);

// Runs KIND over TYPES under LIMITS; STARTED is when the run began (--max-runtime counts from it).
std::vector<TypeTotals> run_types(RunKind& kind, const std::vector<const Replicable*>& types, const RunLimits& limits,
                                  std::chrono::steady_clock::time_point started);

// Works at once the records of IDS that are due for KIND's work (pending, or failed and due;
// not those a run holds), LIMITS.batch_size at a time on LIMITS.jobs threads, until done or a
// stop is requested: what the follow mode does for the records events name. Adds what it
// claimed and how each fared to TOTALS, failures logged as a run logs them; returns the ids
// worked with success.
std::vector<long long> run_due_records(RunKind& kind, const Replicable& r, const std::vector<long long>& ids,
                                       const RunLimits& limits, TypeTotals& totals);

// Works the records IDS of R at once (resync --now, reverify --now). Records not claimed are
// failed with UNCLAIMED_REASON. Sorted by id.
std::vector<RecordResult> run_records(RunKind& kind, const Replicable& r, const std::vector<long long>& ids, int jobs,
                                      const std::string& unclaimed_reason);

}  // namespace geo_ssf
