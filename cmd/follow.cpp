// geo-ssf follow: the long-running follow mode of a site (primary or secondary).
#include "command.hpp"
#include "common/atomic_file.hpp"
#include "common/error.hpp"
#include "common/logging.hpp"
#include "common/stop.hpp"
#include "primary/follow.hpp"
#include "report/run_summary.hpp"
#include "run/follow.hpp"
#include "secondary/follow.hpp"
#include "site/config.hpp"
#include "site/site.hpp"

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

namespace geo_ssf::cli {

namespace {

struct FollowOptions {
    std::optional<std::string> metrics_file;
};

// The site the configuration file of CURRENT now describes, checked as the command checks it
// at start-up; its role must not have changed.
std::unique_ptr<Site> reloaded_site(const Site& current) {
    auto site = std::make_unique<Site>(load_config(current.config().file));
    if (site->config().role != current.config().role)
        throw ConfigError(current.config().file.string() + ": site.role changed to " +
                          role_name(site->config().role) + "; restart geo-ssf follow to follow as a " +
                          role_name(site->config().role));
    site->require_migrated(site->role_database_kind());
    if (!site->is_primary())
        site->require_migrated(DatabaseKind::main);
    set_log_context(site->config().site_name, "follow");
    return site;
}

}  // namespace

Runner define_follow(CLI::App& app) {
    auto options = std::make_shared<FollowOptions>();
    app.description("Follow the changes as they come: a long-running process for the site, the recommended way to "
                    "run geo-ssf. On a primary it checksums each record as soon as its event is committed; on a "
                    "secondary it replays each event as soon as it is committed, syncs the records it names at once "
                    "and verifies them as soon as the primary's checksum is there. Every follow.pass_interval it also "
                    "does the due batches that sync and verify runs from cron would do, so no cron job is needed. "
                    "SIGTERM or SIGINT stops it with nothing left started; SIGHUP reloads the configuration.");
    app.add_option("--metrics-file", options->metrics_file,
                   "Keep the follow mode's metrics in this node_exporter textfile, written atomically (default: "
                   "follow.metrics_file)");
    app.footer(R"(Examples:
  geo-ssf -v follow
  geo-ssf follow --metrics-file /var/lib/prometheus/node-exporter/geo-ssf-follow.prom
  systemctl enable --now geo-ssf-follow.service
  systemctl reload geo-ssf-follow.service     # after editing /etc/geo-ssf/config.yml)");

    return [options](Invocation& invocation) {
        invocation.required_site();
        install_stop_handlers();
        install_reload_handler();
        std::unique_ptr<Follower> follower =
            invocation.site->is_primary() ? primary::make_follower() : secondary::make_follower();
        FollowHooks hooks;
        hooks.write_metrics = [options](Site& site, const FollowReport& report) {
            std::filesystem::path file = options->metrics_file ? std::filesystem::path(*options->metrics_file)
                                                               : site.config().follow.metrics_file;
            if (!file.empty())
                write_file_atomically(file, format_follow_metrics(site, report));
        };
        hooks.reload = reloaded_site;
        follow(invocation.site, *follower, hooks);
        return ExitStatus::ok;
    };
}

}  // namespace geo_ssf::cli
