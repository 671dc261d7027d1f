// Which role a site plays, and where that comes from. The config's site.role says what the site
// was set up as; the main database says which site is the primary since a promotion
// (geo_ssf_primaries, written by `promote` and replicated to every standby); a secondary's
// tracking database says whether the site promoted itself. This file weighs them, as pure code:
// a promoted secondary acts as the primary without its config being edited, and an old primary
// whose database names another site refuses to act as one (no split brain).
#pragma once

#include "site/config.hpp"

#include <optional>
#include <string>

namespace geo_ssf {

// What a database says of itself: the same system identifier on a cluster and on every standby
// made from it; a new timeline at each promotion.
struct DatabaseIdentity {
    std::string system_identifier;
    int timeline = 0;
    bool in_recovery = false;  // a standby, replaying its primary's changes
};

// One row of geo_ssf_primaries: a site that `promote` made the primary.
struct PrimaryRecord {
    int generation = 0;  // 1 for the first promotion, one more at each
    std::string site_name;
    std::string system_identifier;
    int timeline = 0;
    std::optional<long long> last_event_id;  // the newest event kept from the earlier primaries
    std::string promoted_from;               // the site that was the primary before, when known
    std::string became_primary_at;           // UTC, to the second
};

// The primary a secondary follows, as the primary's database names itself: which database
// (cluster) it is and which promotion made it the primary. Two are the same primary when both
// agree; the timeline is kept to tell an admin, as a standby's moves without a promotion.
struct FollowedPrimary {
    std::string system_identifier;
    int generation = 0;     // of geo_ssf_primaries' newest row; 0 when it has none
    std::string site_name;  // that row's site; empty when none
    int timeline = 0;
    std::optional<long long> last_event_id;  // that row's: the newest event kept at the promotion
    bool storage_root_adopted = false;       // recorded: the storage root's repositories sorted out

    bool same_primary(const FollowedPrimary& other) const {
        return system_identifier == other.system_identifier && generation == other.generation;
    }
};

// "lisbon (generation 1, database 7412..., timeline 2)": a followed primary as messages name it.
std::string describe_followed_primary(const FollowedPrimary& primary);

// This site's latest promotion, as its tracking database records it (geo_ssf_promotions).
struct PromotionRecord {
    int generation = 0;  // the generation the site becomes the primary as
    std::string from_site;
    bool accepted_data_loss = false;
    std::string step;  // the last step done
    std::optional<long long> last_event_id;
    std::string report_file;
    std::string started_at;
    std::string finished_at;  // empty while it is not finished
    bool finished() const { return !finished_at.empty(); }
};

// What the role is decided from. A secondary's main database is read only when its tracking
// database records a finished promotion.
struct RoleEvidence {
    std::optional<DatabaseIdentity> database;
    std::optional<PrimaryRecord> primary;      // the newest row of geo_ssf_primaries
    std::optional<PromotionRecord> promotion;  // a secondary's latest promotion
};

enum class RoleSource { config, database };

struct SiteRole {
    Role role = Role::primary;  // what the site acts as
    RoleSource source = RoleSource::config;
    // Set when the site must not act at all (an old primary, a promotion not finished): why, and
    // what to do.
    std::optional<std::string> refusal;
    // "primary, recorded in the main database: ...": what `check` prints.
    std::string description;
};

// The role of the site CONFIG sets up, given EVIDENCE.
SiteRole resolve_role(const Config& config, const RoleEvidence& evidence);

// "lisbon (generation 1, promoted from london at 2026-01-31T09:15:02Z)": a primary as messages name it.
std::string describe_primary(const PrimaryRecord& primary);

}  // namespace geo_ssf
