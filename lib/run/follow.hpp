// The follow mode: one long-running process per site that works each change as soon as its
// event is committed and does, every follow.pass_interval, the due batches that sync and verify
// runs from cron would do. This is what both roles share: connecting, waiting for a change (a
// notification, or the next poll), passes, the metrics, reconnecting with backoff after a lost
// database, reloading the configuration on SIGHUP, and ending on SIGTERM or SIGINT with nothing
// left started. Each role supplies a Follower; the claims, the work and the recording are the
// run loop's (run_loop.hpp).
#pragma once

#include "run/run_loop.hpp"
#include "site/site.hpp"

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace geo_ssf {

// What the follow mode did since it started, for its metrics: counters, never reset.
struct FollowCounters {
    struct Records {
        long long claimed = 0;
        long long succeeded = 0;
        long long failed = 0;
    };
    std::map<std::pair<std::string, std::string>, Records> records;  // by type and work ("sync", "verification")
    long long events = 0;      // events read (primary) or replayed (secondary)
    long long reconnects = 0;  // sessions ended by an error
    long long passes = 0;

    // Adds what TOTALS (one type's share of some work) claimed and did.
    void add(const std::string& type, const std::string& work, const TypeTotals& totals);
};

// What the follow mode's metrics show.
struct FollowReport {
    double started = 0;                       // Unix time the process started
    std::optional<double> last_pass_started;  // Unix time the last pass started
    double last_pass_seconds = 0;
    std::vector<TypeTotals> last_pass;  // per type, its sync and verification together (no failure list)
    FollowCounters counters;
};

// What a role does in the follow mode. One Follower lives as long as the process, through the
// sessions that a lost database or a reload ends.
class Follower {
public:
    virtual ~Follower() = default;
    // A session starts on SITE, connected: set up its wake-ups (LISTEN) and where it stands.
    virtual void connect(Site& site) = 0;
    // The session ended: drop what connect set up (its connections may be gone).
    virtual void disconnect() = 0;
    // A descriptor that becomes readable when a change may have come (a LISTEN's socket), or -1
    // when the role must ask at every follow.poll_interval instead.
    virtual int wakeup_fd() const = 0;
    // Works what changed since the last call: reads the new events and works the records they
    // name at once. Returns whether it did anything.
    virtual bool follow_changes(FollowCounters& counters) = 0;
    // The due batches, as sync and verify runs do them, each stopping after SLICE; returns the
    // totals per type, stopped_by_max_runtime set where records were still due.
    virtual std::vector<TypeTotals> run_pass(std::chrono::seconds slice, FollowCounters& counters) = 0;
};

struct FollowHooks {
    // Writes the metrics, when they are asked for; throws when it cannot.
    std::function<void(Site&, const FollowReport&)> write_metrics;
    // Reads the configuration again (SIGHUP) and returns the new site, checked as at start-up;
    // throws when it cannot.
    std::function<std::unique_ptr<Site>(const Site&)> reload;
};

// The limits of the follow mode's work: SETTINGS' batch size and jobs (config.sync or
// config.verification), and MAX_RUNTIME for a pass.
RunLimits follow_limits(const BatchSettings& settings, std::optional<std::chrono::seconds> max_runtime = std::nullopt);

// NAMES turned by TURN places: the types take turns to go first in the passes, so that the
// backlog of one does not keep the others waiting pass after pass.
std::vector<std::string> in_turn(std::vector<std::string> names, size_t turn);

// How long a pass works before the follow mode looks for new events again (plus the records
// under way); a pass that stopped with records still due is followed by another at once.
inline constexpr std::chrono::seconds k_pass_slice{10};

// Follows with FOLLOWER on SITE until a stop is requested; SITE is replaced when a reload
// succeeds. Errors (a lost or unreachable database above all) end a session: logged as one
// line, and a new session starts after a backoff of 1 second, doubled each time to 30.
void follow(std::unique_ptr<Site>& site, Follower& follower, const FollowHooks& hooks);

// The delays between sessions that end on errors: 1 s, 2 s, 4 s, ... up to 30 s; reset() after
// a session that started.
class FollowBackoff {
public:
    std::chrono::seconds next();
    void reset() { m_failures = 0; }

private:
    int m_failures = 0;
};

}  // namespace geo_ssf
