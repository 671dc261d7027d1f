// reverify on a primary: the states rows go back to verification pending.
#pragma once

#include "run/marking.hpp"

namespace geo_ssf::primary {

extern const MarkingSteps k_reverify_steps;

}  // namespace geo_ssf::primary
