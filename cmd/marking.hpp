// What resync and reverify share: mark records by id or in bulk, or work the given ids now.
#pragma once

#include "common/error.hpp"
#include "common/record_ids.hpp"
#include "db/model_table.hpp"
#include "options.hpp"
#include "progress.hpp"
#include "run/marking.hpp"

#include <functional>
#include <iostream>
#include <string>
#include <vector>

namespace geo_ssf::cli {

// Prints one line per record worked with --now; DESCRIBE_SUCCESS says what a success brought.
// Returns records_failed if any record did not succeed.
inline ExitStatus print_record_results(const std::vector<RecordResult>& results,
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
    return failed ? ExitStatus::records_failed : ExitStatus::ok;
}

// --all or --failed: marks the selected records, or with --now works up to --limit of them.
inline ExitStatus mark_or_work_selection(Site& site, const Replicable& r, const RecordSelection& options,
                                  const MarkingSteps& steps, int jobs, const char* now_verb,
                                  const std::function<std::string(const RecordResult&)>& describe_success) {
    std::string what = " " + r.name + " record(s) ";
    BulkSelection selection = options.all ? BulkSelection::all : BulkSelection::failed;
    if (options.now) {
        // The others are left as they are: the next run works them when they are due.
        std::vector<long long> ids = steps.selection_ids(site, r, selection, now_limit(options));
        if (ids.empty()) {
            std::cout << "no" << what << "to " << now_verb << "\n";
            return ExitStatus::ok;
        }
        if (options.dry_run) {
            std::cout << "would " << now_verb << " " << ids.size() << what << "now\n";
            return ExitStatus::ok;
        }
        return print_record_results(steps.work_ids(site, r.name, ids, jobs), describe_success);
    }
    long long total = steps.count_selection(site, r, selection);
    if (options.dry_run) {
        std::cout << "would mark " << total << what << steps.purpose << "\n";
        return ExitStatus::ok;
    }
    ProgressLine progress;
    long long changed = steps.mark_selection(site, r, selection,
                                             [&](long long done) { progress.update("marking " + r.name, done, total); });
    progress.finish();
    std::cout << "marked " << changed << what << steps.purpose << "\n";
    return ExitStatus::ok;
}

// NOW_VERB names what --now does ("sync", "checksum").
inline ExitStatus mark_or_work(Site& site, const Replicable& r, const RecordSelection& options, const MarkingSteps& steps,
                        int jobs, const char* now_verb,
                        const std::function<std::string(const RecordResult&)>& describe_success) {
    if (options.bulk())
        return mark_or_work_selection(site, r, options, steps, jobs, now_verb, describe_success);
    std::string what = " " + r.name + " record(s) ";
    // IDs from the command line are one batch; '-' reads any number from standard input, a
    // batch (and a transaction) per 1000.
    long long changed = 0, given = 0;
    ExitStatus status = ExitStatus::ok;
    auto act = [&](const std::vector<long long>& ids) {
        require_records(site.main_database(), r, ids, steps.missing_where);
        given += static_cast<long long>(ids.size());
        if (!options.now)
            changed += steps.mark_ids(site, r, ids, options.dry_run);
        else if (!options.dry_run &&
                 print_record_results(steps.work_ids(site, r.name, ids, jobs), describe_success) != ExitStatus::ok)
            status = ExitStatus::records_failed;
    };
    if (options.ids == std::vector<std::string>{"-"})
        read_record_ids(std::cin, k_bulk_batch, act);
    else
        act(parse_record_ids(options.ids));
    if (!options.now)
        std::cout << (options.dry_run ? "would mark " : "marked ") << changed << what << steps.purpose << "\n";
    else if (options.dry_run)
        std::cout << "would " << now_verb << " " << given << what << "now\n";
    return status;
}

}  // namespace geo_ssf::cli
