// The one-line summary of a sync or verify run, as text or JSON.
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
};

std::string format_run_summary(const RunSummary& summary, bool json);

}  // namespace geo_ssf
