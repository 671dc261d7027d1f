// Time bounds of the network operations against the primary. libgit2 1.5 has no network
// timeouts: each operation has a Watch (a deadline, storage.fetch_timeout after its start, and
// a stall bound, storage.fetch_stall_timeout without data), one watchdog thread shuts the
// sockets of a watch that ran out of time, and the socket stream bounds each of its waits by
// the watch of the calling thread. A wait that ends at a bound names that bound, whatever the
// clocks say a moment later.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace geo_ssf {

using WatchClock = std::chrono::steady_clock;

enum class WatchBound {
    total,  // the deadline: storage.fetch_timeout
    stall,  // no data for storage.fetch_stall_timeout
};

// How long a blocking step that starts at NOW may wait, and the bound that has fired when it
// waited that long in vain: the deadline when it comes no later than STALL from NOW, else the
// stall bound. The wait is rounded up to whole milliseconds, so that it never ends before its
// bound. A wait longer than k_longest_wait is cut to it, with no bound: wait again.
struct WatchWait {
    std::chrono::milliseconds timeout;
    std::optional<WatchBound> bound;
};
inline constexpr std::chrono::milliseconds k_longest_wait = std::chrono::hours(24);
WatchWait wait_budget(WatchClock::time_point now, WatchClock::time_point deadline, std::chrono::seconds stall);

// The time bounds of one operation, and what the watchdog found.
struct Watch {
    WatchClock::time_point deadline;
    std::chrono::seconds total{0};
    std::chrono::seconds stall{0};
    std::atomic<WatchClock::rep> last_activity{0};
    std::vector<int> sockets;   // guarded by the watchdog's mutex
    std::string expired;        // guarded by the watchdog's mutex; the reason once out of time
    std::atomic<bool> out_of_time{false};

    // Data came: the stall bound counts from now.
    void touch() { last_activity = WatchClock::now().time_since_epoch().count(); }
    WatchClock::time_point last() const { return WatchClock::time_point(WatchClock::duration(last_activity.load())); }
    // Why an operation that ran out of time at BOUND stopped: "the fetch took longer than
    // storage.fetch_timeout (60s)", "no data from the primary for 300s (storage.fetch_stall_timeout)".
    std::string reason(WatchBound bound) const;
};

// The one thread that checks every watch a few times a second.
class Watchdog {
public:
    static Watchdog& instance();

    void add(Watch* watch);
    void remove(Watch* watch);
    void add_socket(Watch* watch, int fd);
    void remove_socket(Watch* watch, int fd);
    // Marks WATCH out of time for REASON (the first reason wins) and shuts its sockets.
    void expire(Watch* watch, const std::string& reason);
    // Why WATCH ran out of time; empty while it has not.
    std::string reason(Watch* watch);

private:
    Watchdog() = default;
    void expire_locked(Watch* watch, const std::string& reason);
    void loop();

    std::mutex m_mutex;
    std::condition_variable m_wake;
    std::set<Watch*> m_watches;
    bool m_started = false;
};

// The watch of the operation the calling thread runs; nullptr outside one.
Watch* current_watch();

// Makes WATCH, bounded by TOTAL and STALL from now, the calling thread's current watch and the
// watchdog's for its scope; the outer one, if any, is current again after it.
class WatchScope {
public:
    WatchScope(Watch& watch, std::chrono::seconds total, std::chrono::seconds stall);
    ~WatchScope();
    WatchScope(const WatchScope&) = delete;
    WatchScope& operator=(const WatchScope&) = delete;

private:
    Watch& m_watch;
    Watch* m_outer;
};

}  // namespace geo_ssf
