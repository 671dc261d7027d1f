// What resync and reverify share: mark records by id or in bulk, or work the given ids now.
#pragma once

#include "common/error.hpp"
#include "common/record_ids.hpp"
#include "db/model_table.hpp"
#include "options.hpp"
#include "progress.hpp"
#include "report/marking_format.hpp"
#include "run/marking.hpp"

#include <functional>
#include <iostream>
#include <string>
#include <utility>
#include <vector>

namespace geo_ssf::cli {

// What resync and reverify print. As text: a line per record worked with --now as soon as its
// batch is done, and a closing line; as JSON (--format json): one object at the end.
class MarkingOutput {
public:
    // NOW_VERB names what --now does ("sync", "checksum"); DESCRIBE_SUCCESS says what a success brought.
    MarkingOutput(const Replicable& r, const RecordSelection& options, const MarkingSteps& steps, const char* now_verb,
                  std::function<std::string(const RecordResult&)> describe_success)
        : m_steps(steps), m_now_verb(now_verb), m_describe_success(std::move(describe_success)),
          m_what(" " + r.name + " record(s) "), m_json(options.format == "json") {
        m_outcome.replicable = r.name;
        m_outcome.now = options.now;
        m_outcome.dry_run = options.dry_run;
    }

    bool json() const { return m_json; }

    // --now: RESULTS of one batch of records worked.
    void worked(const std::vector<RecordResult>& results) {
        m_outcome.selected += static_cast<long long>(results.size());
        for (const auto& result : results) {
            if (!result.succeeded())
                m_failed = true;
            if (m_json)
                m_outcome.results.push_back(result);
            else if (result.succeeded())
                std::cout << result.id << " " << m_describe_success(result) << "\n";
            else
                std::cout << result.id << " failed " << result.detail << "\n";
        }
    }

    // --now --dry-run: COUNT more records would be worked.
    void would_work(long long count) { m_outcome.selected += count; }

    // Without --now: COUNT more rows marked (with --dry-run: that would be).
    void marked(long long count) { m_outcome.marked += count; }

    // Prints the closing line, or the JSON object. Returns records_failed if any record worked did not succeed.
    ExitStatus finish() {
        if (m_json)
            std::cout << format_marking_json(m_outcome);
        else if (!m_outcome.now)
            std::cout << (m_outcome.dry_run ? "would mark " : "marked ") << m_outcome.marked << m_what
                      << m_steps.purpose << "\n";
        else if (m_outcome.selected == 0)
            std::cout << "no" << m_what << "to " << m_now_verb << "\n";
        else if (m_outcome.dry_run)
            std::cout << "would " << m_now_verb << " " << m_outcome.selected << m_what << "now\n";
        return m_failed ? ExitStatus::records_failed : ExitStatus::ok;
    }

private:
    const MarkingSteps& m_steps;
    const char* m_now_verb;
    std::function<std::string(const RecordResult&)> m_describe_success;
    std::string m_what;
    bool m_json;
    bool m_failed = false;
    MarkingOutcome m_outcome;
};

// --all or --failed: marks the selected records, or with --now works up to --limit of them.
inline ExitStatus mark_or_work_selection(Site& site, const Replicable& r, const RecordSelection& options,
                                         const MarkingSteps& steps, int jobs, MarkingOutput& output) {
    BulkSelection selection = options.all ? BulkSelection::all : BulkSelection::failed;
    if (options.now) {
        // The others are left as they are: the next run works them when they are due.
        std::vector<long long> ids = steps.selection_ids(site, r, selection, now_limit(options));
        if (options.dry_run)
            output.would_work(static_cast<long long>(ids.size()));
        else if (!ids.empty())
            output.worked(steps.work_ids(site, r.name, ids, jobs));
        return output.finish();
    }
    long long total = steps.count_selection(site, r, selection);
    if (options.dry_run) {
        output.marked(total);
        return output.finish();
    }
    ProgressLine progress;
    long long changed = steps.mark_selection(site, r, selection,
                                             [&](long long done) { progress.update("marking " + r.name, done, total); });
    progress.finish();
    output.marked(changed);
    return output.finish();
}

// NOW_VERB names what --now does ("sync", "checksum").
inline ExitStatus mark_or_work(Site& site, const Replicable& r, const RecordSelection& options, const MarkingSteps& steps,
                               int jobs, const char* now_verb,
                               const std::function<std::string(const RecordResult&)>& describe_success) {
    MarkingOutput output(r, options, steps, now_verb, describe_success);
    if (options.bulk())
        return mark_or_work_selection(site, r, options, steps, jobs, output);
    // IDs from the command line are one batch; '-' reads any number from standard input, a
    // batch (and a transaction) per 1000.
    auto act = [&](const std::vector<long long>& ids) {
        require_records(site.main_database(), r, ids, steps.missing_where);
        if (!options.now)
            output.marked(steps.mark_ids(site, r, ids, options.dry_run));
        else if (options.dry_run)
            output.would_work(static_cast<long long>(ids.size()));
        else
            output.worked(steps.work_ids(site, r.name, ids, jobs));
    };
    if (options.ids == std::vector<std::string>{"-"})
        read_record_ids(std::cin, k_bulk_batch, act);
    else
        act(parse_record_ids(options.ids));
    return output.finish();
}

}  // namespace geo_ssf::cli
