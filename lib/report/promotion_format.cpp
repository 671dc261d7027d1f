#include "report/promotion_format.hpp"

#include <algorithm>
#include <cstddef>
#include <string>
#include <utility>

namespace geo_ssf {

std::string format_preflight_line(const secondary::PreflightCheck& check) {
    return std::string(check.passed ? "passed  " : "FAILED  ") + check.name + ": " + check.detail;
}

std::string format_preflight_summary(const secondary::PromotionCheck& check) {
    auto failed = std::count_if(check.checks.begin(), check.checks.end(), [](const auto& c) { return !c.passed; });
    std::string total = std::to_string(check.checks.size());
    if (failed == 0)
        return "promoting now loses nothing: all " + total + " checks passed";
    return "promoting now would lose data or leave it unproven: " + std::to_string(failed) + " of " + total +
           " checks failed";
}

namespace {

nlohmann::json lost_json(const LostRecord& record) {
    nlohmann::json out;
    out["id"] = record.id;
    out["reason"] = record.loss.reason;
    out["detail"] = record.loss.detail;
    return out;
}

}  // namespace

nlohmann::json promotion_check_json(const secondary::PromotionCheck& check) {
    nlohmann::json checks = nlohmann::json::array(), types = nlohmann::json::array();
    for (const auto& c : check.checks)
        checks.push_back({{"name", c.name}, {"passed", c.passed}, {"detail", c.detail}});
    for (const auto& type : check.types) {
        nlohmann::json lost = nlohmann::json::array();
        for (const auto& record : type.lost)
            lost.push_back(lost_json(record));
        types.push_back({{"name", type.replicable},
                         {"records", type.records},
                         {"verified", type.verified},
                         {"lost", std::move(lost)}});
    }
    return {{"promotable", check.passed()}, {"checks", std::move(checks)}, {"replicables", std::move(types)}};
}

nlohmann::json promotion_report_json(const secondary::PromotionResult& result) {
    nlohmann::json records = nlohmann::json::array(), counts = nlohmann::json::object();
    for (const auto& record : result.lost) {
        nlohmann::json one = lost_json(record);
        one["replicable"] = record.replicable;
        records.push_back(std::move(one));
        counts[record.replicable] = counts.value(record.replicable, 0) + 1;
    }
    const PrimaryRecord& primary = result.primary;
    return {{"site", primary.site_name},
            {"generation", primary.generation},
            {"promoted_from", primary.promoted_from},
            {"became_primary_at", primary.became_primary_at},
            {"system_identifier", primary.system_identifier},
            {"timeline", primary.timeline},
            {"last_event_id", primary.last_event_id.value_or(0)},
            {"accepted_data_loss", result.accepted_data_loss},
            {"lost_records", std::move(counts)},
            {"records", std::move(records)}};
}

std::string format_lost_records(const secondary::PromotionResult& result, size_t limit) {
    std::string out;
    for (size_t i = 0; i < result.lost.size() && i < limit; ++i) {
        const LostRecord& record = result.lost[i];
        out += "lost  " + record.replicable + " " + std::to_string(record.id) + ": " + record.loss.reason + ": " +
               record.loss.detail + "\n";
    }
    if (result.lost.size() > limit)
        out += "... and " + std::to_string(result.lost.size() - limit) + " more, in " + result.report_file.string() +
               "\n";
    return out;
}

}  // namespace geo_ssf
