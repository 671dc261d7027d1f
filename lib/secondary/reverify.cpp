#include "secondary/reverify.hpp"

#include "secondary/registry_marks.hpp"
#include "secondary/verify.hpp"

namespace geo_ssf::secondary {

using registry_marks::Mark;

const MarkingSteps k_reverify_steps = {registry_marks::mark_ids<Mark::verification_pending>,
                                       registry_marks::count_selection<Mark::verification_pending>,
                                       registry_marks::mark_selection<Mark::verification_pending>,
                                       registry_marks::selection_ids<Mark::verification_pending>,
                                       verify_records,
                                       "for re-verification",
                                       ""};

}  // namespace geo_ssf::secondary
