// geo-ssf resync: ask a secondary to fetch records again.
#include "command.hpp"
#include "error.hpp"
#include "output.hpp"
#include "record_ids.hpp"
#include "registry_table.hpp"
#include "model_table.hpp"
#include "syncer.hpp"

#include <iostream>

namespace geo_ssf::cli {

namespace {

struct ResyncOptions {
    std::string replicable;
    std::vector<std::string> ids;
    bool all = false;
    bool failed = false;
    bool now = false;
    bool dry_run = false;
};

}  // namespace

Runner define_resync(CLI::App& app) {
    auto options = std::make_shared<ResyncOptions>();
    app.description("On a secondary: mark records for syncing again (pending, retries reset, verification disabled "
                    "until the sync), so the next sync run fetches them; --now syncs the given IDs at once and prints "
                    "the outcome. --all and --failed work in batches of 1000 rows.");
    app.add_option("replicable", options->replicable, "The type, e.g. cool_widget")->required();
    app.add_option("ids", options->ids, "Record IDs");
    auto all = app.add_flag("--all", options->all, "Every record of the type");
    auto failed = app.add_flag("--failed", options->failed, "Every record whose sync failed");
    all->excludes(failed);
    app.add_flag("--now", options->now, "Sync the given IDs now and print the outcome");
    app.add_flag("--dry-run", options->dry_run, "Print how many records would change; change nothing");
    app.footer(R"(Examples:
  geo-ssf resync cool_widget 42
  geo-ssf resync cool_widget 42 --now
  geo-ssf resync cool_widget --failed --dry-run
  geo-ssf resync cool_widget --all)");

    return [options](Invocation& invocation) {
        Site& site = invocation.required_site();
        const Replicable& r = site.config().replicable(options->replicable);
        bool bulk = options->all || options->failed;
        if (bulk == !options->ids.empty())
            throw UsageError("give either record IDs or one of --all and --failed");
        if (options->now && bulk)
            throw UsageError("--now takes record IDs, not --all or --failed");
        site.require_migrated(DatabaseKind::geo);
        if (bulk) {
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
        {
            pqxx::read_transaction main(site.main_database());
            auto missing = missing_model_ids(main, r, ids);
            if (!missing.empty()) {
                std::string list;
                for (long long id : missing)
                    list += (list.empty() ? "" : ", ") + std::to_string(id);
                throw UsageError("no " + r.name + " record with id " + list + " on the primary; nothing was changed");
            }
        }
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
