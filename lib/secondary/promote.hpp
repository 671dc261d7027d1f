// Making a secondary the primary, once its main database (a standby of the lost primary's) has
// been promoted by the DBA. The preflight of check --promotion first; then one procedure of
// recorded steps in the tracking database, which a rerun after a crash at any point finishes:
//
//   migrations  the main database's pending migrations, as on any primary
//   begun       the promotion recorded, with the generation this site becomes the primary as
//   compared    the records whose copies are not verified equal to the old primary's, recorded:
//               the data-loss report
//   states      those records' states rows pending, without the old primary's checksum, so
//               that `verify` checksums what is here; every other states row kept as it is
//   event_log   the event log's sequence set to its newest event: no gap for secondaries to wait on
//   primary     this site recorded as the primary in geo_ssf_primaries, which every standby of
//               this database replicates: the role changes here, without a config edited, and
//               the old primary, whose database then names this site, refuses to act as one
//   finished    the report written; the tracking database is kept aside, no longer used
#pragma once

#include "db/promotion.hpp"
#include "secondary/promotion.hpp"
#include "site/site.hpp"
#include "site/site_role.hpp"

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace geo_ssf::secondary {

struct PromotionResult;

struct PromoteOptions {
    bool accept_data_loss = false;
    bool dry_run = false;
    std::filesystem::path report_file;  // empty: <storage root>/.geo-ssf-promotions/generation-<N>.json
    // Writes the data-loss report of a promotion to its report_file; called before the last step
    // is recorded, so that a promotion interrupted before the report is written writes it again.
    std::function<void(const PromotionResult&)> write_report;
};

struct PromotionResult {
    std::optional<PromotionCheck> check;  // the preflight, when this run made it
    bool refused = false;                 // the preflight failed, and data loss was not accepted
    bool already_primary = false;         // promoted before: nothing done
    bool resumed = false;                 // an interrupted promotion finished
    bool accepted_data_loss = false;
    PrimaryRecord primary;                // this site, as the main database records it (or would)
    std::vector<LostRecord> lost;         // the data-loss report
    std::filesystem::path report_file;
};

// Every record of CHECK that promoting would lose or leave unproven, by type and id.
std::vector<LostRecord> lost_records_of(const PromotionCheck& check);

// Promotes SITE, a secondary (see above). Each step, done or (with DRY_RUN) to do, is told
// through STEP as one line; the preflight's checks through CHECKED. A main database still in
// recovery or another promote running is a ConfigError or RuntimeError before anything changes.
PromotionResult promote(Site& site, const PromoteOptions& options,
                        const std::function<void(const PreflightCheck&)>& checked,
                        const std::function<void(const std::string&)>& step);

}  // namespace geo_ssf::secondary
