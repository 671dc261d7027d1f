// What resync and reverify do without working records themselves: mark them (by id, or every
// record, or the failed ones) so that the next run works them. Each role supplies its steps.
#pragma once

#include "db/states.hpp"
#include "run/run_loop.hpp"
#include "site/site.hpp"

#include <functional>
#include <string>
#include <vector>

namespace geo_ssf {

// --all and --failed change this many rows per transaction.
inline constexpr int k_bulk_batch = 1000;

struct MarkingSteps {
    // Marks the records IDS (which must exist on the primary); with DRY_RUN counts only.
    long long (*mark_ids)(Site& site, const Replicable& r, const std::vector<long long>& ids, bool dry_run);
    // How many rows mark_selection would change.
    long long (*count_selection)(Site& site, const Replicable& r, BulkSelection selection);
    // Marks the selected rows in batches of k_bulk_batch, calling PROGRESS(done) after each.
    long long (*mark_selection)(Site& site, const Replicable& r, BulkSelection selection,
                                const std::function<void(long long)>& progress);
    // The ids of up to LIMIT rows mark_selection would change, lowest first (--now with --all or --failed).
    std::vector<long long> (*selection_ids)(Site& site, const Replicable& r, BulkSelection selection, int limit);
    // Works the records IDS at once (--now), with JOBS threads.
    std::vector<RecordResult> (*work_ids)(Site& site, const std::string& replicable, const std::vector<long long>& ids,
                                          int jobs);
    const char* purpose;        // "for re-verification", "for syncing"
    const char* missing_where;  // where records given by id must exist: "", " on the primary"
};

}  // namespace geo_ssf
