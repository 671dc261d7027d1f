// geo-ssf sync: one sync run on a secondary.
#include "command.hpp"
#include "common/error.hpp"
#include "common/logging.hpp"
#include "output.hpp"
#include "common/stop.hpp"
#include "secondary/sync.hpp"

#include <nlohmann/json.hpp>

#include <iostream>

namespace geo_ssf::cli {

namespace {

struct SyncOptions {
    std::vector<std::string> replicables;
    RunLimitOptions limits;
    std::string format = "table";
};

void print_run(const SyncRun& run, const std::string& format) {
    long long claimed = 0, synced = 0, failed = 0;
    for (const auto& t : run.types) {
        claimed += t.claimed;
        synced += t.synced;
        failed += t.failed;
    }
    if (format == "json") {
        nlohmann::json out = {{"events", run.events.processed},   {"events_skipped", run.events.skipped},
                              {"last_event_id", run.events.last_event_id}, {"claimed", claimed},
                              {"synced", synced},                  {"failed", failed},
                              {"replicables", nlohmann::json::array()}};
        for (const auto& t : run.types) {
            nlohmann::json failures = nlohmann::json::array();
            for (const auto& f : t.failures)
                failures.push_back({{"id", f.id}, {"reason", f.reason}});
            out["replicables"].push_back({{"name", t.replicable}, {"registry_created", t.registry_created},
                                          {"registry_deleted", t.registry_deleted}, {"released", t.released},
                                          {"claimed", t.claimed}, {"synced", t.synced}, {"failed", t.failed},
                                          {"failures", failures}});
        }
        std::cout << out.dump() << "\n";
        return;
    }
    std::string line = "sync: " + std::to_string(run.events.processed) + " events, " + std::to_string(claimed) +
                       " claimed, " + std::to_string(synced) + " synced, " + std::to_string(failed) + " failed";
    for (const auto& t : run.types)
        line += "; " + t.replicable + ": " + std::to_string(t.claimed) + " claimed, " + std::to_string(t.synced) +
                " synced, " + std::to_string(t.failed) + " failed";
    std::cout << line << "\n";
}

}  // namespace

Runner define_sync(CLI::App& app) {
    auto options = std::make_shared<SyncOptions>();
    app.description("On a secondary: replay the primary's events, keep each registry in step with the primary's "
                    "records, and mirror every repository that is due (pending, or failed and due for a retry). "
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
        SyncRun run = sync_secondary(site, options->replicables, limits);
        if (!quiet_output()) print_run(run, options->format);
        for (const auto& t : run.types)
            if (t.failed > 0)
                return 1;
        return 0;
    };
}

}  // namespace geo_ssf::cli
