// Options the commands share: run limits, and the records resync and reverify act on.
#pragma once

#include "common/duration.hpp"
#include "common/error.hpp"
#include "run/run_loop.hpp"
#include "site/config.hpp"

#include <CLI/CLI.hpp>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace geo_ssf::cli {

// --max-runtime and friends: a UsageError for text that is not a duration.
inline std::optional<std::chrono::seconds> duration_option(const std::optional<std::string>& text, const char* option) {
    if (!text)
        return std::nullopt;
    auto value = parse_duration(*text);
    if (!value)
        throw UsageError(std::string("invalid ") + option + " \"" + *text + "\": expected a duration such as 90s, 5m or 1h");
    return value;
}

// --batch-size, --jobs and --max-runtime: how much one cron run of sync or verify does, and
// --metrics-file. Unset options fall back to the config's SECTION (sync or verification).
struct RunLimitOptions {
    std::optional<int> batch_size;
    std::optional<int> jobs;
    std::optional<std::string> max_runtime;
    std::optional<std::string> metrics_file;

    void add_to(CLI::App& app, const std::string& section, const std::string& jobs_help) {
        app.add_option("--batch-size", batch_size, "Records claimed at a time (default: " + section + ".batch_size)")
            ->check(CLI::Range(1, 100000));
        app.add_option("--jobs", jobs, jobs_help + " (default: " + section + ".jobs)")->check(CLI::Range(1, 256));
        app.add_option("--max-runtime", max_runtime, "Stop claiming after this long, e.g. 50s, 10m");
        app.add_option("--metrics-file", metrics_file,
                       "Write the run's metrics to this node_exporter textfile, atomically (default: " + section +
                           ".metrics_file; one file per command)");
    }

    std::filesystem::path metrics_path(const BatchSettings& configured) const {
        return metrics_file ? std::filesystem::path(*metrics_file) : configured.metrics_file;
    }

    RunLimits resolve(const BatchSettings& configured) const {
        RunLimits limits;
        limits.batch_size = batch_size.value_or(configured.batch_size);
        limits.jobs = jobs.value_or(configured.jobs);
        limits.max_runtime = duration_option(max_runtime, "--max-runtime");
        return limits;
    }
};

// --failed --now works at most this many records unless --limit says otherwise.
inline constexpr int k_now_failed_limit = 100;

// What resync and reverify act on: record IDs, or every record (--all), or the failed ones.
struct RecordSelection {
    std::string replicable;
    std::vector<std::string> ids;
    bool all = false;
    bool failed = false;
    bool now = false;
    bool dry_run = false;
    std::optional<int> limit;  // --now with --all or --failed: at most this many records
    std::string format = "table";

    bool bulk() const { return all || failed; }
};

inline void add_record_selection(CLI::App& app, RecordSelection& selection, const char* failed_help,
                                 const char* now_help) {
    app.add_option("replicable", selection.replicable, "The type, e.g. cool_widget")->required();
    app.add_option("ids", selection.ids, "Record IDs, or - to read them from standard input");
    auto all = app.add_flag("--all", selection.all, "Every record of the type");
    auto failed = app.add_flag("--failed", selection.failed, failed_help);
    all->excludes(failed);
    app.add_flag("--now", selection.now, now_help);
    app.add_option("--limit", selection.limit,
                   "With --now and --all or --failed: at most N records, lowest ids first (default with --failed: " +
                       std::to_string(k_now_failed_limit) + "; --all --now needs it)")
        ->check(CLI::Range(1, 1000000));
    app.add_flag("--dry-run", selection.dry_run, "Print how many records would change; change nothing");
    app.add_option("--format", selection.format,
                   "Output format: table prints a line per record worked as its batch is done; json prints one "
                   "object at the end (the records worked with --now, else the count marked)")
        ->check(CLI::IsMember({"table", "json"}));
}

inline void check_record_selection(const RecordSelection& selection) {
    if (selection.bulk() == !selection.ids.empty())
        throw UsageError("give either record IDs or one of --all and --failed");
    if (selection.limit && !(selection.now && selection.bulk()))
        throw UsageError("--limit goes with --now and one of --all and --failed");
    // Working every record of a large type at once could take hours: --all --now is bounded on purpose.
    if (selection.now && selection.all && !selection.limit)
        throw UsageError("--all --now needs --limit N; without --now, --all marks every record for the next run");
}

// How many records --failed --now works when --limit is not given.
inline int now_limit(const RecordSelection& selection) { return selection.limit.value_or(k_now_failed_limit); }

}  // namespace geo_ssf::cli
