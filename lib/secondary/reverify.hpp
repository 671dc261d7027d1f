// reverify and resync on a secondary: registry rows go back to verification pending (synced
// rows only) or to sync pending.
#pragma once

#include "run/marking.hpp"

namespace geo_ssf::secondary {

extern const MarkingSteps k_reverify_steps;
extern const MarkingSteps k_resync_steps;

}  // namespace geo_ssf::secondary
