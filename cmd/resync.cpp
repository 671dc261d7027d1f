// geo-ssf resync: ask a secondary to fetch records again.
#include "command.hpp"
#include "common/error.hpp"
#include "output.hpp"
#include "common/record_ids.hpp"
#include "db/registry_table.hpp"
#include "db/model_table.hpp"
#include "secondary/sync.hpp"

#include <iostream>

namespace geo_ssf::cli {

Runner define_resync(CLI::App& app) {
    auto options = std::make_shared<RecordSelection>();
    app.description("On a secondary: mark records for syncing again (pending, retries reset, verification disabled "
                    "until the sync), so the next sync run fetches them; --now syncs the given IDs at once and prints "
                    "the outcome. --all and --failed work in batches of 1000 rows.");
    add_record_selection(app, *options, "Every record whose sync failed", "Sync the given IDs now and print the outcome");
    app.footer(R"(Examples:
  geo-ssf resync cool_widget 42
  geo-ssf resync cool_widget 42 --now
  geo-ssf resync cool_widget --failed --dry-run
  geo-ssf resync cool_widget --all)");

    return [options](Invocation& invocation) {
        Site& site = invocation.required_site();
        const Replicable& r = site.config().replicable(options->replicable);
        check_record_selection(*options);
        site.require_migrated(DatabaseKind::geo);
        if (options->bulk()) {
            RegistrySelection selection = options->all ? RegistrySelection::all : RegistrySelection::failed;
            long long total = count_registry_selection(site.geo_database(), r, RegistryMark::sync_pending, selection);
            if (options->dry_run) {
                std::cout << "would mark " << total << " " << r.name << " record(s) for syncing\n";
                return 0;
            }
            ProgressLine progress;
            long long changed = mark_registry_selection(site.geo_database(), r, RegistryMark::sync_pending, selection,
                                                        1000, [&](long long done) {
                                                            progress.show("marked " + std::to_string(done) + " of about " +
                                                                          std::to_string(total));
                                                        });
            progress.finish();
            std::cout << "marked " << changed << " " << r.name << " record(s) for syncing\n";
            return 0;
        }
        std::vector<long long> ids = parse_record_ids(options->ids);
        require_records(site, r, ids, " on the primary");
        if (!options->now) {
            pqxx::work tx(site.geo_database());
            long long changed = mark_registry_ids(tx, r, RegistryMark::sync_pending, ids, options->dry_run);
            tx.commit();
            std::cout << (options->dry_run ? "would mark " : "marked ") << changed << " " << r.name
                      << " record(s) for syncing\n";
            return 0;
        }
        if (options->dry_run) {
            std::cout << "would sync " << ids.size() << " " << r.name << " record(s) now\n";
            return 0;
        }
        {
            pqxx::work tx(site.geo_database());
            insert_registry_rows(tx, r, ids);
            tx.commit();
        }
        int failed_count = 0;
        for (const auto& result : sync_secondary_records(site, r.name, ids, site.config().sync.jobs)) {
            if (result.succeeded) {
                std::cout << result.id << " synced" << (result.checksum.empty() ? "" : " (" + result.checksum + ")") << "\n";
            } else {
                std::cout << result.id << " failed " << result.failure << "\n";
                ++failed_count;
            }
        }
        return failed_count ? 1 : 0;
    };
}

}  // namespace geo_ssf::cli
