// What sync and verify share around their run: the progress line, the summary, the metrics file.
#pragma once

#include "common/atomic_file.hpp"
#include "common/logging.hpp"
#include "progress.hpp"
#include "report/run_summary.hpp"
#include "site/site.hpp"

#include <chrono>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

namespace geo_ssf::cli {

// When a run started, on both clocks: the wall clock's for the metrics, the steady one's for its duration.
struct RunStart {
    std::chrono::system_clock::time_point wall = std::chrono::system_clock::now();
    std::chrono::steady_clock::time_point steady = std::chrono::steady_clock::now();

    double seconds_since() const {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - steady).count();
    }
    double unix_time() const { return std::chrono::duration<double>(wall.time_since_epoch()).count(); }
};

// Points LIMITS' progress at PROGRESS when it is shown: "VERB TYPE: done/total ...".
inline void show_progress(ProgressLine& progress, RunLimits& limits, const std::string& verb) {
    if (progress.enabled())
        limits.progress = [&progress, verb](const std::string& type, long long done, long long total) {
            progress.update(verb + " " + type, done, total);
        };
}

// Whether a type of TYPES had a record fail, or did not run.
inline bool any_failed(const std::vector<TypeTotals>& types) {
    for (const auto& t : types)
        if (t.failed > 0 || !t.error.empty())
            return true;
    return false;
}

// Prints SUMMARY (unless -q) and writes it to METRICS_FILE (when set) for node_exporter, with,
// on a secondary, the site's lag histogram of what the command brings about: a sync, copies
// synced; a verify, copies verified.
inline void report_run(Site& site, const RunSummary& summary, bool json, const RunStart& start,
                       const std::filesystem::path& metrics_file) {
    if (!quiet_output())
        std::cout << format_run_summary(summary, json) << "\n";
    if (!metrics_file.empty()) {
        std::string stage = std::string(summary.command) == "sync" ? "synced" : "verified";
        write_file_atomically(metrics_file, format_run_metrics(summary, site.config().site_name, start.unix_time()) +
                                                lag_histograms_text(site, summary.command, {stage}));
    }
}

}  // namespace geo_ssf::cli
