// reverify on a primary: the states rows go back to verification pending; with --deep, the deep
// checks are due now.
#pragma once

#include "run/marking.hpp"

namespace geo_ssf::primary {

extern const MarkingSteps k_reverify_steps;
extern const MarkingSteps k_deep_reverify_steps;

}  // namespace geo_ssf::primary
