#include "report/marking_format.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

using namespace geo_ssf;

TEST_CASE("marking format: without --now, the count marked") {
    MarkingOutcome outcome;
    outcome.replicable = "cool_widget";
    outcome.dry_run = true;
    outcome.marked = 3;
    CHECK(nlohmann::json::parse(format_marking_json(outcome)) ==
          nlohmann::json::parse(R"({"replicable": "cool_widget", "now": false, "dry_run": true, "marked": 3})"));
}

TEST_CASE("marking format: with --now, each record worked and the counts of each outcome") {
    MarkingOutcome outcome;
    outcome.replicable = "cool_widget";
    outcome.now = true;
    outcome.selected = 3;
    outcome.results = {{1, RecordResult::Kind::succeeded, "206b1c98359b87bcccde64ce9f2205061d23ae43"},
                       {2, RecordResult::Kind::failed, "Error syncing repository: gone", "primary file:///srv/2.git"},
                       {3, RecordResult::Kind::deferred, "the primary has not verified this record yet"}};
    std::string text = format_marking_json(outcome);
    CHECK(text.back() == '\n');
    nlohmann::json out = nlohmann::json::parse(text);
    CHECK(out == nlohmann::json::parse(R"({"replicable": "cool_widget", "now": true, "dry_run": false, "selected": 3,
        "succeeded": 1, "failed": 1, "deferred": 1, "records": [
        {"id": 1, "outcome": "succeeded", "detail": "206b1c98359b87bcccde64ce9f2205061d23ae43", "concerns": null},
        {"id": 2, "outcome": "failed", "detail": "Error syncing repository: gone",
         "concerns": "primary file:///srv/2.git"},
        {"id": 3, "outcome": "deferred", "detail": "the primary has not verified this record yet",
         "concerns": null}]})"));
}

TEST_CASE("marking format: --now --dry-run has the count selected and no records") {
    MarkingOutcome outcome;
    outcome.replicable = "gadget";
    outcome.now = true;
    outcome.dry_run = true;
    outcome.selected = 7;
    nlohmann::json out = nlohmann::json::parse(format_marking_json(outcome));
    CHECK(out["selected"] == 7);
    CHECK(out["records"] == nlohmann::json::array());
    CHECK(out["succeeded"] == 0);
}
