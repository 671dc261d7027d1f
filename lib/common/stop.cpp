#include "common/stop.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>

namespace geo_ssf {

namespace {

std::atomic<bool> g_stop{false};
std::atomic<bool> g_reload{false};
// The self-pipe of signal_wakeup_fd: [0] read, [1] written by the handlers.
int g_wakeup[2] = {-1, -1};

void wake() {
    if (g_wakeup[1] >= 0) {
        int saved = errno;  // a handler must leave errno as it found it
        char byte = 1;
        [[maybe_unused]] ssize_t written = ::write(g_wakeup[1], &byte, 1);  // a full pipe already wakes
        errno = saved;
    }
}

extern "C" void on_stop_signal(int signal_number) {
    if (g_stop.exchange(true)) {
        std::signal(signal_number, SIG_DFL);
        std::raise(signal_number);
    }
    wake();
}

extern "C" void on_reload_signal(int) {
    g_reload.store(true);
    wake();
}

void make_wakeup_pipe() {
    if (g_wakeup[0] < 0 && ::pipe2(g_wakeup, O_CLOEXEC | O_NONBLOCK) != 0)
        g_wakeup[0] = g_wakeup[1] = -1;
}

}  // namespace

void install_stop_handlers() {
    make_wakeup_pipe();
    struct sigaction action {};
    action.sa_handler = on_stop_signal;
    sigemptyset(&action.sa_mask);
    sigaction(SIGTERM, &action, nullptr);
    sigaction(SIGINT, &action, nullptr);
}

bool stop_requested() { return g_stop.load(std::memory_order_relaxed); }

void request_stop() {
    g_stop.store(true);
    wake();
}

void install_reload_handler() {
    make_wakeup_pipe();
    struct sigaction action {};
    action.sa_handler = on_reload_signal;
    sigemptyset(&action.sa_mask);
    // Reads and writes under way (libgit2's, libpq's) go on rather than fail with EINTR.
    action.sa_flags = SA_RESTART;
    sigaction(SIGHUP, &action, nullptr);
}

bool take_reload_request() { return g_reload.exchange(false); }

int signal_wakeup_fd() {
    make_wakeup_pipe();
    return g_wakeup[0];
}

void drain_signal_wakeups() {
    char buffer[64];
    while (g_wakeup[0] >= 0 && ::read(g_wakeup[0], buffer, sizeof buffer) > 0) {
    }
}

}  // namespace geo_ssf
