// geo-ssf verify: checksum the repositories whose verification is due, and record the results.
#include "command.hpp"
#include "common/error.hpp"
#include "common/logging.hpp"
#include "common/stop.hpp"
#include "options.hpp"
#include "primary/verify.hpp"
#include "run_report.hpp"
#include "secondary/verify.hpp"

#include <memory>
#include <string>
#include <vector>

namespace geo_ssf::cli {

namespace {

struct VerifyOptions {
    std::vector<std::string> replicables;
    RunLimitOptions limits;
    std::string format = "table";
};

}  // namespace

Runner define_verify(CLI::App& app) {
    auto options = std::make_shared<VerifyOptions>();
    app.description("Checksum the repositories whose verification is due and record the results. On a primary "
                    "every success publishes a checksum_succeeded event; on a secondary each synced copy is compared "
                    "with the primary's checksum, and a mismatch names the refs that differ and makes the next sync "
                    "fetch it again. Then the deep checks that are due (verification.deep_interval) check every "
                    "object of a repository; a copy that fails is moved to the quarantine and cloned again by the "
                    "next sync. A secondary runs only as its storage root's owner (exit status 5 otherwise, nothing "
                    "touched). On a terminal, a progress line on stderr; --metrics-file writes the run's metrics for "
                    "node_exporter. Exit status 1 if any record failed.");
    app.add_option("replicable", options->replicables, "Only these types (default: every verification-enabled type)");
    options->limits.add_to(app, "verification", "Repositories checksummed at once");
    app.add_option("--format", options->format, "Summary format")->check(CLI::IsMember({"table", "json"}));
    app.footer(R"(Examples:
  geo-ssf verify
  geo-ssf verify cool_widget --jobs 4 --max-runtime 55s
  * * * * *  geo-ssf verify --max-runtime 55s --format json >>/var/log/geo-ssf/verify.log
  * * * * *  geo-ssf -q verify --max-runtime 55s --metrics-file /var/lib/geo-ssf/metrics/geo-ssf-verify.prom)");

    return [options](Invocation& invocation) {
        RunLimits limits = options->limits.resolve(invocation.config().verification);
        Site& site = invocation.required_site();
        install_stop_handlers();
        bool json = options->format == "json";
        RunStart start;
        ProgressLine progress(json);
        show_progress(progress, limits, "verify");
        VerifyRun run = site.is_primary() ? primary::verify(site, options->replicables, limits)
                                          : secondary::verify(site, options->replicables, limits);
        progress.finish();
        UpkeepSummary deep_checks{"deep_checks", "deep checks", "deep_check", run.deep_checks};
        report_run(site, {"verify", "succeeded", run.types, nullptr, start.seconds_since(), &deep_checks}, json, start,
                   options->limits.metrics_path(site.config().verification));
        return any_failed(run.types) || any_failed(run.deep_checks) ? ExitStatus::records_failed : ExitStatus::ok;
    };
}

}  // namespace geo_ssf::cli
