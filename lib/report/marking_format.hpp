// What resync and reverify did, as the one JSON object their --format json prints at the end.
#pragma once

#include "run/run_loop.hpp"

#include <string>
#include <vector>

namespace geo_ssf {

struct MarkingOutcome {
    std::string replicable;
    bool now = false;      // --now: records worked here, not marked for the next run
    bool dry_run = false;
    long long marked = 0;     // without --now: rows marked (with --dry-run: rows that would be)
    long long selected = 0;   // with --now: records given or selected to be worked
    std::vector<RecordResult> results;  // with --now, without --dry-run: each record worked, by id
};

// Without --now: {"replicable", "now": false, "dry_run", "marked"}. With --now: {"replicable",
// "now": true, "dry_run", "selected", "succeeded", "failed", "deferred", "records": [{"id",
// "outcome" (succeeded, failed or deferred), "detail", "concerns"}]}.
std::string format_marking_json(const MarkingOutcome& outcome);

}  // namespace geo_ssf
