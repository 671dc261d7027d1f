// reverify on a secondary: synced registry rows go back to verification pending, or are
// verified at once (--now); with --deep, the deep checks of the copies here are due now.
#pragma once

#include "run/marking.hpp"

namespace geo_ssf::secondary {

extern const MarkingSteps k_reverify_steps;
extern const MarkingSteps k_deep_reverify_steps;

}  // namespace geo_ssf::secondary
