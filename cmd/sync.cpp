// geo-ssf sync: one sync run on a secondary.
#include "command.hpp"
#include "common/error.hpp"
#include "common/logging.hpp"
#include "options.hpp"
#include "common/stop.hpp"
#include "report/run_summary.hpp"
#include "secondary/sync.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <iostream>

namespace geo_ssf::cli {

namespace {

struct SyncOptions {
    std::vector<std::string> replicables;
    RunLimitOptions limits;
    std::string format = "table";
};

}  // namespace

Runner define_sync(CLI::App& app) {
    auto options = std::make_shared<SyncOptions>();
    app.description("On a secondary: replay the primary's events, keep each registry in step with the primary's "
                    "records, and mirror every repository that is due (pending, or failed and due for a retry). "
                    "Every step, event replay included, stops at --max-runtime and the next run resumes. "
                    "Copies keep their refs packed; sync.max_refs bounds the refs of a repository. "
                    "Exit status 1 if any record failed.");
    app.add_option("replicable", options->replicables, "Only these types (default: every replication-enabled type)");
    options->limits.add_to(app, "sync", "Repositories mirrored at once");
    app.add_option("--format", options->format, "Summary format")->check(CLI::IsMember({"table", "json"}));
    app.footer(R"(Examples:
  geo-ssf sync
  geo-ssf sync cool_widget --jobs 8 --max-runtime 55s
  * * * * *  geo-ssf sync --max-runtime 55s --format json >>/var/log/geo-ssf/sync.log)");

    return [options](Invocation& invocation) {
        Site& site = invocation.required_site();
        RunLimits limits = options->limits.resolve(site.config().sync);
        site.require_migrated(DatabaseKind::geo);
        site.require_migrated(DatabaseKind::main);
        install_stop_handlers();
        auto started = std::chrono::steady_clock::now();
        secondary::SyncRun run = secondary::sync(site, options->replicables, limits);
        double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        if (!quiet_output())
            std::cout << format_run_summary({"sync", "synced", run.types, &run.events, seconds},
                                            options->format == "json")
                      << "\n";
        if (run.removals_failed > 0) {
            spdlog::warn("{} repositories of removed records could not be removed; their registry rows are kept "
                         "and the next sync retries",
                         run.removals_failed);
            return 1;
        }
        for (const auto& t : run.types)
            if (t.failed > 0)
                return 1;
        return 0;
    };
}

}  // namespace geo_ssf::cli
