// Removing copies on a secondary. A removal is requested (db/copies.hpp) in the transaction that
// removes the registry rows, and done once that has committed, so that a slow disk never holds
// row locks; a run killed in between leaves the request, and the next sync does it first. A
// removal that fails puts the registry row back, failed, so that status and show tell and the
// next sync retries it.
#pragma once

#include "db/copies.hpp"
#include "db/model_table.hpp"
#include "site/site.hpp"

#include <optional>
#include <string>
#include <vector>

namespace geo_ssf::secondary {

using copies::Removal;

// Requests REMOVALS in TX: those of paths another record holds are dropped with a warning.
// Returns the removals requested.
std::vector<Removal> request_removals(Site& site, pqxx::transaction_base& tx, const std::vector<Removal>& removals);

// Does the requested REMOVALS (after the transaction that requested them committed): each copy
// is deleted or moved to the quarantine, only if it is a bare repository. A failure is a
// warning naming the record, and its registry row comes back as sync failed ("repository not
// removed: ...") and due; the request stays for the next sync. Returns how many failed.
int remove_repositories(Site& site, const std::vector<Removal>& removals);

// Moves to the quarantine the copies that the records GOOD of R hold elsewhere than where the
// primary has them now (CURRENT: their path or their storage changed there). Called with the
// records whose copies at CURRENT are now verified, or synced for a type that is not verified,
// so that a record is never without a good copy. Returns how many failed.
int remove_superseded_copies(Site& site, const Replicable& r, const RepositoryPaths& current,
                             const std::vector<long long>& good);

// Does the removals requested by runs that stopped before doing them. Returns how many failed.
int finish_requested_removals(Site& site);

// What registry consistency did with the removals of one run.
struct RemovalReport {
    bool allowed = false;  // --allow-mass-removal
    int failed = 0;        // copies that could not be removed or quarantined
    std::vector<std::string> refused;  // mass removals not done, one line each (mass_removal)
};

// What one batch of registry consistency would quarantine, against what the type holds.
// Registry rows of records the primary had no repository for (missing_on_primary) count on no
// side, so that such records cannot dilute the share.
struct RemovalBudget {
    long long removing = 0;          // rows of the batch that registry consistency would remove
    long long compared = 0;          // rows the batch compared
    long long removed_in_a_day = 0;  // rows it removed in the last 24 hours
    long long held = 0;              // rows of the type now
};

// Why registry consistency must not remove BUDGET.removing registry rows of REPLICABLE (and
// quarantine the copies of the records gone) without --allow-mass-removal: more than
// sync.max_removal_share of the rows the batch compared, or, with those of the last 24 hours, of
// the rows the type had at their start; or more than sync.max_removal_count, in the batch or in
// 24 hours. nullopt when it may.
std::optional<std::string> mass_removal(const Config& config, const Replicable& replicable,
                                        const RemovalBudget& budget);

}  // namespace geo_ssf::secondary
