// SIGTERM and SIGINT ask a long run to stop: it stops claiming, records or releases what it
// claimed, and exits 0. A second signal of either kind ends the process at once. SIGHUP asks a
// long-running command (follow) to read its configuration again.
#pragma once

namespace geo_ssf {

void install_stop_handlers();
bool stop_requested();
// For tests and for commands that stop on their own.
void request_stop();

// SIGHUP asks for a reload instead of ending the process.
void install_reload_handler();
// Whether a reload was asked for since the last call; the request is then forgotten.
bool take_reload_request();

// A descriptor that becomes readable when a stop or a reload is requested, so that a wait in
// poll() ends at once however the signal falls; drain_signal_wakeups() empties it again.
int signal_wakeup_fd();
void drain_signal_wakeups();

}  // namespace geo_ssf
