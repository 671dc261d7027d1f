#include "report/run_summary.hpp"

#include "report/status_format.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <utility>

namespace geo_ssf {

namespace {

struct Sums {
    long long claimed = 0, succeeded = 0, failed = 0;
};

Sums sum(const std::vector<TypeTotals>& types) {
    Sums s;
    for (const auto& t : types) {
        s.claimed += t.claimed;
        s.succeeded += t.succeeded;
        s.failed += t.failed;
    }
    return s;
}

nlohmann::json upkeep_json(const UpkeepSummary& upkeep) {
    Sums s = sum(upkeep.types);
    nlohmann::json out = {{"claimed", s.claimed}, {"succeeded", s.succeeded}, {"failed", s.failed}};
    out["replicables"] = nlohmann::json::array();
    for (const auto& t : upkeep.types) {
        nlohmann::json failures = nlohmann::json::array();
        for (const auto& f : t.failures)
            failures.push_back({{"id", f.id}, {"reason", f.reason}});
        nlohmann::json type = {{"name", t.replicable},    {"released", t.released}, {"claimed", t.claimed},
                               {"succeeded", t.succeeded}, {"failed", t.failed},     {"failures", failures}};
        if (!t.error.empty())
            type["error"] = t.error;
        out["replicables"].push_back(std::move(type));
    }
    return out;
}

std::string format_json(const RunSummary& summary) {
    Sums s = sum(summary.types);
    nlohmann::json out;
    if (summary.events)
        out = {{"events", summary.events->processed},
               {"events_skipped", summary.events->skipped},
               {"last_event_id", summary.events->last_event_id}};
    out["claimed"] = s.claimed;
    out["duration_ms"] = static_cast<long long>(summary.seconds * 1000);
    out[summary.succeeded_word] = s.succeeded;
    out["failed"] = s.failed;
    out["replicables"] = nlohmann::json::array();
    for (const auto& t : summary.types) {
        nlohmann::json failures = nlohmann::json::array();
        for (const auto& f : t.failures)
            failures.push_back({{"id", f.id}, {"reason", f.reason}});
        nlohmann::json type = {{"name", t.replicable}};
        if (summary.events) {
            type["registry_created"] = t.registry_created;
            type["registry_deleted"] = t.registry_deleted;
        }
        type["released"] = t.released;
        type["claimed"] = t.claimed;
        type[summary.succeeded_word] = t.succeeded;
        type["failed"] = t.failed;
        type["failures"] = failures;
        if (!t.error.empty())
            type["error"] = t.error;
        out["replicables"].push_back(std::move(type));
    }
    if (summary.upkeep)
        out[summary.upkeep->name] = upkeep_json(*summary.upkeep);
    return out.dump();
}

// A gauge family: HELP and TYPE, then one sample per label set.
std::string metric_family(const std::string& name, const std::string& help,
                          const std::vector<std::pair<std::string, std::string>>& samples) {
    std::string text = "# HELP " + name + " " + escape_help_text(help) + "\n# TYPE " + name + " gauge\n";
    for (const auto& [labels, value] : samples)
        text += name + "{" + labels + "} " + value + "\n";
    return text;
}

}  // namespace

std::string format_run_metrics(const RunSummary& summary, const std::string& site, double started) {
    std::string run = "site=\"" + escape_label_value(site) + "\",command=\"" + summary.command + "\"";
    bool stopped = false;
    for (const auto& t : summary.types)
        stopped = stopped || t.stopped_by_max_runtime;
    std::string text =
        metric_family("geo_ssf_run_last_start_timestamp_seconds", "Unix time the last run of the command started",
                      {{run, format_number(started)}}) +
        metric_family("geo_ssf_run_last_duration_seconds", "How long the last run of the command took, in seconds",
                      {{run, format_number(summary.seconds)}}) +
        metric_family("geo_ssf_run_last_stopped_by_max_runtime",
                      "1 if --max-runtime ended the last run of the command while records were still due, else 0",
                      {{run, stopped ? "1" : "0"}});
    auto per_type = [&](const std::vector<TypeTotals>& types, const std::string& name, const std::string& help,
                        const std::function<std::string(const TypeTotals&)>& value) {
        std::vector<std::pair<std::string, std::string>> samples;
        for (const auto& t : types)
            samples.emplace_back(run + ",type=\"" + escape_label_value(t.replicable) + "\"", value(t));
        return metric_family(name, help, samples);
    };
    auto count = [](long long TypeTotals::*member) {
        return [member](const TypeTotals& t) { return std::to_string(t.*member); };
    };
    text += per_type(summary.types, "geo_ssf_run_last_claimed_records",
                     "Records of the type the last run of the command claimed", count(&TypeTotals::claimed)) +
            per_type(summary.types, "geo_ssf_run_last_succeeded_records",
                     "Records of the type the last run of the command worked with success",
                     count(&TypeTotals::succeeded)) +
            per_type(summary.types, "geo_ssf_run_last_failed_records",
                     "Records of the type that failed in the last run of the command", count(&TypeTotals::failed));
    if (const UpkeepSummary* upkeep = summary.upkeep) {
        const std::string prefix = std::string("geo_ssf_run_last_") + upkeep->metric;
        const std::string of = std::string(" (") + upkeep->text + ")";
        text += per_type(upkeep->types, prefix + "_claimed_records",
                         "Copies of the type the last run of the command claimed" + of, count(&TypeTotals::claimed)) +
                per_type(upkeep->types, prefix + "_succeeded_records",
                         "Copies of the type the last run of the command worked with success" + of,
                         count(&TypeTotals::succeeded)) +
                per_type(upkeep->types, prefix + "_failed_records",
                         "Copies of the type that failed in the last run of the command" + of,
                         count(&TypeTotals::failed)) +
                per_type(upkeep->types, prefix + "_duration_seconds",
                         "How long the last run of the command spent on the type" + of + ", in seconds",
                         [](const TypeTotals& t) { return format_number(t.seconds); });
    }
    return text;
}

std::string format_lag_histograms(const std::vector<replication_lags::LagHistogram>& histograms,
                                  const std::string& site, const std::string& command) {
    if (histograms.empty())
        return "";
    const std::string name = "geo_ssf_replication_lag_seconds";
    std::string text = "# HELP " + name + " " +
                       escape_help_text("How long after it was published on the primary each change was synced, and "
                                        "verified, on this secondary") +
                       "\n# TYPE " + name + " histogram\n";
    for (const auto& h : histograms) {
        std::string labels = "site=\"" + escape_label_value(site) + "\",command=\"" + escape_label_value(command) +
                             "\",type=\"" + escape_label_value(h.replicable) + "\",stage=\"" + h.stage + "\"";
        for (const auto& [bound, count] : h.buckets) {
            char le[32] = "+Inf";
            if (!std::isinf(bound))
                std::snprintf(le, sizeof le, "%g", bound);
            text += name + "_bucket{" + labels + ",le=\"" + le + "\"} " + std::to_string(count) + "\n";
        }
        text += name + "_sum{" + labels + "} " + format_number(h.sum) + "\n";
        text += name + "_count{" + labels + "} " + std::to_string(h.count) + "\n";
    }
    return text;
}

std::string lag_histograms_text(Site& site, const std::string& command, const std::vector<std::string>& stages) {
    if (site.is_primary())
        return "";
    std::vector<const Replicable*> types;
    for (const auto& r : site.config().replicables)
        if (r.replication_enabled)
            types.push_back(&r);
    return format_lag_histograms(replication_lags::read_lag_histograms(site.geo_database(), types, stages),
                                 site.config().site_name, command);
}

std::string format_follow_metrics(Site& site, const FollowReport& report) {
    const std::string& site_name = site.config().site_name;
    std::string text;
    if (report.last_pass_started)
        text += format_run_metrics({"follow", "succeeded", report.last_pass, nullptr, report.last_pass_seconds},
                                   site_name, *report.last_pass_started);
    std::string labels = "site=\"" + escape_label_value(site_name) + "\",command=\"follow\"";
    auto family = [&](const char* name, const char* type, const char* help) {
        text += std::string("# HELP ") + name + " " + escape_help_text(help) + "\n# TYPE " + name + " " + type + "\n";
    };
    family("geo_ssf_follow_start_timestamp_seconds", "gauge", "Unix time the follow mode started");
    text += "geo_ssf_follow_start_timestamp_seconds{" + labels + "} " + format_number(report.started) + "\n";
    family("geo_ssf_follow_events_total", "counter",
           "Events of the primary's log the follow mode read (primary) or replayed (secondary)");
    text += "geo_ssf_follow_events_total{" + labels + "} " + std::to_string(report.counters.events) + "\n";
    family("geo_ssf_follow_passes_total", "counter", "Passes over the due batches since the follow mode started");
    text += "geo_ssf_follow_passes_total{" + labels + "} " + std::to_string(report.counters.passes) + "\n";
    family("geo_ssf_follow_reconnects_total", "counter",
           "Sessions of the follow mode that an error ended (a lost database), each followed by a new one");
    text += "geo_ssf_follow_reconnects_total{" + labels + "} " + std::to_string(report.counters.reconnects) + "\n";
    family("geo_ssf_follow_records_total", "counter",
           "Records the follow mode worked, by type, work (sync, verification) and outcome (succeeded, failed)");
    for (const auto& [key, records] : report.counters.records)
        for (const auto& [outcome, count] :
             {std::pair{"succeeded", records.succeeded}, std::pair{"failed", records.failed}})
            text += "geo_ssf_follow_records_total{" + labels + ",type=\"" + escape_label_value(key.first) +
                    "\",work=\"" + key.second + "\",outcome=\"" + outcome + "\"} " + std::to_string(count) + "\n";
    return text + lag_histograms_text(site, "follow", {"synced", "verified"});
}

std::string format_run_summary(const RunSummary& summary, bool json) {
    if (json)
        return format_json(summary);
    Sums s = sum(summary.types);
    auto counts = [&](long long claimed, long long succeeded, long long failed) {
        return std::to_string(claimed) + " claimed, " + std::to_string(succeeded) + " " + summary.succeeded_word + ", " +
               std::to_string(failed) + " failed";
    };
    std::string line = std::string(summary.command) + ": ";
    if (summary.events)
        line += std::to_string(summary.events->processed) + " events, ";
    line += counts(s.claimed, s.succeeded, s.failed);
    for (const auto& t : summary.types)
        line += "; " + t.replicable + ": " + counts(t.claimed, t.succeeded, t.failed);
    if (const UpkeepSummary* upkeep = summary.upkeep) {
        // Only when it did something: a run with nothing to keep up says what it always said.
        Sums u = sum(upkeep->types);
        if (u.claimed > 0)
            line += std::string("; ") + upkeep->text + ": " + std::to_string(u.claimed) + " claimed, " +
                    std::to_string(u.succeeded) + " succeeded, " + std::to_string(u.failed) + " failed";
    }
    char took[32];
    std::snprintf(took, sizeof took, "; took %.2f s", summary.seconds);
    return line + took;
}

}  // namespace geo_ssf
