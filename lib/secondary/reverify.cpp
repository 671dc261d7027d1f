#include "secondary/reverify.hpp"

#include "db/model_table.hpp"
#include "db/registry_table.hpp"
#include "secondary/sync.hpp"
#include "secondary/verify.hpp"

namespace geo_ssf::secondary {

namespace {

using registry_table::Mark;

template <Mark mark>
long long mark_ids(Site& site, const Replicable& r, const std::vector<long long>& ids, bool dry_run) {
    pqxx::work tx(site.geo_database());
    long long changed = registry_table::mark_ids(tx, r, mark, ids, dry_run);
    tx.commit();
    return changed;
}

template <Mark mark>
long long count_selection(Site& site, const Replicable& r, BulkSelection selection) {
    return registry_table::count_selection(site.geo_database(), r, mark, selection);
}

template <Mark mark>
long long mark_selection(Site& site, const Replicable& r, BulkSelection selection,
                         const std::function<void(long long)>& progress) {
    return registry_table::mark_selection(site.geo_database(), r, mark, selection, k_bulk_batch, progress);
}

template <Mark mark>
std::vector<long long> selection_ids(Site& site, const Replicable& r, BulkSelection selection, int limit) {
    return registry_table::selection_ids(site.geo_database(), r, mark, selection, limit);
}

}  // namespace

const MarkingSteps k_reverify_steps = {mark_ids<Mark::verification_pending>,
                                       count_selection<Mark::verification_pending>,
                                       mark_selection<Mark::verification_pending>,
                                       selection_ids<Mark::verification_pending>,
                                       verify_records,
                                       "for re-verification",
                                       ""};
const MarkingSteps k_resync_steps = {mark_ids<Mark::sync_pending>,
                                     count_selection<Mark::sync_pending>,
                                     mark_selection<Mark::sync_pending>,
                                     selection_ids<Mark::sync_pending>,
                                     sync_records,
                                     "for syncing",
                                     " on the primary"};

}  // namespace geo_ssf::secondary
