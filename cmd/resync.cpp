// geo-ssf resync: ask a secondary to fetch records again.
#include "command.hpp"
#include "common/error.hpp"
#include "marking.hpp"
#include "options.hpp"
#include "secondary/resync.hpp"

#include <memory>
#include <string>

namespace geo_ssf::cli {

Runner define_resync(CLI::App& app) {
    auto options = std::make_shared<RecordSelection>();
    app.description("On a secondary: mark records for syncing again (pending, retries reset, verification disabled "
                    "until the sync), so the next sync run fetches them; --now syncs the given IDs at once and prints "
                    "the outcome. --all and --failed work in batches of 1000 rows, with a progress line on a "
                    "terminal. --failed --now syncs at most --limit failed records (default 100, lowest ids first) "
                    "and leaves the others to the next sync run; --all --now needs --limit. --now runs only as the "
                    "storage root's owner, as sync does.");
    add_record_selection(app, *options, "Every record whose sync failed",
                         "Sync the given IDs (or, with --all or --failed, up to --limit records) now and print the "
                         "outcome");
    app.footer(R"(Examples:
  geo-ssf resync cool_widget 42
  geo-ssf resync cool_widget 42 --now
  geo-ssf resync cool_widget --failed --dry-run
  geo-ssf resync cool_widget --failed --now --limit 10
  geo-ssf resync cool_widget --all
  geo-ssf resync cool_widget --failed --now --limit 10 --format json | jq -r '.records[] | select(.outcome != "succeeded") | .id')");

    return [options](Invocation& invocation) {
        const Replicable& r = invocation.config().replicable(options->replicable);
        check_record_selection(*options);
        Site& site = invocation.required_site();
        return mark_or_work(site, r, *options, secondary::k_resync_steps, site.config().sync.jobs, "sync",
                            [](const RecordResult& result) {
                                return "synced" + (result.detail.empty() ? "" : " (" + result.detail + ")");
                            });
    };
}

}  // namespace geo_ssf::cli
