#include "exposition.hpp"
#include "report/run_summary.hpp"
#include "report/status_format.hpp"
#include "common/time_words.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <limits>

using namespace geo_ssf;
using geo_ssf::test::parse_exposition;

namespace {

Replicable make_type(const std::string& name, const std::string& plural, const std::string& title_plural) {
    Replicable r;
    r.name = name;
    r.plural = plural;
    r.title_plural = title_plural;
    r.file = "replicables/" + name + ".yml";
    return r;
}

const Replicable k_widgets = make_type("cool_widget", "cool_widgets", "Cool Widgets");
const Replicable k_gadgets = make_type("gadget", "gadgets", "Gadgets");

SiteStatus secondary_status() {
    SiteStatus s;
    s.site = "secondary \"eu\"\\west\nline";
    s.role = Role::secondary;
    s.last_event = EventMark{120, "2026-03-12T09:45:01.123456+00:00", 1773308701.123456, 180.0};
    s.cursor_last_event = EventMark{100, "2026-03-12T09:40:00+00:00", 1773308400.0, 481.0};
    TypeStatus widgets{&k_widgets, TypeOutcome::counted, "", {}, {}, {}, {}, {}, {}};
    auto& c = widgets.counts;
    c.count = c.registry = 1000;
    c.synced = 999;
    c.failed = 1;
    c.verification_total = 990;
    c.verified = 900;
    c.verification_failed = 0;
    c.registry_missing = 7;
    c.missing_on_primary = 2;
    c.pending = 0;
    c.oldest_pending_age = 0;
    c.sync_states = {{"pending", 0}, {"started", 0}, {"synced", 999}, {"failed", 1}};
    c.verification_states = {{"pending", 89}, {"started", 1}, {"succeeded", 900}, {"failed", 0}, {"disabled", 9}};
    widgets.walk = WalkProgress{4500, 3, "2026-03-12T09:30:00+00:00", 1773307800.0, 1081.0};
    s.types.push_back(widgets);
    return s;
}

}  // namespace

TEST_SUITE("status_format") {

TEST_CASE("status_format: GitLab's gauge names and field names") {
    CHECK(prometheus_gauge_name(status_field_name("cool_widgets", "count")) == "geo_cool_widgets");
    CHECK(prometheus_gauge_name("cool_widgets_checksum_total_count") == "geo_cool_widgets_checksum_total");
    CHECK(prometheus_gauge_name("cool_widgets_checksummed_count") == "geo_cool_widgets_checksummed");
    CHECK(prometheus_gauge_name("cool_widgets_verification_total_count") == "geo_cool_widgets_verification_total");
    CHECK(prometheus_gauge_name("cool_widgets_registry_count") == "geo_cool_widgets_registry");
    CHECK(prometheus_gauge_name("cool_widgets_registry_missing_count") == "geo_cool_widgets_registry_missing");
}

TEST_CASE("status_format: percentages are GitLab's, floored to one decimal in tables") {
    StatusCounts c;
    CHECK_FALSE(synced_percentage(c));
    c.registry = 0;
    c.synced = 0;
    c.verified = 0;
    CHECK(*synced_percentage(c) == 0.0);
    CHECK(*verified_percentage(c) == 0.0);
    c.registry = 3;
    c.synced = 2;
    c.verification_total = 1;
    c.verified = 1;
    CHECK(*synced_percentage(c) == doctest::Approx(66.6667));
    CHECK(*verified_percentage(c) == doctest::Approx(33.3333));  // of the registry, not of verification_total
    CHECK(format_percentage(66.6667) == "66.6%");
    CHECK(format_percentage(99.96) == "99.9%");
    CHECK(format_percentage(100.0) == "100.0%");
    CHECK(format_percentage(0.0) == "0.0%");
    CHECK(format_percentage(12.3) == "12.3%");
}

TEST_CASE("status_format: the Prometheus text is valid exposition format, escaped, with every gauge") {
    SiteStatus s = secondary_status();
    std::string text = format_status_prometheus(s, 1773308800.5, std::nullopt);
    CAPTURE(text);
    auto e = parse_exposition(text);
    CHECK(e.errors.empty());
    for (const auto& sample : e.samples) {
        CAPTURE(sample.name);
        CHECK(e.type.at(sample.name) == "gauge");
        CHECK(e.help.count(sample.name) == 1);
        CHECK(sample.labels.at("site") == s.site);  // escaped on the way out, the same on the way in
        // GitLab's names carry the type in the name; ours a type label, and a state label
        // where the quantity is split by state.
        if (sample.name.rfind("geo_ssf_", 0) != 0 || sample.name.rfind("geo_ssf_status_", 0) == 0)
            CHECK(sample.labels.size() == 1);
        else if (sample.name.find("_records") != std::string::npos && sample.labels.count("state"))
            CHECK(sample.labels.size() == 3);
        else
            CHECK(sample.labels.at("type") == "cool_widget");
    }
    // One metric per quantity, labelled by type and state, as node_exporter names its own.
    CHECK(e.values("geo_ssf_registry_records", "state") ==
          std::map<std::string, double>{{"failed", 1}, {"pending", 0}, {"started", 0}, {"synced", 999}});
    CHECK(e.value("geo_ssf_verification_records", {{"type", "cool_widget"}, {"state", "succeeded"}}) == 900);
    CHECK(e.values("geo_ssf_verification_records", "state").size() == 5);
    CHECK(e.value("geo_ssf_registry_missing_records", {{"type", "cool_widget"}}) == 7);
    CHECK(e.value("geo_ssf_missing_on_primary_records") == 2);
    CHECK(e.value("geo_ssf_sync_oldest_pending_age_seconds") == 0);
    CHECK(e.value("geo_ssf_last_full_pass_timestamp_seconds", {{"type", "cool_widget"}}) == 1773307800.0);
    CHECK_FALSE(e.has("geo_cool_widgets_pending"));  // new quantities only under the new names
    CHECK(e.value("geo_cool_widgets") == 1000);
    CHECK(e.value("geo_cool_widgets_registry") == 1000);
    CHECK(e.value("geo_cool_widgets_synced") == 999);
    CHECK(e.value("geo_cool_widgets_failed") == 1);
    CHECK(e.value("geo_cool_widgets_verification_total") == 990);
    CHECK(e.value("geo_cool_widgets_verified") == 900);
    CHECK(e.value("geo_cool_widgets_verification_failed") == 0);
    CHECK(e.value("geo_cool_widgets_registry_missing") == 7);
    CHECK(e.value("geo_cool_widgets_last_full_pass_timestamp_seconds") == 1773307800.0);
    CHECK(e.value("geo_last_event_id") == 120);
    CHECK(e.value("geo_cursor_last_event_id") == 100);
    CHECK(e.value("geo_cursor_last_event_timestamp") == 1773308400.0);
    CHECK(e.value("geo_ssf_status_last_success_timestamp_seconds") == doctest::Approx(1773308800.5));
    CHECK_FALSE(e.has("geo_cool_widgets_checksummed"));  // primary fields are not a secondary's
    CHECK(e.help.at("geo_cool_widgets_synced") == "Number of syncable Cool Widgets synced on secondary");
    CHECK(text.find("site=\"secondary \\\"eu\\\"\\\\west\\nline\"") != std::string::npos);
}

TEST_CASE("status_format: when the walk status trusts last went through every record, and where it stands") {
    SiteStatus s = secondary_status();
    CHECK(format_status_table(s).find("  Last full pass  2026-03-12 09:30:00+00:00 (18 minutes ago), the next one at id "
                                      "4500\n") != std::string::npos);
    CHECK(nlohmann::json::parse(format_status_json(s))["replicables"][0]["cool_widgets_last_full_pass_at"] ==
          "2026-03-12T09:30:00+00:00");
    s.types[0].walk = WalkProgress{120, 0, std::nullopt, std::nullopt, std::nullopt};
    CHECK(format_status_table(s).find("  Last full pass  none yet, the first one at id 120\n") != std::string::npos);
    CHECK(nlohmann::json::parse(format_status_json(s))["replicables"][0]["cool_widgets_last_full_pass_at"].is_null());
    CHECK_FALSE(parse_exposition(format_status_prometheus(s, 1, std::nullopt))
                    .has("geo_cool_widgets_last_full_pass_timestamp_seconds"));
    s.types[0].walk.reset();  // not read: nothing said
    CHECK(format_status_table(s).find("Last full pass") == std::string::npos);
}

TEST_CASE("status_format: the strict reader rejects what the format forbids") {
    CHECK(parse_exposition("# HELP a x\n# TYPE a gauge\na 1\n").errors.empty());
    CHECK_FALSE(parse_exposition("a 1").errors.empty());                                  // no final newline
    CHECK_FALSE(parse_exposition("1a 1\n").errors.empty());                               // metric name
    CHECK_FALSE(parse_exposition("a{1b=\"x\"} 1\n").errors.empty());                      // label name
    CHECK_FALSE(parse_exposition("a{b=\"x\\t\"} 1\n").errors.empty());                    // escape
    CHECK_FALSE(parse_exposition("a{b=\"x} 1\n").errors.empty());                         // unclosed value
    CHECK_FALSE(parse_exposition("a one\n").errors.empty());                              // value
    CHECK_FALSE(parse_exposition("# TYPE a gauge\n# TYPE a gauge\na 1\n").errors.empty()); // two TYPEs
    CHECK_FALSE(parse_exposition("a 1\n# TYPE a gauge\n").errors.empty());                // TYPE after samples
    CHECK_FALSE(parse_exposition("a 1\nb 1\na{x=\"y\"} 2\n").errors.empty());             // family split
    CHECK_FALSE(parse_exposition("a 1\na 2\n").errors.empty());                           // same series twice
    CHECK_FALSE(parse_exposition("# TYPE a gauge\na 1\n").errors.empty());                // gauge without HELP
    CHECK(parse_exposition("# a comment\na{b=\"q\\\"\\\\\\n\"} -1.5e3 1700000000000\n").errors.empty());
}

TEST_CASE("status_format: verification gauges are left out when verification is disabled") {
    SiteStatus s = secondary_status();
    s.types[0].counts.verification_total.reset();
    s.types[0].counts.verified.reset();
    s.types[0].counts.verification_failed.reset();
    auto e = parse_exposition(format_status_prometheus(s, 1, std::nullopt));
    CHECK(e.errors.empty());
    CHECK(e.has("geo_cool_widgets_synced"));
    CHECK_FALSE(e.has("geo_cool_widgets_verified"));
    CHECK_FALSE(e.has("geo_cool_widgets_verification_total"));
    CHECK_FALSE(e.has("geo_cool_widgets_verification_failed"));
    std::string table = format_status_table(s);
    CHECK(table.find("Verification") != std::string::npos);
    CHECK(table.find("disabled") != std::string::npos);
    auto json = nlohmann::json::parse(format_status_json(s));
    CHECK(json["replicables"][0]["cool_widgets_verified_count"].is_null());
    // GitLab computes the percentage from zero counts: 0, not nil (the count itself stays nil).
    CHECK(json["replicables"][0]["cool_widgets_verified_in_percentage"] == 0.0);
}

TEST_CASE("status_format: an unknown type keeps the last success time of the file it replaces") {
    SiteStatus s = secondary_status();
    s.types.push_back({&k_gadgets, TypeOutcome::unknown, "counting did not finish within status.timeout (5m)", {}, {}, {}, {}, {}, {}});
    CHECK_FALSE(s.complete());
    std::string earlier = format_status_prometheus(secondary_status(), 1700000000, std::nullopt);
    auto kept = parse_exposition(format_status_prometheus(s, 1800000000, earlier));
    CHECK(kept.errors.empty());
    CHECK(kept.value("geo_ssf_status_last_success_timestamp_seconds") == 1700000000);
    CHECK_FALSE(kept.has("geo_gadgets"));
    CHECK(kept.has("geo_cool_widgets"));
    // Nothing to keep: no last-success gauge at all rather than a wrong one.
    auto none = parse_exposition(format_status_prometheus(s, 1800000000, std::nullopt));
    CHECK(none.errors.empty());
    CHECK_FALSE(none.has("geo_ssf_status_last_success_timestamp_seconds"));
    // Another site's gauge in the old file is not ours.
    SiteStatus other = secondary_status();
    other.site = "elsewhere";
    auto foreign = parse_exposition(format_status_prometheus(s, 1800000000, format_status_prometheus(other, 5, {})));
    CHECK_FALSE(foreign.has("geo_ssf_status_last_success_timestamp_seconds"));
}

TEST_CASE("status_format: JSON has exactly GitLab's field names plus ours") {
    SiteStatus s = secondary_status();
    s.types.push_back({&k_gadgets, TypeOutcome::disabled, "replication is disabled in replicables/gadget.yml", {}, {}, {}, {}, {}, {}});
    auto json = nlohmann::json::parse(format_status_json(s));
    CHECK(json["site"] == s.site);
    CHECK(json["role"] == "secondary");
    CHECK(json["last_event_id"] == 120);
    CHECK(json["cursor_last_event_id"] == 100);
    CHECK(json["cursor_last_event_date"] == "2026-03-12T09:40:00+00:00");
    auto widgets = json["replicables"][0];
    std::vector<std::string> keys;
    for (auto it = widgets.begin(); it != widgets.end(); ++it)
        keys.push_back(it.key());
    std::sort(keys.begin(), keys.end());
    std::vector<std::string> expected = {
        "cool_widgets_count", "cool_widgets_deep_check_due_count", "cool_widgets_deep_check_failed_count",
        "cool_widgets_failed_count", "cool_widgets_housekeeping_failed_count",
        "cool_widgets_last_change_sync_lag_seconds", "cool_widgets_last_change_verification_lag_seconds",
        "cool_widgets_last_full_pass_at", "cool_widgets_missing_on_primary_count",
        "cool_widgets_oldest_pending_age_seconds", "cool_widgets_oldest_pending_at",
        "cool_widgets_oldest_unsynced_change_age_seconds", "cool_widgets_oldest_unverified_change_age_seconds",
        "cool_widgets_pending_count", "cool_widgets_registry_count", "cool_widgets_registry_missing_count",
        "cool_widgets_synced_count", "cool_widgets_synced_in_percentage", "cool_widgets_verification_failed_count",
        "cool_widgets_verification_total_count", "cool_widgets_verified_count", "cool_widgets_verified_in_percentage",
        "name", "status"};
    CHECK(keys == expected);
    CHECK(widgets["cool_widgets_synced_in_percentage"].get<double>() == doctest::Approx(99.9));
    CHECK(widgets["cool_widgets_verified_in_percentage"].get<double>() == doctest::Approx(90.0));
    CHECK(json["replicables"][1]["status"] == "disabled");
    CHECK(json["replicables"][1]["gadgets_count"].is_null());
    CHECK(json["replicables"][1]["reason"] == "replication is disabled in replicables/gadget.yml");
}

TEST_CASE("status_format: the table aligns numbers and marks failures") {
    SiteStatus s = secondary_status();
    s.site = "eu-west";
    std::string table = format_status_table(s);
    CAPTURE(table);
    CHECK(table.find("eu-west (secondary site)\n") == 0);
    CHECK(table.find("  Last event on the primary  120, 2026-03-12 09:45:01+00:00 (3 minutes ago)\n") !=
          std::string::npos);
    CHECK(table.find("  Last event processed       100, 2026-03-12 09:40:00+00:00 (8 minutes ago)\n") !=
          std::string::npos);
    CHECK(table.find("Cool Widgets (cool_widget)\n"
                     "  In the registry      1000\n"
                     "  Synced                999   99.9%\n"
                     "  Failed to sync          1   FAILED\n"
                     "  Pending                 0\n"
                     "  Available to verify   990\n"
                     "  Verified              900   90.0%\n"
                     "  Failed to verify        0\n"
                     "  No registry row yet     7\n"
                     "  Missing on primary      2\n"
                     "  Oldest pending  none: every record is synced or failed\n") != std::string::npos);

    SiteStatus p;
    p.site = "primary";
    p.types.push_back({&k_widgets, TypeOutcome::counted, "", {}, {}, {}, {}, {}, {}});
    p.types[0].counts.count = 10;
    p.types[0].counts.checksum_total = 8;
    p.types[0].counts.checksummed = 6;
    p.types[0].counts.checksum_failed = 2;
    p.types.push_back({&k_gadgets, TypeOutcome::unknown, "counting did not finish within status.timeout (1s)", {}, {}, {}, {}, {}, {}});
    std::string primary = format_status_table(p);
    CAPTURE(primary);
    CHECK(primary.find("  Last event  none yet\n") != std::string::npos);
    CHECK(primary.find("  Records                10\n"
                       "  Available to checksum   8\n"
                       "  Checksummed             6   75.0%\n"
                       "  Failed to checksum      2   FAILED\n") != std::string::npos);
    CHECK(primary.find("Gadgets (gadget)\n  unknown: counting did not finish within status.timeout (1s)\n") !=
          std::string::npos);
}

TEST_CASE("status_format: the records that wait for a sync and how long the oldest has waited, in every format") {
    SiteStatus s = secondary_status();
    s.site = "eu-west";
    auto& t = s.types[0];
    t.counts.pending = 133;
    t.counts.oldest_pending_age = 7260;
    t.oldest_pending_since = "2026-03-12T07:44:01.5+00:00";
    t.oldest_pending_unix_time = 1773301441.5;
    std::string table = format_status_table(s);
    CAPTURE(table);
    CHECK(table.find("  Pending               133\n") != std::string::npos);
    CHECK(table.find("  Oldest pending  2 hours, since 2026-03-12 07:44:01+00:00\n") != std::string::npos);
    auto json = nlohmann::json::parse(format_status_json(s))["replicables"][0];
    CHECK(json["cool_widgets_pending_count"] == 133);
    CHECK(json["cool_widgets_oldest_pending_age_seconds"] == 7260);
    CHECK(json["cool_widgets_oldest_pending_at"] == "2026-03-12T07:44:01.5+00:00");
    auto e = parse_exposition(format_status_prometheus(s, 1, std::nullopt));
    CHECK(e.errors.empty());
    CHECK(e.value("geo_ssf_sync_oldest_pending_age_seconds", {{"type", "cool_widget"}}) == 7260);

    // Unknown, and why; absent from the gauges.
    t.counts.oldest_pending_age.reset();
    t.unknown_fields.push_back(&StatusCounts::oldest_pending_age);
    t.reason = "cool_widget_registry has no sync-time triggers (run geo-ssf migrate)";
    t.outcome = TypeOutcome::partial;
    CHECK(format_status_table(s).find("  Oldest pending  unknown: cool_widget_registry has no sync-time triggers") !=
          std::string::npos);
    CHECK_FALSE(parse_exposition(format_status_prometheus(s, 1, std::nullopt)).has("geo_ssf_sync_oldest_pending_age_seconds"));

    // A primary's pending records are its state rows neither checksummed nor failed.
    SiteStatus p;
    p.site = "primary";
    p.types.push_back({&k_widgets, TypeOutcome::counted, "", {}, {}, {}, {}, {}, {}});
    p.types[0].counts.count = 10;
    p.types[0].counts.checksum_total = 8;
    p.types[0].counts.pending = 3;
    p.types[0].counts.verification_states = {{"pending", 2}, {"started", 1}, {"succeeded", 5}, {"failed", 0},
                                             {"disabled", 0}};
    CHECK(format_status_table(p).find("  Pending                 3\n") != std::string::npos);
    CHECK(nlohmann::json::parse(format_status_json(p))["replicables"][0]["cool_widgets_checksum_pending_count"] == 3);
    auto pe = parse_exposition(format_status_prometheus(p, 1, std::nullopt));
    CHECK(pe.value("geo_ssf_records", {{"type", "cool_widget"}}) == 10);
    CHECK(pe.value("geo_ssf_checksum_records", {{"state", "pending"}}) == 2);
    CHECK_FALSE(pe.has("geo_ssf_registry_records"));
}

TEST_CASE("status_format: a standby's replication lag, as GitLab's db_replication_lag_seconds, only for a standby") {
    SiteStatus s = secondary_status();
    s.site = "eu-west";
    // Not a standby: null in JSON, no line, no gauge.
    CHECK(nlohmann::json::parse(format_status_json(s))["db_replication_lag_seconds"].is_null());
    CHECK(format_status_table(s).find("replication lag") == std::string::npos);
    CHECK_FALSE(parse_exposition(format_status_prometheus(s, 1, std::nullopt)).has("geo_db_replication_lag_seconds"));

    s.main_is_standby = true;
    s.db_replication_lag_seconds = 125.25;
    auto json = nlohmann::json::parse(format_status_json(s));
    CHECK(json["db_replication_lag_seconds"] == 125.25);
    std::string table = format_status_table(s);
    CAPTURE(table);
    CHECK(table.find("  Last event processed       100, 2026-03-12 09:40:00+00:00 (8 minutes ago)\n"
                     "  Database replication lag   2 minutes\n") != std::string::npos);
    std::string text = format_status_prometheus(s, 1, std::nullopt);
    auto e = parse_exposition(text);
    CHECK(e.errors.empty());
    CHECK(e.value("geo_db_replication_lag_seconds") == 125.25);
    CHECK(e.help.at("geo_db_replication_lag_seconds") == "Database replication lag (seconds)");

    // A standby that has replayed nothing since it started: unknown, said so; no gauge.
    s.db_replication_lag_seconds.reset();
    CHECK(format_status_table(s).find("  Database replication lag   unknown: the standby has replayed no transaction since "
                                      "it started\n") != std::string::npos);
    CHECK(nlohmann::json::parse(format_status_json(s))["db_replication_lag_seconds"].is_null());
    CHECK_FALSE(parse_exposition(format_status_prometheus(s, 1, std::nullopt)).has("geo_db_replication_lag_seconds"));
}

TEST_CASE("time_words: spans, retries and timestamps in words") {
    CHECK(duration_in_words(0) == "0 seconds");
    CHECK(duration_in_words(1) == "1 second");
    CHECK(duration_in_words(59.9) == "59 seconds");
    CHECK(duration_in_words(60) == "1 minute");
    CHECK(duration_in_words(3599) == "59 minutes");
    CHECK(duration_in_words(7200) == "2 hours");
    CHECK(duration_in_words(86400 * 3 + 5) == "3 days");
    CHECK(retry_in_words(-5) == "due now");
    CHECK(retry_in_words(0.4) == "due now");
    CHECK(retry_in_words(185) == "in 3 minutes");
    CHECK(relative_time_in_words(-7200) == "2 hours ago");
    CHECK(relative_time_in_words(0.2) == "just now");
    CHECK(relative_time_in_words(90) == "in 1 minute");
    CHECK(readable_timestamp("2026-03-12T09:45:01.123456+00:00") == "2026-03-12 09:45:01+00:00");
    CHECK(readable_timestamp("2026-03-12 09:45:01+01") == "2026-03-12 09:45:01+01");
    CHECK(readable_timestamp("infinity") == "infinity");
}

TEST_CASE("status_format: the replication lag of a type in every format") {
    SiteStatus s = secondary_status();
    s.site = "eu";
    replication_lags::LagStatus lag;
    lag.last_sync_lag = 0.42;
    lag.last_verification_lag = 0.611;
    lag.last_synced_age = 180;
    s.types[0].lag = lag;
    std::string table = format_status_table(s);
    CHECK(table.find("  Last change            synced 0.42 s after it was published, verified 0.61 s after "
                     "(3 minutes ago)\n") != std::string::npos);
    CHECK(table.find("  Oldest change pending  none\n") != std::string::npos);
    nlohmann::json type = nlohmann::json::parse(format_status_json(s))["replicables"][0];
    CHECK(type["cool_widgets_last_change_sync_lag_seconds"] == 0.42);
    CHECK(type["cool_widgets_oldest_unverified_change_age_seconds"].is_null());
    std::string text = format_status_prometheus(s, 1773308881.0, std::nullopt);
    CHECK(parse_exposition(text).errors.empty());
    CHECK(text.find("geo_ssf_last_change_lag_seconds{site=\"eu\",type=\"cool_widget\",stage=\"verified\"} 0.611\n") !=
          std::string::npos);
    CHECK(text.find("geo_ssf_oldest_pending_change_age_seconds{site=\"eu\",type=\"cool_widget\","
                    "stage=\"synced\"} 0\n") != std::string::npos);

    s.types[0].lag = replication_lags::LagStatus{0.5, std::nullopt, 10, std::nullopt, 125};
    table = format_status_table(s);
    CHECK(table.find("synced 0.50 s after it was published, not verified yet (10 seconds ago)") != std::string::npos);
    CHECK(table.find("  Oldest change pending  published 2 minutes ago, synced, not verified yet\n") !=
          std::string::npos);
    s.types[0].lag = replication_lags::LagStatus{};
    s.types[0].lag->oldest_unsynced_age = 7200;
    CHECK(format_status_table(s).find("  Last change            none replicated yet\n") != std::string::npos);
    CHECK(format_status_table(s).find("published 2 hours ago, not synced yet") != std::string::npos);
}

TEST_CASE("run_summary: the lag histograms, cumulative, with every bucket") {
    replication_lags::LagHistogram h{"cool_widget", "verified", {}, 3.5, 3};
    for (double bound : replication_lags::k_buckets)
        h.buckets.emplace_back(bound, bound < 1 ? 1 : 3);
    h.buckets.emplace_back(std::numeric_limits<double>::infinity(), 3);
    std::string text = format_lag_histograms({h}, "eu", "follow");
    auto exposition = parse_exposition(text);
    CHECK(exposition.errors.empty());
    CHECK(exposition.type["geo_ssf_replication_lag_seconds"] == "histogram");
    CHECK(text.find("geo_ssf_replication_lag_seconds_bucket{site=\"eu\",command=\"follow\",type=\"cool_widget\","
                    "stage=\"verified\",le=\"0.25\"} 1\n") != std::string::npos);
    CHECK(text.find("le=\"86400\"} 3\n") != std::string::npos);
    CHECK(text.find("le=\"+Inf\"} 3\n") != std::string::npos);
    CHECK(text.find("geo_ssf_replication_lag_seconds_sum{site=\"eu\",command=\"follow\",type=\"cool_widget\","
                    "stage=\"verified\"} 3.500\n") != std::string::npos);
    CHECK(format_lag_histograms({}, "eu", "sync").empty());
}

}
