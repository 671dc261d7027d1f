// What `check --promotion` prints: the preflight's lines, as check prints its own, and the whole
// result in JSON, every record that promoting now would lose or leave unproven included.
#pragma once

#include "secondary/promotion.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace geo_ssf {

// "passed  events replayed: ..." / "FAILED  ...", as check prints its lines.
std::string format_preflight_line(const secondary::PreflightCheck& check);
// "promoting now loses nothing: all 6 checks passed" / "... 2 of 6 checks failed".
std::string format_preflight_summary(const secondary::PromotionCheck& check);

// {"promotable": ..., "checks": [{"name", "passed", "detail"}], "replicables": [{"name",
// "records", "verified", "lost": [{"id", "reason", "detail"}]}]}: every record, whatever their number.
nlohmann::json promotion_check_json(const secondary::PromotionCheck& check);

}  // namespace geo_ssf
