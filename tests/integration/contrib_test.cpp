// contrib/: the Prometheus alerting rules and the Grafana dashboard query only gauges that
// geo-ssf status and the metrics files of sync and verify runs really hold. A primary and a
// secondary with rows in every state, the secondary also reading a hot standby of the primary's
// database, and a real run of each, give the full set of gauge names; every metric name and
// every regular expression on __name__ in the
// rules and the dashboard must name at least one of them. (promtool checks the rules' syntax
// and behaviour, and systemd-analyze the units, in the contrib-* tests.)
#include "servers.hpp"
#include "two_sites_fixture.hpp"

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <regex>
#include <set>

using namespace geo_ssf::test;

namespace {

std::filesystem::path source_root() {
    const char* root = std::getenv("GEO_SSF_SOURCE_ROOT");
    REQUIRE_MESSAGE(root, "GEO_SSF_SOURCE_ROOT is not set (meson test sets it)");
    return root;
}

// Gauges other programs write beside geo-ssf's, which the rules may use.
const std::set<std::string> k_other_metrics = {"node_textfile_mtime_seconds"};

// Every gauge name both roles write, with every optional gauge present.
std::set<std::string> real_gauge_names() {
    TwoSitesFixture sites;
    sites.main_db.exec("INSERT INTO cool_widgets (id) SELECT generate_series(1, 12)");
    sites.main_db.exec("INSERT INTO cool_widget_states (cool_widget_id, verification_state) "
                       "SELECT g, g % 4 FROM generate_series(1, 10) g");
    sites.geo_db.exec("INSERT INTO cool_widget_registry (cool_widget_id, created_at, state, verification_state) "
                      "SELECT g, now(), g % 4, g % 5 FROM generate_series(1, 8) g");
    sites.main_db.exec("INSERT INTO geo_events (replicable_name, event_name, created_at) "
                       "SELECT 'cool_widget', 'created', now() FROM generate_series(1, 3)");
    sites.geo_db.exec("INSERT INTO event_log_states (event_id, created_at) VALUES (2, now() AT TIME ZONE 'utc')");
    std::set<std::string> names;
    for (bool primary : {true, false}) {
        std::vector<std::string> args = {"status", "--format", "prometheus"};
        RunResult r = primary ? sites.primary_run(args) : sites.secondary_run(args);
        REQUIRE_MESSAGE(r.status == 0, r.err);
        Exposition e = parse_exposition(r.out);
        REQUIRE_MESSAGE(e.errors.empty(), r.out);
        for (const auto& sample : e.samples)
            names.insert(sample.name);
    }
    // The metrics files of a real verify run on the primary and a real sync run on the secondary
    // (no record has a repository: the primary's checksums fail, the secondary syncs them as missing).
    std::string secondary = read_file(sites.secondary);
    secondary.replace(secondary.find("file:///nonexistent"), 19, "file://" + (sites.dir / "primary-repositories").string());
    write_file(sites.secondary, secondary);
    for (bool primary : {true, false}) {
        auto file = sites.dir / (primary ? "geo-ssf-verify.prom" : "geo-ssf-sync.prom");
        std::vector<std::string> args = {primary ? "verify" : "sync", "--metrics-file", file.string()};
        RunResult r = primary ? sites.primary_run(args) : sites.secondary_run(args);
        REQUIRE_MESSAGE(r.status <= 1, r.err);
        std::string text = read_file(file);
        Exposition e = parse_exposition(text);
        REQUIRE_MESSAGE(e.errors.empty(), text);
        for (const auto& sample : e.samples)
            names.insert(sample.name);
    }
    // A secondary whose databases.main is a hot standby of the primary's cluster also writes its
    // replication lag.
    StandbyServer standby;
    std::string config = read_file(sites.secondary);
    std::string main = "main: \"" + sites.main_db.conninfo() + "\"";
    REQUIRE(config.find(main) != std::string::npos);
    write_file(sites.secondary,
               config.replace(config.find(main), main.size(), "main: \"" + standby.conninfo(sites.main_db.name()) + "\""));
    RunResult r = sites.secondary_run({"status", "--format", "prometheus"});
    REQUIRE_MESSAGE(r.status == 0, r.err);
    for (const auto& sample : parse_exposition(r.out).samples)
        names.insert(sample.name);
    // The set the rules rely on; a gauge renamed in geo-ssf fails here and in the checks below.
    for (const char* name : {"geo_cool_widgets", "geo_cool_widgets_synced", "geo_cool_widgets_registry",
                             "geo_cool_widgets_failed", "geo_cool_widgets_verification_failed",
                             "geo_cool_widgets_checksum_failed", "geo_last_event_timestamp",
                             "geo_cursor_last_event_timestamp", "geo_ssf_status_last_success_timestamp_seconds",
                             "geo_ssf_run_last_start_timestamp_seconds", "geo_ssf_run_last_failed_records",
                             "geo_ssf_run_last_stopped_by_max_runtime",
                             "geo_db_replication_lag_seconds", "geo_ssf_oldest_pending_change_age_seconds",
                             "geo_ssf_replication_lag_seconds_bucket"})
        CHECK_MESSAGE(names.count(name), name);
    return names;
}

// Checks one PromQL expression against the real names: each bare metric name exists, and each
// regular expression matched against __name__ (as a selector or by label_replace) matches one.
void check_expression(const std::string& where, const std::string& expr, const std::set<std::string>& names) {
    CAPTURE(where);
    CAPTURE(expr);
    size_t used = 0;
    static const std::regex name_matcher(R"re(__name__\s*=~\s*"([^"]*)")re");
    static const std::regex name_replace(R"re("__name__"\s*,\s*"([^"]*)"\s*\))re");
    for (const std::regex* pattern : {&name_matcher, &name_replace}) {
        for (std::sregex_iterator it(expr.begin(), expr.end(), *pattern), end; it != end; ++it) {
            std::string text = (*it)[1];
            // PromQL strings escape backslashes; the patterns here use none, so one is a mistake.
            CHECK_MESSAGE(text.find('\\') == std::string::npos, text);
            std::regex re(text);
            bool matched = std::any_of(names.begin(), names.end(),
                                       [&](const std::string& n) { return std::regex_match(n, re); });
            CHECK_MESSAGE(matched, (std::string("no gauge of geo-ssf status matches ") + text));
            ++used;
        }
    }
    // Bare names, outside strings: strings hold label values and the patterns checked above.
    std::string bare = std::regex_replace(expr, std::regex(R"re("([^"\\]|\\.)*")re"), "\"\"");
    static const std::regex metric(R"(\b(geo_|node_)[a-zA-Z0-9_:]*)");
    for (std::sregex_iterator it(bare.begin(), bare.end(), metric), end; it != end; ++it) {
        std::string name = (*it)[0];
        CHECK_MESSAGE((names.count(name) || k_other_metrics.count(name)),
                      (name + " is not a gauge of geo-ssf status or of a run's metrics file"));
        ++used;
    }
    CHECK_MESSAGE(used > 0, "the expression uses no metric of geo-ssf status");
}

}  // namespace

TEST_SUITE("contrib") {

TEST_CASE("contrib: the alerting rules and the dashboard use only the gauges geo-ssf status and the runs write") {
    std::set<std::string> names = real_gauge_names();

    YAML::Node rules = YAML::LoadFile((source_root() / "contrib/prometheus/geo-ssf-alerts.yml").string());
    size_t alerts = 0;
    for (const auto& group : rules["groups"])
        for (const auto& rule : group["rules"]) {
            check_expression(rule["alert"].as<std::string>(), rule["expr"].as<std::string>(), names);
            ++alerts;
        }
    CHECK(alerts >= 5);

    std::ifstream in(source_root() / "contrib/grafana/geo-ssf-dashboard.json");
    REQUIRE(in);
    nlohmann::json dashboard = nlohmann::json::parse(in);  // throws, and fails, on bad JSON
    size_t targets = 0;
    for (const auto& panel : dashboard.at("panels")) {
        REQUIRE(panel.contains("targets"));
        for (const auto& target : panel.at("targets")) {
            check_expression(panel.at("title").get<std::string>(), target.at("expr").get<std::string>(), names);
            ++targets;
        }
    }
    CHECK(targets >= 5);
    for (const auto& variable : dashboard.at("templating").at("list"))
        if (variable.at("type") == "query")
            check_expression("variable " + variable.at("name").get<std::string>(),
                             variable.at("definition").get<std::string>(), names);
}

}  // TEST_SUITE
