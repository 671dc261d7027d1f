// The marking steps of resync and reverify on a secondary, over the registry: the same four
// steps whatever the mark, so each is written once, for either mark.
#pragma once

#include "db/registry_table.hpp"
#include "run/marking.hpp"

#include <functional>
#include <vector>

namespace geo_ssf::secondary::registry_marks {

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

}  // namespace geo_ssf::secondary::registry_marks
