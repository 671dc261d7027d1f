#include "repo/watchdog.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <thread>

namespace geo_ssf {

namespace {

thread_local Watch* t_watch = nullptr;

std::string seconds_text(std::chrono::seconds s) { return std::to_string(s.count()) + "s"; }

// How long since socket FD last received data, as the kernel tells it.
std::chrono::milliseconds socket_idle(int fd) {
    tcp_info info{};
    socklen_t size = sizeof info;
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &size) != 0)
        return std::chrono::milliseconds::max();
    return std::chrono::milliseconds(info.tcpi_last_data_recv);
}

}  // namespace

WatchWait wait_budget(WatchClock::time_point now, WatchClock::time_point deadline, std::chrono::seconds stall) {
    auto to_deadline = std::max(deadline - now, WatchClock::duration::zero());
    WatchBound bound = to_deadline <= stall ? WatchBound::total : WatchBound::stall;
    auto left = std::chrono::ceil<std::chrono::milliseconds>(std::min<WatchClock::duration>(to_deadline, stall));
    if (left > k_longest_wait)
        return {k_longest_wait, std::nullopt};
    return {left, bound};
}

std::string Watch::reason(WatchBound bound) const {
    if (bound == WatchBound::total)
        return "the fetch took longer than storage.fetch_timeout (" + seconds_text(total) + ")";
    return "no data from the primary for " + seconds_text(stall) + " (storage.fetch_stall_timeout)";
}

Watchdog& Watchdog::instance() {
    static Watchdog* watchdog = new Watchdog;  // never destroyed: its thread outlives main
    return *watchdog;
}

void Watchdog::add(Watch* watch) {
    std::lock_guard lock(m_mutex);
    m_watches.insert(watch);
    if (!m_started) {
        m_started = true;
        std::thread([this] { loop(); }).detach();
    }
}

void Watchdog::remove(Watch* watch) {
    std::lock_guard lock(m_mutex);
    m_watches.erase(watch);
}

void Watchdog::add_socket(Watch* watch, int fd) {
    std::lock_guard lock(m_mutex);
    watch->sockets.push_back(fd);
    if (watch->out_of_time)
        shutdown(fd, SHUT_RDWR);
}

void Watchdog::remove_socket(Watch* watch, int fd) {
    std::lock_guard lock(m_mutex);
    std::erase(watch->sockets, fd);
}

void Watchdog::expire(Watch* watch, const std::string& reason) {
    std::lock_guard lock(m_mutex);
    expire_locked(watch, reason);
}

std::string Watchdog::reason(Watch* watch) {
    std::lock_guard lock(m_mutex);
    return watch->expired;
}

void Watchdog::expire_locked(Watch* watch, const std::string& reason) {
    if (!watch->out_of_time) {
        watch->expired = reason;
        watch->out_of_time = true;
    }
    for (int fd : watch->sockets)
        shutdown(fd, SHUT_RDWR);
}

void Watchdog::loop() {
    std::unique_lock lock(m_mutex);
    while (true) {
        m_wake.wait_for(lock, std::chrono::milliseconds(200));
        auto now = WatchClock::now();
        for (Watch* watch : m_watches) {
            if (watch->out_of_time)
                continue;
            if (now >= watch->deadline) {
                expire_locked(watch, watch->reason(WatchBound::total));
                continue;
            }
            auto idle = std::chrono::duration_cast<std::chrono::milliseconds>(now - watch->last());
            for (int fd : watch->sockets)
                idle = std::min(idle, socket_idle(fd));
            if (idle >= watch->stall)
                expire_locked(watch, watch->reason(WatchBound::stall));
        }
    }
}

Watch* current_watch() { return t_watch; }

WatchScope::WatchScope(Watch& watch, std::chrono::seconds total, std::chrono::seconds stall)
    : m_watch(watch), m_outer(t_watch) {
    watch.total = total;
    watch.stall = stall;
    watch.deadline = WatchClock::now() + total;
    watch.touch();
    t_watch = &watch;
    Watchdog::instance().add(&watch);
}

WatchScope::~WatchScope() {
    Watchdog::instance().remove(&m_watch);
    t_watch = m_outer;
}

}  // namespace geo_ssf
