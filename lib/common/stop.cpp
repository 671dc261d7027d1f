#include "common/stop.hpp"

#include <atomic>
#include <csignal>

namespace geo_ssf {

namespace {

std::atomic<bool> g_stop{false};

extern "C" void on_stop_signal(int signal_number) {
    if (g_stop.exchange(true)) {
        std::signal(signal_number, SIG_DFL);
        std::raise(signal_number);
    }
}

}  // namespace

void install_stop_handlers() {
    struct sigaction action {};
    action.sa_handler = on_stop_signal;
    sigemptyset(&action.sa_mask);
    sigaction(SIGTERM, &action, nullptr);
    sigaction(SIGINT, &action, nullptr);
}

bool stop_requested() { return g_stop.load(std::memory_order_relaxed); }
void request_stop() { g_stop.store(true); }

}  // namespace geo_ssf
