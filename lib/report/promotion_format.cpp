#include "report/promotion_format.hpp"

#include <algorithm>
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

}  // namespace geo_ssf
