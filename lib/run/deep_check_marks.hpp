// The marking steps of reverify --deep on either role, over geo_ssf_deep_checks: written once, for
// the kind of deep check (claims.hpp) whose rows they mark due now.
#pragma once

#include "db/claims.hpp"
#include "db/deep_checks.hpp"
#include "run/marking.hpp"

#include <functional>
#include <vector>

namespace geo_ssf::deep_check_marks {

template <const ClaimableWork& work>
long long mark_ids(Site& site, const Replicable& r, const std::vector<long long>& ids, bool dry_run) {
    pqxx::work tx(site.database(work.database));
    long long changed = deep_checks::mark_ids(tx, r, ids, work.available(r), dry_run);
    tx.commit();
    return changed;
}

template <const ClaimableWork& work>
long long count_selection(Site& site, const Replicable& r, BulkSelection selection) {
    return deep_checks::count_selection(site.database(work.database), r, selection, work.available(r));
}

template <const ClaimableWork& work>
long long mark_selection(Site& site, const Replicable& r, BulkSelection selection,
                         const std::function<void(long long)>& progress) {
    return deep_checks::mark_selection(site.database(work.database), r, selection, work.available(r), k_bulk_batch,
                                       progress);
}

template <const ClaimableWork& work>
std::vector<long long> selection_ids(Site& site, const Replicable& r, BulkSelection selection, int limit) {
    return deep_checks::selection_ids(site.database(work.database), r, selection, work.available(r), limit);
}

}  // namespace geo_ssf::deep_check_marks
