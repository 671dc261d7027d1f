// Removing copies on a secondary: always after the transaction that removed their registry
// rows has committed, so that a slow disk never holds row locks. A crash between the two
// leaves a folder without a row (removed by a later run); a removal that fails puts the row
// back, failed, in a transaction of its own, so the next sync retries it.
#pragma once

#include "site/site.hpp"

#include <string>
#include <vector>

namespace geo_ssf::secondary {

struct Removal {
    const Replicable* replicable = nullptr;
    long long id = 0;
    std::string relative_path;  // under the storage root
};

// Removes each repository under the site's storage root; only a bare repository is ever
// removed. A failure is a warning naming the record, and its registry row comes back as sync
// failed ("repository not removed: ...") and due, so the next run retries the removal.
// Returns how many could not be removed.
int remove_repositories(Site& site, const std::vector<Removal>& removals);

}  // namespace geo_ssf::secondary
