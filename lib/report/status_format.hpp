// The three faces of `geo-ssf status`: a table for people, JSON for scripts, and the
// Prometheus text exposition format for node_exporter's textfile collector.
#pragma once

#include "report/status.hpp"

#include <optional>
#include <string>

namespace geo_ssf {

// One block per type, numbers aligned, percentages floored to one decimal, and "FAILED" after
// every failed count above zero.
std::string format_status_table(const SiteStatus& status);

// {"site", "role", GitLab's last_event_id, last_event_date, cursor_last_event_id (secondary),
// cursor_last_event_date (secondary), "replicables": [one object per type with "name",
// "status" (ok, unknown or disabled), "reason" unless ok, and GitLab's <plural>_... fields,
// null when unknown]}.
std::string format_status_json(const SiteStatus& status);

// GitLab's gauges with HELP and TYPE lines and a site label, one family per field; fields that
// are unknown (or, with verification disabled, nil in GitLab) are left out. Also
// geo_ssf_status_last_success_timestamp_seconds: NOW when STATUS is complete, else the value
// PREVIOUS (the file this output replaces) had for this site, else nothing.
std::string format_status_prometheus(const SiteStatus& status, double now, const std::optional<std::string>& previous);

// Prometheus text format escaping: label values (\\, \", \n) and HELP text (\\, \n).
std::string escape_label_value(const std::string& text);
std::string escape_help_text(const std::string& text);

// A sample's value: whole numbers without a fraction, others with three decimals.
std::string format_number(double value);

// "97.0%": floored, not rounded, so 99.96% never shows as 100.0%.
std::string format_percentage(double value);

}  // namespace geo_ssf
