// Where a site's role is recorded: geo_ssf_primaries in the main database (which site `promote`
// made the primary, replicated to every standby) and geo_ssf_promotions in a secondary's tracking
// database (its own promotion). The decisions over what they hold are site/site_role.hpp's.
#pragma once

#include "site/config.hpp"
#include "site/site.hpp"
#include "site/site_role.hpp"

#include <pqxx/pqxx>

#include <functional>
#include <optional>

namespace geo_ssf {

// What the database TX reads says of itself: its system identifier, its timeline and whether it
// is in recovery.
DatabaseIdentity database_identity(pqxx::transaction_base& tx);

// The newest row of geo_ssf_primaries; nullopt when it has none, or the table is not there yet.
std::optional<PrimaryRecord> current_primary(pqxx::transaction_base& tx);

// Records PRIMARY, a promoted site, in TX: nothing when its generation is there already.
void record_promoted_primary(pqxx::transaction_base& tx, const PrimaryRecord& primary);

// The primary whose database TX reads (a secondary's databases.main, or a standby of it).
FollowedPrimary primary_followed_through(pqxx::transaction_base& tx);

// The primary a secondary's tracking database TX records following; nullopt when none is
// recorded yet (a new tracking database), or the table is not there yet.
std::optional<FollowedPrimary> recorded_followed_primary(pqxx::transaction_base& tx);

// Records PRIMARY as the one the secondary whose tracking database TX writes follows.
void record_followed_primary(pqxx::transaction_base& tx, const FollowedPrimary& primary);

// This site's latest promotion; nullopt when it has none, or the table is not there yet.
std::optional<PromotionRecord> latest_promotion(pqxx::transaction_base& tx);

// The role of the site CONFIG sets up, read from its databases: a primary's main database; a
// secondary's tracking database (GEO, when it could be opened), and its main database (MAIN,
// opened only when asked for) when that records a promotion finished. Reads only.
SiteRole read_site_role(const Config& config, const std::function<pqxx::connection&()>& main, pqxx::connection* geo);
// The same through SITE's own connections.
SiteRole read_site_role(Site& site);

}  // namespace geo_ssf
