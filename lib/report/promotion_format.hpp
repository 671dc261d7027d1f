// What `check --promotion` and `promote` print: the preflight's lines, as check prints its own, the
// whole result in JSON, every record that promoting now would lose or leave unproven included;
// a promotion's data-loss report.
#pragma once

#include "secondary/promote.hpp"
#include "secondary/promotion.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <string>

namespace geo_ssf {

// "passed  events replayed: ..." / "FAILED  ...", as check prints its lines.
std::string format_preflight_line(const secondary::PreflightCheck& check);
// "promoting now loses nothing: all 6 checks passed" / "... 2 of 6 checks failed".
std::string format_preflight_summary(const secondary::PromotionCheck& check);

// {"promotable": ..., "checks": [{"name", "passed", "detail"}], "replicables": [{"name",
// "records", "verified", "lost": [{"id", "reason", "detail"}]}]}: every record, whatever their number.
nlohmann::json promotion_check_json(const secondary::PromotionCheck& check);

// A promotion's data-loss report: {"site", "generation", "promoted_from", "became_primary_at",
// "system_identifier", "timeline", "last_event_id", "accepted_data_loss", "lost_records": {type:
// count}, "records": [{"id", "reason", "detail", "replicable"}]}.
nlohmann::json promotion_report_json(const secondary::PromotionResult& result);
// "lost  cool_widget 3: not_verified: ...", one line per lost record, the first LIMIT of them.
std::string format_lost_records(const secondary::PromotionResult& result, size_t limit);

}  // namespace geo_ssf
