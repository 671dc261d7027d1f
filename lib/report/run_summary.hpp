// The one-line summary of a sync or verify run, as text or JSON:
//   verify: 12 claimed, 12 succeeded, 0 failed; cool_widget: 12 claimed, ...; took 0.42 s
#pragma once

#include "db/event_log.hpp"
#include "run/run_loop.hpp"

#include <optional>
#include <string>
#include <vector>

namespace geo_ssf {

struct RunSummary {
    const char* command;          // "sync", "verify"
    const char* succeeded_word;   // "synced", "succeeded"
    const std::vector<TypeTotals>& types;
    const EventCounts* events = nullptr;  // sync only
    double seconds = 0;                   // how long the run took
};

std::string format_run_summary(const RunSummary& summary, bool json);

}  // namespace geo_ssf
