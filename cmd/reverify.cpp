// geo-ssf reverify: ask for records to be checksummed again.
#include "command.hpp"
#include "common/error.hpp"
#include "db/model_table.hpp"
#include "output.hpp"
#include "common/record_ids.hpp"
#include "db/registry_table.hpp"
#include "db/states_table.hpp"
#include "primary/verify.hpp"

#include <iostream>

namespace geo_ssf::cli {

namespace {

constexpr int k_bulk_batch = 1000;

int reverify_ids(Site& site, const Replicable& r, const RecordSelection& options) {
    std::vector<long long> ids = parse_record_ids(options.ids);
    require_records(site, r, ids, "");
    if (!options.now) {
        pqxx::work tx(site.is_primary() ? site.main_database() : site.geo_database());
        long long changed = site.is_primary()
                                ? mark_ids_pending(tx, r, ids, options.dry_run)
                                : mark_registry_ids(tx, r, RegistryMark::verification_pending, ids, options.dry_run);
        tx.commit();
        std::cout << (options.dry_run ? "would mark " : "marked ") << changed << " " << r.name
                  << " record(s) for re-verification\n";
        return 0;
    }
    if (options.dry_run) {
        std::cout << "would checksum " << ids.size() << " " << r.name << " record(s) now\n";
        return 0;
    }
    int failed = 0;
    int jobs = site.config().verification.jobs;
    auto results = site.is_primary() ? verify_primary_records(site, r.name, ids, jobs)
                                     : verify_secondary_records(site, r.name, ids, jobs);
    for (const auto& result : results) {
        if (result.succeeded) {
            std::cout << result.id << " succeeded " << result.checksum << "\n";
        } else {
            std::cout << result.id << " failed " << result.failure << "\n";
            ++failed;
        }
    }
    return failed ? 1 : 0;
}

}  // namespace

Runner define_reverify(CLI::App& app) {
    auto options = std::make_shared<RecordSelection>();
    app.description("Mark records for verification again, so the next verify run checksums them (on a primary the "
                    "states rows, on a secondary the registry rows of synced records); --now checksums the given IDs "
                    "at once and prints the results. --all and --failed work in batches of 1000 rows.");
    add_record_selection(app, *options, "Every record whose verification failed",
                         "Checksum the given IDs now and print the results");
    app.footer(R"(Examples:
  geo-ssf reverify cool_widget 42 43
  geo-ssf reverify cool_widget 42 --now
  geo-ssf reverify cool_widget --failed --dry-run
  geo-ssf reverify cool_widget --all)");

    return [options](Invocation& invocation) {
        Site& site = invocation.required_site();
        const Replicable& r = site.config().replicable(options->replicable);
        if (!r.verification_enabled)
            throw UsageError("verification of " + r.name + " is disabled in " + r.file.string());
        check_record_selection(*options);
        bool bulk = options->bulk();
        site.require_migrated(site.is_primary() ? DatabaseKind::main : DatabaseKind::geo);
        if (!bulk)
            return reverify_ids(site, r, *options);

        Selection selection = options->all ? Selection::all : Selection::failed;
        RegistrySelection registry_selection = options->all ? RegistrySelection::all : RegistrySelection::failed;
        long long total = site.is_primary() ? count_selection(site.main_database(), r, selection)
                                            : count_registry_selection(site.geo_database(), r,
                                                                       RegistryMark::verification_pending,
                                                                       registry_selection);
        if (options->dry_run) {
            std::cout << "would mark " << total << " " << r.name << " record(s) for re-verification\n";
            return 0;
        }
        ProgressLine progress;
        auto show = [&](long long done) {
            progress.show("marked " + std::to_string(done) + " of about " + std::to_string(total));
        };
        long long changed = site.is_primary()
                                ? mark_selection_pending(site.main_database(), r, selection, k_bulk_batch, show)
                                : mark_registry_selection(site.geo_database(), r, RegistryMark::verification_pending,
                                                          registry_selection, k_bulk_batch, show);
        progress.finish();
        std::cout << "marked " << changed << " " << r.name << " record(s) for re-verification\n";
        return 0;
    };
}

}  // namespace geo_ssf::cli
