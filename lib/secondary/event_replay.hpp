// A secondary replays the primary's event log (geo_events) into its registries, in id order,
// moving its cursor (event_log_states) in the same transaction as the changes it covers.
#pragma once

#include "db/event_log.hpp"
#include "site/site.hpp"

#include <functional>
#include <map>
#include <vector>

namespace geo_ssf::secondary {

// Consumes the events after the cursor in batches of BATCH until none is left. An event id
// missing from the sequence stops the run before it while the event after it is younger than
// 10 minutes: it may belong to a transaction that has not committed yet (GitLab's gap
// tracking). Older gaps are rolled-back transactions and are passed over. While another run
// is replaying events this one skips the step. A deleted event removes the copy at its
// disk_path only when the type's repository_path template renders that path; otherwise the
// event is skipped with a warning. Removals that fail are added to REMOVALS_FAILED.
//
// Each batch is one transaction that also moves the cursor, and costs one statement per kind of
// change and type, whatever the number of events: the events of one record are coalesced,
// the last one deciding (updated then deleted: deleted; deleted then created: a new row
// pending sync, and the old copy removed). Between batches SHOULD_STOP is asked (--max-runtime
// reached, a stop requested): the run then stops with the cursor after the last batch, where the
// next run resumes.
//
// When CHANGED is given, the records the replay marked for a sync or a verification are added
// to it, by type (the follow mode works them at once); at most k_changed_records of each kind
// and type, the others being left to the due batches.
struct ChangedRecords {
    std::map<const Replicable*, std::vector<long long>> sync;
    std::map<const Replicable*, std::vector<long long>> verification;
};
inline constexpr size_t k_changed_records = 10000;

// How many events a sync or the follow mode reads and applies in one batch.
inline constexpr int k_event_batch = 1000;

EventCounts consume_events(Site& site, int batch, const std::function<bool()>& should_stop,
                           int* removals_failed = nullptr, ChangedRecords* changed = nullptr);

}  // namespace geo_ssf::secondary
