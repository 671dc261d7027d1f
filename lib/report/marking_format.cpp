#include "report/marking_format.hpp"

#include <nlohmann/json.hpp>

#include <utility>

namespace geo_ssf {

namespace {

const char* record_outcome_name(RecordResult::Kind kind) {
    switch (kind) {
    case RecordResult::Kind::succeeded:
        return "succeeded";
    case RecordResult::Kind::deferred:
        return "deferred";
    case RecordResult::Kind::failed:
        break;
    }
    return "failed";
}

}  // namespace

std::string format_marking_json(const MarkingOutcome& outcome) {
    nlohmann::ordered_json out;
    out["replicable"] = outcome.replicable;
    out["now"] = outcome.now;
    out["dry_run"] = outcome.dry_run;
    if (!outcome.now) {
        out["marked"] = outcome.marked;
        return out.dump(2) + "\n";
    }
    out["selected"] = outcome.selected;
    long long succeeded = 0, failed = 0, deferred = 0;
    nlohmann::ordered_json records = nlohmann::ordered_json::array();
    for (const auto& result : outcome.results) {
        succeeded += result.kind == RecordResult::Kind::succeeded ? 1 : 0;
        failed += result.kind == RecordResult::Kind::failed ? 1 : 0;
        deferred += result.kind == RecordResult::Kind::deferred ? 1 : 0;
        nlohmann::ordered_json item;
        item["id"] = result.id;
        item["outcome"] = record_outcome_name(result.kind);
        item["detail"] = result.detail;
        item["concerns"] = result.concerns.empty() ? nlohmann::ordered_json(nullptr)
                                                   : nlohmann::ordered_json(result.concerns);
        records.push_back(std::move(item));
    }
    out["succeeded"] = succeeded;
    out["failed"] = failed;
    out["deferred"] = deferred;
    out["records"] = std::move(records);
    return out.dump(2) + "\n";
}

}  // namespace geo_ssf
