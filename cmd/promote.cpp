// geo-ssf promote: make this secondary the primary, once its main database has been promoted.
#include "command.hpp"
#include "common/atomic_file.hpp"
#include "common/error.hpp"
#include "common/logging.hpp"
#include "report/promotion_format.hpp"
#include "secondary/promote.hpp"
#include "secondary/promotion.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <cstddef>
#include <iostream>
#include <memory>
#include <string>

namespace geo_ssf::cli {

namespace {

struct PromoteCommandOptions {
    bool accept_data_loss = false;
    bool dry_run = false;
    std::string report_file;
    std::string format = "table";
};

// The lost records the text output lists; the report file and --format json list them all.
constexpr std::size_t k_records_shown = 20;

}  // namespace

Runner define_promote(CLI::App& app) {
    auto options = std::make_shared<PromoteCommandOptions>();
    app.description("On a secondary whose main database has been promoted (pg_ctl promote, pg_promote() or a "
                    "failover tool): run the preflight of check --promotion and, unless it fails (or with "
                    "--accept-data-loss), make this site the primary, as one procedure that a rerun finishes after "
                    "a crash at any step. The records whose copies were not verified equal to the old primary's are "
                    "set pending verification and written to a data-loss report. Exit status 1 if the preflight "
                    "failed and nothing was done; 3 while the main database is still in recovery.");
    app.add_flag("--accept-data-loss", options->accept_data_loss,
                 "Promote even though the preflight failed: the records it names are in the data-loss report");
    app.add_flag("--dry-run", options->dry_run, "Print the preflight and every step; change nothing");
    app.add_option("--report", options->report_file,
                   "Where to write the data-loss report (JSON; default: <storage root>/.geo-ssf-promotions/"
                   "generation-<N>.json)");
    app.add_option("--format", options->format, "Output format: table prints each step as it is done; json prints "
                                                "one object at the end, the whole data-loss report in it")
        ->check(CLI::IsMember({"table", "json"}));
    app.footer(R"(Examples:
  geo-ssf check --promotion && geo-ssf promote
  geo-ssf promote --dry-run
  geo-ssf promote --accept-data-loss --report /root/promotion-report.json
  geo-ssf promote --accept-data-loss --format json | jq '.report.records | length')");

    return [options](Invocation& invocation) {
        // promote reads and changes the site's role itself: its databases are taken as they are.
        Site& site = *invocation.site;
        bool json = options->format == "json";
        nlohmann::json steps = nlohmann::json::array();
        secondary::PromoteOptions promote;
        promote.accept_data_loss = options->accept_data_loss;
        promote.dry_run = options->dry_run;
        promote.report_file = options->report_file;
        promote.write_report = [](const secondary::PromotionResult& result) {
            write_file_atomically(result.report_file, promotion_report_json(result).dump(2) + "\n");
        };
        auto checked = [&](const secondary::PreflightCheck& check) {
            if (!json)
                std::cout << format_preflight_line(check) << std::endl;
        };
        auto step = [&](const std::string& line) {
            if (json)
                steps.push_back(line);
            else if (!quiet_output() || options->dry_run)
                std::cout << line << std::endl;
        };
        secondary::PromotionResult result = secondary::promote(site, promote, checked, step);

        if (json) {
            nlohmann::json out = {{"refused", result.refused},
                                  {"already_primary", result.already_primary},
                                  {"resumed", result.resumed},
                                  {"dry_run", options->dry_run},
                                  {"steps", steps}};
            if (result.check)
                out["preflight"] = promotion_check_json(*result.check);
            if (!result.refused) {
                out["report_file"] = result.report_file.string();
                out["report"] = promotion_report_json(result);
            }
            std::cout << out.dump() << "\n";
        } else if (result.check && (result.refused || options->dry_run)) {
            std::cout << format_preflight_summary(*result.check) << "\n";
        }
        if (result.refused) {
            spdlog::error("promotion refused: the preflight failed (see above); with --accept-data-loss the records it "
                          "names are set pending verification and listed in the data-loss report");
            return ExitStatus::records_failed;
        }
        if (json || options->dry_run)
            return ExitStatus::ok;
        const PrimaryRecord& primary = result.primary;
        std::string who = primary.site_name + " (generation " + std::to_string(primary.generation) +
                          (primary.promoted_from.empty() ? "" : ", promoted from " + primary.promoted_from) + ")";
        if (result.already_primary)
            std::cout << "nothing to do: this site, " << who << ", is the primary already; its data-loss report, "
                      << result.lost.size() << " records, is in " << result.report_file.string() << "\n";
        else if (!quiet_output())
            std::cout << "promoted: this site, " << who << ", is the primary; " << result.lost.size()
                      << " records whose copies were not verified equal are pending verification\n";
        if (!quiet_output())
            std::cout << format_lost_records(result, k_records_shown);
        return ExitStatus::ok;
    };
}

}  // namespace geo_ssf::cli
