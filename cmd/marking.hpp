// What resync and reverify share: mark records by id or in bulk, or work the given ids now.
#pragma once

#include "common/record_ids.hpp"
#include "db/model_table.hpp"
#include "options.hpp"
#include "progress.hpp"
#include "run/marking.hpp"

#include <functional>
#include <iostream>

namespace geo_ssf::cli {

// Prints one line per record worked with --now; DESCRIBE_SUCCESS says what a success brought.
// Returns 1 if any record did not succeed.
inline int print_record_results(const std::vector<RecordResult>& results,
                                const std::function<std::string(const RecordResult&)>& describe_success) {
    int failed = 0;
    for (const auto& result : results) {
        if (result.succeeded()) {
            std::cout << result.id << " " << describe_success(result) << "\n";
        } else {
            std::cout << result.id << " failed " << result.detail << "\n";
            ++failed;
        }
    }
    return failed ? 1 : 0;
}

// NOW_VERB names what --now does ("sync", "checksum").
inline int mark_or_work(Site& site, const Replicable& r, const RecordSelection& options, const MarkingSteps& steps,
                        int jobs, const char* now_verb,
                        const std::function<std::string(const RecordResult&)>& describe_success) {
    std::string what = " " + r.name + " record(s) ";
    if (options.bulk()) {
        BulkSelection selection = options.all ? BulkSelection::all : BulkSelection::failed;
        long long total = steps.count_selection(site, r, selection);
        if (options.dry_run) {
            std::cout << "would mark " << total << what << steps.purpose << "\n";
            return 0;
        }
        ProgressLine progress;
        long long changed = steps.mark_selection(site, r, selection, [&](long long done) {
            progress.show("marked " + std::to_string(done) + " of about " + std::to_string(total));
        });
        progress.finish();
        std::cout << "marked " << changed << what << steps.purpose << "\n";
        return 0;
    }
    std::vector<long long> ids = parse_record_ids(options.ids);
    require_records(site.main_database(), r, ids, steps.missing_where);
    if (!options.now) {
        long long changed = steps.mark_ids(site, r, ids, options.dry_run);
        std::cout << (options.dry_run ? "would mark " : "marked ") << changed << what << steps.purpose << "\n";
        return 0;
    }
    if (options.dry_run) {
        std::cout << "would " << now_verb << " " << ids.size() << what << "now\n";
        return 0;
    }
    return print_record_results(steps.work_ids(site, r.name, ids, jobs), describe_success);
}

}  // namespace geo_ssf::cli
