// resync on a secondary: registry rows go back to sync pending, or are fetched at once (--now).
#pragma once

#include "run/marking.hpp"

namespace geo_ssf::secondary {

extern const MarkingSteps k_resync_steps;

}  // namespace geo_ssf::secondary
