// The one-line summary of a sync or verify run, as text or JSON:
//   verify: 12 claimed, 12 succeeded, 0 failed; cool_widget: 12 claimed, ...; took 0.42 s
#pragma once

#include "db/event_log.hpp"
#include "db/replication_lags.hpp"
#include "run/follow.hpp"
#include "run/run_loop.hpp"
#include "site/site.hpp"

#include <optional>
#include <string>
#include <vector>

namespace geo_ssf {

// The work on copies a run does after the types' own: sync's housekeeping, verify's deep checks.
struct UpkeepSummary {
    const char* name;         // "housekeeping", "deep_checks" (its key in JSON)
    const char* text;         // "housekeeping", "deep checks" (in the summary line)
    const char* metric;       // "housekeeping", "deep_check" (in its metrics' names)
    const std::vector<TypeTotals>& types;
};

struct RunSummary {
    const char* command;          // "sync", "verify"
    const char* succeeded_word;   // "synced", "succeeded"
    const std::vector<TypeTotals>& types;
    const EventCounts* events = nullptr;  // sync only
    double seconds = 0;                   // how long the run took
    const UpkeepSummary* upkeep = nullptr;
};

std::string format_run_summary(const RunSummary& summary, bool json);

// The run as a node_exporter textfile (Prometheus text format), every sample labelled with SITE
// and the command: geo_ssf_run_last_start_timestamp_seconds (STARTED, Unix time),
// geo_ssf_run_last_duration_seconds, geo_ssf_run_last_stopped_by_max_runtime (0 or 1), and per
// type geo_ssf_run_last_{claimed,succeeded,failed}_records; with an upkeep, per type
// geo_ssf_run_last_<metric>_{claimed,succeeded,failed}_records and
// geo_ssf_run_last_<metric>_duration_seconds.
std::string format_run_metrics(const RunSummary& summary, const std::string& site, double started);

// HISTOGRAMS (the site's replication lags) as Prometheus histograms
// geo_ssf_replication_lag_seconds{site, command, type, stage, le}: cumulative over the site's
// life, as the tracking database keeps them, whichever process writes them.
std::string format_lag_histograms(const std::vector<replication_lags::LagHistogram>& histograms,
                                  const std::string& site, const std::string& command);

// The histograms of STAGES ("synced", "verified") of a secondary's replicated types, read from
// its tracking database, as format_lag_histograms writes them; nothing on a primary.
std::string lag_histograms_text(Site& site, const std::string& command, const std::vector<std::string>& stages);

// The follow mode's metrics file: its last pass as a run of the command "follow"
// (format_run_metrics), its counters since it started (geo_ssf_follow_*), and on a secondary
// both lag histograms.
std::string format_follow_metrics(Site& site, const FollowReport& report);

}  // namespace geo_ssf
