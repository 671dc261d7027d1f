#include "primary/reverify.hpp"

#include "db/model_table.hpp"
#include "db/states_table.hpp"
#include "primary/deep_check.hpp"
#include "primary/verify.hpp"
#include "run/deep_check_marks.hpp"

namespace geo_ssf::primary {

namespace {

long long mark_ids(Site& site, const Replicable& r, const std::vector<long long>& ids, bool dry_run) {
    pqxx::work tx(site.main_database());
    long long changed = states_table::mark_ids(tx, r, ids, dry_run);
    tx.commit();
    return changed;
}

long long count_selection(Site& site, const Replicable& r, BulkSelection selection) {
    return states_table::count_selection(site.main_database(), r, selection);
}

long long mark_selection(Site& site, const Replicable& r, BulkSelection selection,
                         const std::function<void(long long)>& progress) {
    return states_table::mark_selection(site.main_database(), r, selection, k_bulk_batch, progress);
}

std::vector<long long> selection_ids(Site& site, const Replicable& r, BulkSelection selection, int limit) {
    return states_table::selection_ids(site.main_database(), r, selection, limit);
}

}  // namespace

const MarkingSteps k_reverify_steps = {mark_ids,       count_selection,        mark_selection, selection_ids,
                                       verify_records, "for re-verification", ""};

const MarkingSteps k_deep_reverify_steps = {deep_check_marks::mark_ids<k_primary_deep_check>,
                                            deep_check_marks::count_selection<k_primary_deep_check>,
                                            deep_check_marks::mark_selection<k_primary_deep_check>,
                                            deep_check_marks::selection_ids<k_primary_deep_check>,
                                            deep_check_records,
                                            "for a deep check",
                                            ""};

}  // namespace geo_ssf::primary
