// Removing copies on a secondary: always after the transaction that removed their registry
// rows has committed, so that a slow disk never holds row locks; a crash between the two
// leaves a folder without a row (removed by a later run), never a row without its copy.
#pragma once

#include "site/config.hpp"

#include <string>
#include <vector>

namespace geo_ssf::secondary {

struct Removal {
    std::string replicable;
    long long id = 0;
    std::string relative_path;  // under the storage root
};

// Removes each repository under CONFIG's storage root; a failure is a warning naming the
// record. Returns how many could not be removed.
int remove_repositories(const Config& config, const std::vector<Removal>& removals);

}  // namespace geo_ssf::secondary
