#include "secondary/registry_consistency.hpp"

#include "db/copies.hpp"
#include "db/cursors.hpp"
#include "db/model_table.hpp"
#include "db/primary_reads.hpp"
#include "db/registry_table.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <iterator>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace geo_ssf::secondary {

namespace {

// The copies to remove of UNUSED records: those of records that are gone, where the tracking
// database (TX) has them, else at the path their id gives. Records that still exist have left the
// scope: as in GitLab, their copies stay on disk.
std::vector<Removal> removals_of(Site& site, pqxx::transaction_base& tx, const Replicable& r,
                                 const std::vector<long long>& unused) {
    std::vector<long long> gone = read_missing_ids(site.main_database(), r, unused);
    std::vector<Removal> removals;
    for (long long id : gone) {
        auto locations = copies::locations_of(tx, r, id);
        if (locations.empty())
            if (auto location = location_from_id(r, id))
                locations.push_back(*location);
        if (locations.empty())
            spdlog::warn("{} {}: the record is gone and its repository's location is unknown; its repository stays",
                         r.name, id);
        for (const auto& location : locations)
            removals.push_back({&r, id, location, true});
    }
    if (!removals.empty())
        spdlog::info("{}: {} records are gone from the primary without a deleted event; their repositories move to "
                     "the quarantine", r.name, removals.size());
    if (unused.size() > gone.size())
        spdlog::info("{}: {} records left the scope; their registry rows are removed, their repositories stay", r.name,
                     unused.size() - gone.size());
    return removals;
}

// Records where the copies of IDS are, made before geo-ssf recorded them, as sync does for every
// copy it fetches: a record that renders the same path, or one inside or around it, is refused.
void record_copies(Site& site, const Replicable& r, const std::vector<long long>& ids) {
    if (ids.empty())
        return;
    RepositoryPaths paths = read_repository_paths(site.main_database(), r, ids);
    for (const auto& [id, reason] : copies::reserve(site.geo_database(), r, paths.paths))
        spdlog::warn("{} {}: {}", r.name, id, reason);
}

struct IdBatch {
    std::pair<long long, long long> range;
    std::vector<long long> ids;  // the primary's records in scope in the range, ascending
};

// The next range of the walk RANGES, with the records in scope in it.
std::optional<IdBatch> next_batch(Site& site, const Replicable& r, IdRanges& ranges) {
    return read_primary(site.main_database(), [&](pqxx::transaction_base& main) -> std::optional<IdBatch> {
        IdRanges walk = ranges;  // moved on only once the read succeeds: it may be tried twice
        auto range = walk.next(main);
        std::optional<IdBatch> batch;
        if (range)
            batch = IdBatch{*range, ids_in_scope_between(main, r, range->first, range->second)};
        ranges = walk;
        return batch;
    });
}

// Brings the registry in step with the primary's records in RANGE, in one transaction of the
// tracking database that also moves CURSOR_NAME to CURSOR (when set). A mass removal
// (mass_removal) without REMOVALS.allowed removes nothing and leaves the cursor, so that every
// run says so until it is confirmed or set right.
void reconcile_range(Site& site, const Replicable& r, std::pair<long long, long long> range,
                     const std::vector<long long>& source, TypeTotals& totals,
                     const std::optional<std::pair<std::string, std::optional<long long>>>& cursor,
                     RemovalReport& removals) {
    pqxx::work tx(site.geo_database());
    auto tracked = registry_table::ids_in_range(tx, r, range.first, range.second);
    std::vector<long long> untracked, unused;
    std::set_difference(source.begin(), source.end(), tracked.begin(), tracked.end(), std::back_inserter(untracked));
    std::set_difference(tracked.begin(), tracked.end(), source.begin(), source.end(), std::back_inserter(unused));
    totals.registry_created += registry_table::insert_rows(tx, r, untracked);
    RemovalBudget budget;
    budget.removing = registry_table::count_counted_for_removal(tx, r, unused);
    if (budget.removing > 0) {
        budget.compared = registry_table::count_counted_for_removal(tx, r, tracked);
        budget.removed_in_a_day = copies::removals_in_a_day(tx, r);
        budget.held = registry_table::count_counted_for_removal(tx, r, std::nullopt);
    }
    auto refusal = removals.allowed ? std::nullopt : mass_removal(site.config(), r, budget);
    if (refusal) {
        tx.commit();
        removals.refused.push_back(*refusal);
        return;
    }
    // The removals are requested in the transaction that removes the rows: a run killed before it
    // moved the copies leaves the requests, which the next sync does first.
    std::vector<Removal> moving = request_removals(site, tx, removals_of(site, tx, r, unused));
    copies::log_removals(tx, r, budget.removing);
    totals.registry_deleted += registry_table::delete_rows(tx, r, unused);
    auto unrecorded = copies::unrecorded_copies(tx, r, range.first, range.second);
    if (cursor)
        write_cursor(tx, cursor->first, cursor->second);
    tx.commit();
    removals.failed += remove_repositories(site, moving);
    record_copies(site, r, unrecorded);
}

}  // namespace

void reconcile_registry(Site& site, const Replicable& r, TypeTotals& totals, RemovalReport& removals) {
    const std::string cursor_name = registry_consistency_walk(r.name);
    std::optional<long long> after, largest_registered;
    {
        pqxx::read_transaction geo(site.geo_database());
        after = read_cursor(geo, cursor_name);
        largest_registered = registry_table::largest_id(geo, r);
    }
    const int batch_size = site.config().consistency_batch_size;
    IdRanges ranges(r, batch_size, after);
    auto batch = next_batch(site, r, ranges);
    if (!batch) {
        // No records at all while the registry has rows: the first batch of them compared with
        // nothing, which the mass-removal guard stops unless it is confirmed.
        std::optional<long long> last;
        if (largest_registered) {
            pqxx::read_transaction geo(site.geo_database());
            last = registry_table::largest_of_first_ids(geo, r, batch_size);
        }
        if (last)
            reconcile_range(site, r, {std::numeric_limits<long long>::min(), *last}, {}, totals, std::nullopt, removals);
        return;
    }
    reconcile_range(site, r, batch->range, batch->ids, totals, std::make_pair(cursor_name, ranges.position()), removals);
    // Nothing above is left unseen when the batch reached the end of the table; and an empty
    // registry is being filled batch by batch.
    if (!ranges.position() || !largest_registered)
        return;
    IdRanges above(r, batch_size, std::max(*largest_registered, batch->range.second));
    batch = next_batch(site, r, above);
    if (batch && !batch->ids.empty())  // above the registry's largest id there is nothing to remove
        reconcile_range(site, r, batch->range, batch->ids, totals, std::nullopt, removals);
}

}  // namespace geo_ssf::secondary
