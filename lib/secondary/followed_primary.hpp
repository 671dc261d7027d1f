// Which primary a secondary follows, noticed at the start of every sync: the primary's database
// names itself (db/site_identity.hpp) and the tracking database records the one followed.
//
//   a new tracking database  the storage roots' repositories are sorted out once: a copy of a
//                            record in scope is kept, and the sync fetches into it rather than
//                            cloning it again (an old primary back as a secondary, a tracking
//                            database made anew); any other goes to the quarantine, never
//                            straight to deletion
//   another primary          (a promotion, a config repointed at another database) every synced
//                            registry row is verified again against the new primary's checksums,
//                            and a copy that differs is fetched into, never cloned again; event
//                            replay goes back to the newest event the new primary kept
#pragma once

#include "site/site.hpp"
#include "site/site_role.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace geo_ssf::secondary {

// What the sorting out of the storage roots found.
struct StorageAdoption {
    long long found = 0;    // bare repositories under the storage roots
    long long adopted = 0;  // of those, copies of records in scope, in their records' storages: kept
    std::vector<std::string> unclaimed;  // the others, relative to their roots
    std::vector<std::filesystem::path> quarantines;  // where they went, a folder per storage; empty when nowhere
};

struct FollowedPrimaryChange {
    enum class Kind { same, first, repointed };
    Kind kind = Kind::same;
    std::optional<FollowedPrimary> before;  // the primary recorded before, when repointed
    FollowedPrimary now;
    long long marked = 0;                    // registry rows set to verification pending
    std::optional<long long> cursor_moved_to;  // event replay sent back to this event
    std::optional<StorageAdoption> adoption;
};

// Notices which primary SITE's main database is (see above), does what a change asks, records
// it and logs one line for each thing done. Each step may be done again: a run killed half-way
// leaves the change unrecorded, and the next sync does it whole.
FollowedPrimaryChange follow_primary(Site& site);

}  // namespace geo_ssf::secondary
