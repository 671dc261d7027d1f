// Registry consistency on a secondary, bounded like GitLab's RegistryConsistencyWorker: each
// sync compares one batch of the primary's records with the registry (from where the last run
// stopped, starting over after the last id), adding rows for records in scope that have none
// and removing the rows of records that are gone or out of scope; and one batch above the
// registry's largest id, so that records created without an event are registered at once. The
// copies of records gone without a deleted event go to the quarantine.
#pragma once

#include "run/run_loop.hpp"
#include "secondary/removal.hpp"
#include "site/site.hpp"

namespace geo_ssf::secondary {

// One run's consistency pass over R; the rows it adds and removes go to TOTALS, what it did
// with copies to REMOVALS (a mass removal without REMOVALS.allowed removes nothing).
void reconcile_registry(Site& site, const Replicable& r, TypeTotals& totals, RemovalReport& removals);

}  // namespace geo_ssf::secondary
