// geo-ssf reverify: ask for records to be checksummed again.
#include "command.hpp"
#include "common/error.hpp"
#include "marking.hpp"
#include "options.hpp"
#include "primary/reverify.hpp"
#include "secondary/reverify.hpp"

#include <memory>
#include <string>

namespace geo_ssf::cli {

namespace {

struct ReverifyOptions {
    RecordSelection selection;
    bool deep = false;
};

}  // namespace

Runner define_reverify(CLI::App& app) {
    auto options = std::make_shared<ReverifyOptions>();
    app.description("Mark records for verification again, so the next verify run checksums them (on a primary the "
                    "states rows, on a secondary the registry rows of synced records); --now checksums the given IDs "
                    "at once and prints the results. --all and --failed work in batches of 1000 rows, with a progress "
                    "line on a terminal. --failed --now checksums at most --limit failed records (default 100, lowest "
                    "ids first) and leaves the others to the next verify run; --all --now needs --limit. With --deep, "
                    "the same for the deep checks of every object (--failed: those whose deep check failed): due at "
                    "the next verify run, or run at once with --now. On a secondary, --now runs only as the storage "
                    "root's owner, as verify does.");
    add_record_selection(app, options->selection, "Every record whose verification (with --deep: deep check) failed",
                         "Checksum (with --deep: deep-check) the given IDs (or, with --all or --failed, up to --limit "
                         "records) now and print the results");
    app.add_flag("--deep", options->deep,
                 "Deep checks of every object instead of checksums: make them due now (verification.deep_interval "
                 "schedules them otherwise)");
    app.footer(R"(Examples:
  geo-ssf reverify cool_widget 42 43
  geo-ssf reverify cool_widget 42 --now
  geo-ssf reverify cool_widget --failed --dry-run
  geo-ssf reverify cool_widget --failed --now --limit 10
  geo-ssf reverify cool_widget --all
  geo-ssf reverify cool_widget 42 --deep --now
  geo-ssf reverify cool_widget --all --deep
  geo-ssf reverify cool_widget --failed --now --limit 10 --format json | jq -r '.records[] | select(.outcome != "succeeded") | .id')");

    return [options](Invocation& invocation) {
        const Replicable& r = invocation.config().replicable(options->selection.replicable);
        if (!r.verification_enabled)
            throw UsageError("verification of " + r.name + " is disabled in " + r.file.string());
        check_record_selection(options->selection);
        Site& site = invocation.required_site();
        if (options->deep) {
            const MarkingSteps& steps =
                site.is_primary() ? primary::k_deep_reverify_steps : secondary::k_deep_reverify_steps;
            return mark_or_work(site, r, options->selection, steps, site.config().verification.jobs, "deep-check",
                                [](const RecordResult& result) { return result.detail; });
        }
        const MarkingSteps& steps = site.is_primary() ? primary::k_reverify_steps : secondary::k_reverify_steps;
        return mark_or_work(site, r, options->selection, steps, site.config().verification.jobs, "checksum",
                            [](const RecordResult& result) { return "succeeded " + result.detail; });
    };
}

}  // namespace geo_ssf::cli
