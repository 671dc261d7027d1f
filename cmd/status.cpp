// geo-ssf status: GitLab's status fields per replicable, as a table, JSON or Prometheus text.
#include "command.hpp"
#include "common/atomic_file.hpp"
#include "common/error.hpp"
#include "report/status.hpp"
#include "report/status_format.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace geo_ssf::cli {

namespace {

struct StatusOptions {
    std::vector<std::string> replicables;
    std::string format = "table";
    std::optional<std::string> output;
    bool recount = false;
    bool by_storage = false;
};

double unix_now() {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

Runner define_status(CLI::App& app) {
    auto options = std::make_shared<StatusOptions>();
    app.description("Print GitLab's status fields for each replicable: on a primary the records and their "
                    "checksums, on a secondary the registry's sync and verification counts with percentages, the "
                    "records that wait for a sync and how long the oldest has waited, the primary's records with "
                    "no registry row yet, the last event processed, and the replication lag of the main database "
                    "when it is a standby. Each type is counted within status.timeout; a count that is not, or "
                    "that needs the primary's database while it cannot be reached, is shown as unknown. Exit "
                    "status 1 when a count is unknown or some records failed.");
    app.add_option("replicable", options->replicables,
                   "Only these types (default: every type with verification enabled on a primary, with "
                   "replication enabled on a secondary)");
    app.add_option("--format", options->format, "Output format")
        ->check(CLI::IsMember({"table", "json", "prometheus"}));
    app.add_option("--output", options->output,
                   "Write to this file instead of stdout, atomically (a temporary file beside it, then a rename)");
    app.add_flag("--recount", options->recount,
                 "First replace the stored tallies the counts come from by counting every row (writers to each "
                 "table wait meanwhile): for tallies `geo-ssf check` finds wrong");
    app.add_flag("--by-storage", options->by_storage,
                 "Also break each type's counts down by storage: on a primary its records by the storage their row "
                 "names, on a secondary its registry rows by the storage their copy is in (a count over the type's "
                 "rows, within status.timeout)");
    app.footer(R"(Examples:
  geo-ssf status
  geo-ssf status --by-storage
  geo-ssf status cool_widget --format json | jq '.replicables[0]'
  geo-ssf status --format prometheus
  geo-ssf -v status --recount      # after geo-ssf check finds tallies that disagree with their rows
  * * * * *  geo-ssf -q status --format prometheus --output /var/lib/geo-ssf/metrics/geo-ssf.prom)");

    return [options](Invocation& invocation) {
        // The names are checked before any database is asked.
        const Config& config = invocation.config();
        auto types = select_status_types(config, config.role, options->replicables);
        try {
            invocation.site->open_databases();  // at once, before their migrations are checked
        } catch (const DatabaseError&) {
            // Connected to again below: a secondary counts its registries without the primary's database.
        }
        Site& site = invocation.required_site();
        if (site.role() != config.role)  // a promoted secondary counts as the primary it is
            types = select_status_types(config, site.role(), options->replicables);
        if (options->recount)
            recount_tallies(site, types);
        SiteStatus status = collect_status(site, std::move(types), options->by_storage);
        for (const auto& t : status.types)
            if (t.outcome == TypeOutcome::unknown)
                spdlog::warn("{}: counts unknown: {}", t.replicable->name, t.reason);
            else if (t.outcome == TypeOutcome::partial)
                spdlog::warn("{}: some counts unknown: {}", t.replicable->name, t.reason);
        if (!status.main_unavailable.empty())
            spdlog::warn("the primary's database is unavailable, so what needs it is unknown: {}",
                         status.main_unavailable);
        else if (!status.events_known)
            spdlog::warn("event log position unknown: {}", status.events_reason);

        std::string text;
        if (options->format == "json")
            text = format_status_json(status);
        else if (options->format == "prometheus")
            text = format_status_prometheus(status, unix_now(),
                                            options->output ? read_file_if_exists(*options->output) : std::nullopt);
        else
            text = format_status_table(status);
        if (options->output)
            write_file_atomically(*options->output, text);
        else
            std::cout << text;
        return status.complete() && !status.records_failed() ? ExitStatus::ok : ExitStatus::records_failed;
    };
}

}  // namespace geo_ssf::cli
