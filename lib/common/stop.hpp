// SIGTERM and SIGINT ask a long run to stop: it stops claiming, records or releases what it
// claimed, and exits 0. A second signal of either kind ends the process at once.
#pragma once

namespace geo_ssf {

void install_stop_handlers();
bool stop_requested();
// For tests and for commands that stop on their own.
void request_stop();

}  // namespace geo_ssf
