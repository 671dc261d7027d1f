// geo-ssf show: everything this site knows about one record.
#include "command.hpp"
#include "common/error.hpp"
#include "common/record_ids.hpp"
#include "report/show.hpp"

#include <iostream>
#include <memory>
#include <string>

namespace geo_ssf::cli {

namespace {

struct ShowOptions {
    std::string replicable;
    std::string id;
    std::string format = "table";
};

}  // namespace

Runner define_show(CLI::App& app) {
    auto options = std::make_shared<ShowOptions>();
    app.description("Show one record as this site sees it: its id and repository path, on a primary its state "
                    "row, on a secondary its registry row (every column, checksums in hex, failures, when the next "
                    "retry is) beside the primary's checksum.");
    app.add_option("replicable", options->replicable, "The type, e.g. cool_widget")->required();
    app.add_option("id", options->id, "The record's id")->required();
    app.add_option("--format", options->format, "Output format")->check(CLI::IsMember({"table", "json"}));
    app.footer(R"(Examples:
  geo-ssf show cool_widget 42
  geo-ssf show cool_widget 42 --format json | jq .registry.last_sync_failure)");

    return [options](Invocation& invocation) {
        invocation.config().replicable(options->replicable);  // an unknown type before a bad id
        long long id = parse_record_id(options->id);
        Site& site = invocation.required_site();
        auto details = record_details(site, options->replicable, id);
        std::cout << (options->format == "json" ? format_record_json(details) : format_record_table(details));
        return ExitStatus::ok;
    };
}

}  // namespace geo_ssf::cli
