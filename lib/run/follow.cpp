#include "run/follow.hpp"

#include "common/duration.hpp"
#include "common/error.hpp"
#include "common/stop.hpp"
#include "site/errors.hpp"

#include <pqxx/pqxx>
#include <spdlog/spdlog.h>

#include <poll.h>

#include <algorithm>
#include <climits>
#include <cstddef>
#include <exception>
#include <iterator>

namespace geo_ssf {

namespace {

using Clock = std::chrono::steady_clock;

// Metrics are written after each pass, and after changes at most this often.
constexpr std::chrono::seconds k_metrics_interval{5};

double unix_now() {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Waits until DEADLINE, until FD (when not -1) becomes readable, or until a stop or a reload is
// requested.
void wait_until(Clock::time_point deadline, int fd) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    int timeout = static_cast<int>(std::clamp<long long>(left + 1, 0, INT_MAX));  // never a busy wait just before
    pollfd fds[2] = {{signal_wakeup_fd(), POLLIN, 0}, {fd, POLLIN, 0}};
    if (!stop_requested())
        ::poll(fds, fd >= 0 ? 2 : 1, timeout);
    drain_signal_wakeups();
}

void write_metrics(Site& site, const FollowReport& report, const FollowHooks& hooks) {
    if (!hooks.write_metrics)
        return;
    try {
        hooks.write_metrics(site, report);
    } catch (const std::exception& e) {
        spdlog::warn("the follow mode's metrics were not written: {}", e.what());
    }
}

void add_to_last_pass(FollowReport& report, const std::vector<TypeTotals>& totals) {
    for (const auto& t : totals) {
        auto same = std::find_if(report.last_pass.begin(), report.last_pass.end(),
                                 [&](const TypeTotals& x) { return x.replicable == t.replicable; });
        if (same == report.last_pass.end()) {
            report.last_pass.push_back({});
            same = std::prev(report.last_pass.end());
            same->replicable = t.replicable;
        }
        same->claimed += t.claimed;
        same->succeeded += t.succeeded;
        same->failed += t.failed;
        same->released += t.released;
        same->stopped_by_max_runtime = same->stopped_by_max_runtime || t.stopped_by_max_runtime;
        if (same->error.empty())
            same->error = t.error;
    }
}

enum class SessionEnd { stop, reload };

// One session on SITE, connected: passes when due, changes as they come. NEXT_PASS outlives it,
// so that reconnecting does not cost a pass, nor skip one.
SessionEnd run_session(Site& site, Follower& follower, FollowReport& report, const FollowHooks& hooks,
                       Clock::time_point& next_pass) {
    const FollowSettings& settings = site.config().follow;
    auto next_metrics = Clock::now();
    bool metrics_due = true;
    while (!stop_requested()) {
        if (take_reload_request())
            return SessionEnd::reload;
        if (Clock::now() >= next_pass) {
            auto started = Clock::now();
            report.last_pass_started = unix_now();
            auto totals = follower.run_pass(k_pass_slice, report.counters);
            report.last_pass_seconds = seconds_since(started);
            report.last_pass.clear();
            add_to_last_pass(report, totals);
            ++report.counters.passes;
            bool more = std::any_of(totals.begin(), totals.end(),
                                    [](const TypeTotals& t) { return t.stopped_by_max_runtime; });
            next_pass = more ? Clock::now() : Clock::now() + settings.pass_interval;
            metrics_due = true;
            next_metrics = Clock::now();
        }
        if (stop_requested())
            break;
        // After work, look again at once: what it waited for (the primary's checksum of a copy
        // just synced, say) has often come meanwhile.
        bool worked = follower.follow_changes(report.counters);
        metrics_due = metrics_due || worked;
        if (metrics_due && Clock::now() >= next_metrics) {
            write_metrics(site, report, hooks);
            metrics_due = false;
            next_metrics = Clock::now() + k_metrics_interval;
        }
        if (worked)
            continue;
        auto deadline = next_pass;
        if (follower.wakeup_fd() < 0)
            deadline = std::min(deadline, Clock::now() + settings.poll_interval);
        if (metrics_due)
            deadline = std::min(deadline, next_metrics);
        wait_until(deadline, follower.wakeup_fd());
    }
    return SessionEnd::stop;
}

// Whether an error that ended a session is the database's (connecting again is the remedy).
bool is_database_error(const std::exception_ptr& error) {
    try {
        std::rethrow_exception(error);
    } catch (const pqxx::failure&) {
        return true;
    } catch (const DatabaseError&) {
        return true;
    } catch (...) {
        return false;
    }
}

}  // namespace

RunLimits follow_limits(const BatchSettings& settings, std::optional<std::chrono::seconds> max_runtime) {
    RunLimits limits;
    limits.batch_size = settings.batch_size;
    limits.jobs = settings.jobs;
    limits.max_runtime = max_runtime;
    return limits;
}

std::vector<std::string> in_turn(std::vector<std::string> names, size_t turn) {
    if (!names.empty())
        std::rotate(names.begin(), names.begin() + static_cast<std::ptrdiff_t>(turn % names.size()), names.end());
    return names;
}

void FollowCounters::add(const std::string& type, const std::string& work, const TypeTotals& totals) {
    Records& r = records[{type, work}];
    r.claimed += totals.claimed;
    r.succeeded += totals.succeeded;
    r.failed += totals.failed;
}

std::chrono::seconds FollowBackoff::next() {
    int doublings = std::min(m_failures++, 5);
    return std::min(std::chrono::seconds(1LL << doublings), std::chrono::seconds(30));
}

void follow(std::unique_ptr<Site>& site, Follower& follower, const FollowHooks& hooks) {
    FollowReport report;
    report.started = unix_now();
    FollowBackoff backoff;
    auto next_pass = Clock::now();  // the first pass at once: what was due while nothing followed
    bool failed_before = false;
    while (!stop_requested()) {
        SessionEnd end = SessionEnd::stop;
        try {
            site->open_databases();
            follower.connect(*site);
            if (failed_before)
                spdlog::warn("connected again; following the changes");
            failed_before = false;
            backoff.reset();
            end = run_session(*site, follower, report, hooks, next_pass);
            follower.disconnect();
        } catch (...) {
            std::exception_ptr error = std::current_exception();
            // What failed is named while the site still knows which connection broke.
            Error translated = translated_error(error, site.get());
            follower.disconnect();
            site->close_databases();
            if (stop_requested())
                break;  // the stop cut the session short; its work is put back
            auto delay = backoff.next();
            ++report.counters.reconnects;
            failed_before = true;
            spdlog::warn("{}; {} in {}", translated.what(),
                         is_database_error(error) ? "connecting again" : "starting again", format_duration(delay));
            wait_until(Clock::now() + delay, -1);
            continue;
        }
        if (end == SessionEnd::reload) {
            try {
                auto reloaded = hooks.reload(*site);
                site->close_databases();
                site = std::move(reloaded);
                spdlog::warn("configuration reloaded from {}", site->config().file.string());
            } catch (const std::exception& e) {
                spdlog::error("the configuration was not reloaded, the one loaded before stays: {}", e.what());
            }
        }
    }
}

}  // namespace geo_ssf
