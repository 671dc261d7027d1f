// A secondary replicates the types it defines, the same as its primary's: its replicables/ and
// migrations/ are copies of the primary's. One that lacks some would skip their events for good
// (sync consumes them) and never register their records; it says so instead.
#pragma once

#include "site/config.hpp"
#include "site/site.hpp"

#include <optional>
#include <string>
#include <vector>

namespace geo_ssf::secondary {

// What is missing on a secondary of CONFIG whose primary's main database has
// PRIMARY_STATES_TABLES: the states tables of types it does not define, or, when it defines
// none, that; with the fix. nullopt when nothing is.
std::optional<std::string> undefined_types(const Config& config, const std::vector<std::string>& primary_states_tables);

// The same, read from SITE's main database (the primary's).
std::optional<std::string> undefined_types(Site& site);

// A ConfigError with undefined_types(SITE), if any: sync stops with it before it replays an event.
void require_every_type_defined(Site& site);

}  // namespace geo_ssf::secondary
