// geo-ssf sync: one sync run on a secondary.
#include "command.hpp"
#include "common/error.hpp"
#include "common/logging.hpp"
#include "common/stop.hpp"
#include "options.hpp"
#include "run_report.hpp"
#include "secondary/sync.hpp"

#include <spdlog/spdlog.h>

#include <memory>
#include <string>
#include <vector>

namespace geo_ssf::cli {

namespace {

struct SyncOptions {
    std::vector<std::string> replicables;
    RunLimitOptions limits;
    std::string format = "table";
    bool allow_mass_removal = false;
};

}  // namespace

Runner define_sync(CLI::App& app) {
    auto options = std::make_shared<SyncOptions>();
    app.description("On a secondary: replay the primary's events, keep each registry in step with the primary's "
                    "records, and mirror every repository that is due (pending, or failed and due for a retry). "
                    "On a terminal, a progress line on stderr; --metrics-file writes the run's metrics for node_exporter. "
                    "Every step, event replay included, stops at --max-runtime and the next run resumes. "
                    "Copies keep their refs packed; sync.max_refs bounds the refs of a repository. Then the copies "
                    "fetched into are housekept (repacked as their shape asks; see geo-ssf-sync(1), HOUSEKEEPING). "
                    "Runs only as the storage root's owner (exit status 5 otherwise, nothing touched). "
                    "Exit status 1 if any record failed.");
    app.add_option("replicable", options->replicables, "Only these types (default: every replication-enabled type)");
    options->limits.add_to(app, "sync", "Repositories mirrored at once");
    app.add_option("--format", options->format, "Summary format")->check(CLI::IsMember({"table", "json"}));
    app.add_flag("--allow-mass-removal", options->allow_mass_removal,
                 "Let registry consistency remove more registry rows than sync.max_removal_share or "
                 "sync.max_removal_count (their repositories go to the quarantine)");
    app.footer(R"(Examples:
  geo-ssf sync
  geo-ssf sync cool_widget --jobs 8 --max-runtime 55s
  sudo -u geo-ssf geo-ssf sync              # as the user the units run as, who owns the storage root
  * * * * *  geo-ssf sync --max-runtime 55s --format json >>/var/log/geo-ssf/sync.log
  * * * * *  geo-ssf -q sync --max-runtime 55s --metrics-file /var/lib/geo-ssf/metrics/geo-ssf-sync.prom)");

    return [options](Invocation& invocation) {
        RunLimits limits = options->limits.resolve(invocation.config().sync);
        Site& site = invocation.required_site();
        install_stop_handlers();
        bool json = options->format == "json";
        RunStart start;
        ProgressLine progress(json);
        show_progress(progress, limits, "sync");
        secondary::SyncRun run = secondary::sync(site, options->replicables, limits, options->allow_mass_removal);
        progress.finish();
        UpkeepSummary housekeeping{"housekeeping", "housekeeping", "housekeeping", run.housekeeping};
        report_run(site, {"sync", "synced", run.types, &run.events, start.seconds_since(), &housekeeping}, json, start,
                   options->limits.metrics_path(site.config().sync));
        for (const auto& refusal : run.removals_refused)
            spdlog::error("{}", refusal);
        if (!run.removals_refused.empty())
            return ExitStatus::records_failed;
        if (run.removals_failed > 0) {
            spdlog::warn("{} repositories of removed records could not be removed; their registry rows are kept "
                         "and the next sync retries",
                         run.removals_failed);
            return ExitStatus::records_failed;
        }
        return any_failed(run.types) || any_failed(run.housekeeping) ? ExitStatus::records_failed : ExitStatus::ok;
    };
}

}  // namespace geo_ssf::cli
