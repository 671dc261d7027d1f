// A secondary replays the primary's event log (geo_events) into its registries, in id order,
// moving its cursor (event_log_states) in the same transaction as the changes it covers.
#pragma once

#include "db/event_log.hpp"
#include "site/site.hpp"

namespace geo_ssf::secondary {

// Consumes the events after the cursor in batches of BATCH until none is left. An event id
// missing from the sequence stops the run before it while the event after it is younger than
// 10 minutes: it may belong to a transaction that has not committed yet (GitLab's gap
// tracking). Older gaps are rolled-back transactions and are passed over. While another run
// is replaying events this one skips the step. A deleted event removes the copy at its
// disk_path only when the type's repository_path template renders that path; otherwise the
// event is skipped with a warning. Removals that fail are added to REMOVALS_FAILED.
EventCounts consume_events(Site& site, int batch, int* removals_failed = nullptr);

}  // namespace geo_ssf::secondary
