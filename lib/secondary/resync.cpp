#include "secondary/resync.hpp"

#include "secondary/registry_marks.hpp"
#include "secondary/sync.hpp"

namespace geo_ssf::secondary {

using registry_marks::Mark;

const MarkingSteps k_resync_steps = {registry_marks::mark_ids<Mark::sync_pending>,
                                     registry_marks::count_selection<Mark::sync_pending>,
                                     registry_marks::mark_selection<Mark::sync_pending>,
                                     registry_marks::selection_ids<Mark::sync_pending>,
                                     sync_records,
                                     "for syncing",
                                     " on the primary"};

}  // namespace geo_ssf::secondary
