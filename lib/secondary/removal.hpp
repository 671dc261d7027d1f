// Removing copies on a secondary: always after the transaction that removed their registry
// rows has committed, so that a slow disk never holds row locks. A crash between the two
// leaves a folder without a row (removed by a later run); a removal that fails puts the row
// back, failed, in a transaction of its own, so the next sync retries it.
#pragma once

#include "site/site.hpp"

#include <optional>
#include <string>
#include <vector>

namespace geo_ssf::secondary {

struct Removal {
    const Replicable* replicable = nullptr;
    long long id = 0;
    std::string relative_path;  // under the storage root
    // Moved to the quarantine (repo/quarantine.hpp) rather than deleted: a record gone without
    // a deleted event, which may be a mistake on the primary's side.
    bool quarantine = false;
};

// Removes (or quarantines) each repository under the site's storage root; only a bare
// repository is ever removed. A failure is a warning naming the record, and its registry row
// comes back as sync failed ("repository not removed: ...") and due, so the next run retries
// the removal. Returns how many could not be removed.
int remove_repositories(Site& site, const std::vector<Removal>& removals);

// What registry consistency did with the removals of one run.
struct RemovalReport {
    bool allowed = false;  // --allow-mass-removal
    int failed = 0;        // copies that could not be removed or quarantined
    std::vector<std::string> refused;  // mass removals not done, one line each (mass_removal)
};

// Why registry consistency must not remove REMOVING of the COMPARED registry rows of one batch
// of REPLICABLE without --allow-mass-removal (more than sync.max_removal_share of them, or more
// than sync.max_removal_count); nullopt when it may.
std::optional<std::string> mass_removal(const Config& config, const Replicable& replicable, size_t removing,
                                        size_t compared);

}  // namespace geo_ssf::secondary
