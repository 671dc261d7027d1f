#include "secondary/reverify.hpp"

#include "run/deep_check_marks.hpp"
#include "secondary/deep_check.hpp"
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

const MarkingSteps k_deep_reverify_steps = {deep_check_marks::mark_ids<k_registry_deep_check>,
                                            deep_check_marks::count_selection<k_registry_deep_check>,
                                            deep_check_marks::mark_selection<k_registry_deep_check>,
                                            deep_check_marks::selection_ids<k_registry_deep_check>,
                                            deep_check_records,
                                            "for a deep check",
                                            ""};

}  // namespace geo_ssf::secondary
