#include "report/run_summary.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>

namespace geo_ssf {

namespace {

struct Sums {
    long long claimed = 0, succeeded = 0, failed = 0;
};

Sums sum(const std::vector<TypeTotals>& types) {
    Sums s;
    for (const auto& t : types) {
        s.claimed += t.claimed;
        s.succeeded += t.succeeded;
        s.failed += t.failed;
    }
    return s;
}

std::string format_json(const RunSummary& summary) {
    Sums s = sum(summary.types);
    nlohmann::json out;
    if (summary.events)
        out = {{"events", summary.events->processed},
               {"events_skipped", summary.events->skipped},
               {"last_event_id", summary.events->last_event_id}};
    out["claimed"] = s.claimed;
    out["duration_ms"] = static_cast<long long>(summary.seconds * 1000);
    out[summary.succeeded_word] = s.succeeded;
    out["failed"] = s.failed;
    out["replicables"] = nlohmann::json::array();
    for (const auto& t : summary.types) {
        nlohmann::json failures = nlohmann::json::array();
        for (const auto& f : t.failures)
            failures.push_back({{"id", f.id}, {"reason", f.reason}});
        nlohmann::json type = {{"name", t.replicable}};
        if (summary.events) {
            type["registry_created"] = t.registry_created;
            type["registry_deleted"] = t.registry_deleted;
        }
        type["released"] = t.released;
        type["claimed"] = t.claimed;
        type[summary.succeeded_word] = t.succeeded;
        type["failed"] = t.failed;
        type["failures"] = failures;
        out["replicables"].push_back(std::move(type));
    }
    return out.dump();
}

}  // namespace

std::string format_run_summary(const RunSummary& summary, bool json) {
    if (json)
        return format_json(summary);
    Sums s = sum(summary.types);
    auto counts = [&](long long claimed, long long succeeded, long long failed) {
        return std::to_string(claimed) + " claimed, " + std::to_string(succeeded) + " " + summary.succeeded_word + ", " +
               std::to_string(failed) + " failed";
    };
    std::string line = std::string(summary.command) + ": ";
    if (summary.events)
        line += std::to_string(summary.events->processed) + " events, ";
    line += counts(s.claimed, s.succeeded, s.failed);
    for (const auto& t : summary.types)
        line += "; " + t.replicable + ": " + counts(t.claimed, t.succeeded, t.failed);
    char took[32];
    std::snprintf(took, sizeof took, "; took %.2f s", summary.seconds);
    return line + took;
}

}  // namespace geo_ssf
