// contrib/: the Prometheus alerting rules and the Grafana dashboard query only gauges that
// geo-ssf status and the metrics files of sync and verify runs really hold. A primary and a
// secondary with rows in every state, the secondary also reading a hot standby of the primary's
// database, and a real run of each, give the full set of gauge names; every metric name and
// every regular expression on __name__ in the
// rules and the dashboard must name at least one of them. (promtool checks the rules' syntax
// and behaviour, and systemd-analyze the units, in the contrib-* tests.)
#include "servers.hpp"
#include "two_sites_fixture.hpp"

#include <sys/stat.h>

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <regex>
#include <set>
#include <string>

using namespace geo_ssf::test;

namespace {

std::filesystem::path source_root() {
    const char* root = std::getenv("GEO_SSF_SOURCE_ROOT");
    REQUIRE_MESSAGE(root, "GEO_SSF_SOURCE_ROOT is not set (meson test sets it)");
    return root;
}

// Gauges other programs write beside geo-ssf's, which the rules may use.
const std::set<std::string> k_other_metrics = {"node_textfile_mtime_seconds"};

// Every sample both roles write, with every optional gauge present, by series (name and labels);
// a series written twice keeps its last value.
std::map<std::string, Sample> real_samples() {
    TwoSitesFixture sites;
    sites.main_db.exec("INSERT INTO cool_widgets (id) SELECT generate_series(1, 12)");
    sites.main_db.exec("INSERT INTO cool_widget_states (cool_widget_id, verification_state) "
                       "SELECT g, g % 4 FROM generate_series(1, 10) g");
    sites.geo_db.exec("INSERT INTO cool_widget_registry (cool_widget_id, created_at, state, verification_state, "
                      "missing_on_primary) SELECT g, now(), g % 4, g % 5, g = 6 FROM generate_series(1, 8) g");
    sites.main_db.exec("INSERT INTO geo_events (replicable_name, event_name, created_at) "
                       "SELECT 'cool_widget', 'created', now() FROM generate_series(1, 3)");
    sites.geo_db.exec("INSERT INTO event_log_states (event_id, created_at) VALUES (2, now() AT TIME ZONE 'utc')");
    std::map<std::string, Sample> samples;
    auto add = [&](const std::string& text) {
        Exposition e = parse_exposition(text);
        REQUIRE_MESSAGE(e.errors.empty(), text);
        for (const auto& sample : e.samples) {
            std::string key = sample.name;
            for (const auto& [label, value] : sample.labels)
                key += "," + label + "=" + value;
            samples[key] = sample;
        }
    };
    for (bool primary : {true, false}) {
        std::vector<std::string> args = {"status", "--format", "prometheus"};
        RunResult r = primary ? sites.primary_run(args) : sites.secondary_run(args);
        REQUIRE_MESSAGE(r.status <= 1, r.err);  // 1: some records failed, as seeded
        add(r.out);
    }
    // The metrics files of a real verify run on the primary and a real sync run on the secondary
    // (no record has a repository: the primary's checksums fail, the secondary syncs them as missing).
    for (bool primary : {true, false}) {
        auto file = sites.dir / (primary ? "geo-ssf-verify.prom" : "geo-ssf-sync.prom");
        std::vector<std::string> args = {primary ? "verify" : "sync", "--metrics-file", file.string()};
        RunResult r = primary ? sites.primary_run(args) : sites.secondary_run(args);
        REQUIRE_MESSAGE(r.status <= 1, r.err);
        add(read_file(file));
    }
    // After the runs, status again: the walks have gone through (the last full pass).
    for (bool primary : {true, false}) {
        RunResult r = primary ? sites.primary_run({"status", "--format", "prometheus"})
                              : sites.secondary_run({"status", "--format", "prometheus"});
        REQUIRE_MESSAGE(r.status <= 1, r.err);
        add(r.out);
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
    REQUIRE_MESSAGE(r.status <= 1, r.err);
    add(r.out);
    std::set<std::string> names;
    for (const auto& [key, sample] : samples)
        names.insert(sample.name);
    // The set the rules rely on; a gauge renamed in geo-ssf fails here and in the checks below.
    for (const char* name : {"geo_ssf_records", "geo_ssf_registry_records", "geo_ssf_verification_records",
                             "geo_ssf_checksum_records", "geo_ssf_registry_missing_records",
                             "geo_ssf_missing_on_primary_records", "geo_ssf_sync_oldest_pending_age_seconds",
                             "geo_ssf_last_full_pass_timestamp_seconds", "geo_last_event_timestamp",
                             "geo_cursor_last_event_timestamp", "geo_ssf_status_last_success_timestamp_seconds",
                             "geo_ssf_run_last_start_timestamp_seconds", "geo_ssf_run_last_failed_records",
                             "geo_ssf_run_last_stopped_by_max_runtime", "geo_db_replication_lag_seconds",
                             "geo_ssf_oldest_pending_change_age_seconds", "geo_ssf_replication_lag_seconds_bucket"})
        CHECK_MESSAGE(names.count(name), name);
    return samples;
}

std::set<std::string> names_of(const std::map<std::string, Sample>& samples) {
    std::set<std::string> names;
    for (const auto& [key, sample] : samples)
        names.insert(sample.name);
    return names;
}

// Checks one PromQL expression against the real names: it selects metrics by name, one metric
// per quantity (no regular expression on __name__), and each name exists. Returns the names.
std::set<std::string> check_expression(const std::string& where, const std::string& expr,
                                       const std::set<std::string>& names) {
    CAPTURE(where);
    CAPTURE(expr);
    CHECK_MESSAGE(expr.find("__name__") == std::string::npos, "a metric selected by a pattern on its name");
    // Bare names, outside strings: strings hold label values.
    std::string bare = std::regex_replace(expr, std::regex(R"re("([^"\\]|\\.)*")re"), "\"\"");
    static const std::regex metric(R"(\b(geo_|node_)[a-zA-Z0-9_:]*)");
    std::set<std::string> used;
    for (std::sregex_iterator it(bare.begin(), bare.end(), metric), end; it != end; ++it) {
        std::string name = (*it)[0];
        CHECK_MESSAGE((names.count(name) || k_other_metrics.count(name)),
                      (name + " is not a gauge of geo-ssf status or of a run's metrics file"));
        used.insert(name);
    }
    CHECK_MESSAGE(!used.empty(), "the expression uses no metric of geo-ssf status");
    return used;
}

// A time (in seconds) or a point in time, not a count: node_exporter's _seconds, and GitLab's
// event timestamps.
bool is_time(const std::string& name) {
    return name.ends_with("_seconds") || name.ends_with("_timestamp");
}

// A series selector for NAME{LABELS} in PromQL (and promtool's input series), with the
// instance and job labels a scrape adds.
std::string series_selector(const Sample& sample) {
    std::string out = sample.name + "{instance=\"host:9100\", job=\"node\"";
    for (const auto& [label, value] : sample.labels) {
        std::string escaped;
        for (char c : value)
            escaped += c == '"' || c == '\\' ? std::string("\\") + c : std::string(1, c);
        out += ", " + label + "=\"" + escaped + "\"";
    }
    return out + "}";
}

// YAML's single-quoted scalar of TEXT.
std::string yaml_quoted(const std::string& text) {
    std::string out = "'";
    for (char c : text)
        out += c == '\'' ? "''" : std::string(1, c);
    return out + "'";
}

}  // namespace

TEST_SUITE("contrib") {

TEST_CASE("contrib: the alerting rules and the dashboard use only the gauges geo-ssf status and the runs write") {
    std::map<std::string, Sample> samples = real_samples();
    std::set<std::string> names = names_of(samples);

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

// Each panel's query, run by promtool on the real samples, gives values of the panel's unit: a
// count of records (short), a percentage, or seconds; never a timestamp plotted as a count.
TEST_CASE("contrib: every panel of the dashboard shows what its unit says, on geo-ssf's real output") {
    std::map<std::string, Sample> samples = real_samples();
    std::set<std::string> names = names_of(samples);
    std::ifstream in(source_root() / "contrib/grafana/geo-ssf-dashboard.json");
    REQUIRE(in);
    nlohmann::json dashboard = nlohmann::json::parse(in);

    // Five minutes of the same values, then each query at the end, with every site selected.
    std::string test = "evaluation_interval: 1m\ntests:\n  - interval: 1m\n    input_series:\n";
    for (const auto& [key, sample] : samples) {
        std::ostringstream value;
        value.precision(17);
        value << sample.value;
        test += "      - series: " + yaml_quoted(series_selector(sample)) + "\n        values: '" + value.str() + "x5'\n";
    }
    test += "    promql_expr_test:\n";
    size_t panels = 0;
    for (const auto& panel : dashboard.at("panels")) {
        std::string title = panel.at("title").get<std::string>();
        CAPTURE(title);
        std::string unit = panel.at("fieldConfig").at("defaults").value("unit", "");
        for (const auto& target : panel.at("targets")) {
            std::string expr = target.at("expr").get<std::string>();
            for (size_t at; (at = expr.find("$site")) != std::string::npos;)
                expr.replace(at, 5, ".*");
            std::set<std::string> used = check_expression(title, expr, names);
            bool times = std::all_of(used.begin(), used.end(), is_time);
            bool counts = std::none_of(used.begin(), used.end(), is_time);
            // What the values must be, as a PromQL expression of the query's result Q that is 1
            // when they are: some values at all, and within the unit's bounds.
            std::string condition = "(count(Q) > bool 0)";
            if (unit == "s") {
                CHECK_MESSAGE(times, "a panel in seconds plots something that is not a time");
            } else if (unit == "percent") {
                CHECK_MESSAGE(counts, "a percentage of something that is not a count");
                condition += " * (min(Q) >= bool 0) * (max(Q) <= bool 100)";
            } else {
                CHECK_MESSAGE(unit == "short", "a panel with no unit (s, percent, short)");
                CHECK_MESSAGE(counts, "a panel of counts plots a time");
                // The seeds have a dozen records: a count is a small whole number.
                condition += " * (min(Q) >= bool 0) * (max(Q) <= bool 1000) * ((count(Q != floor(Q)) or vector(0)) == bool 0)";
            }
            std::string query;
            for (char c : condition)
                query += c == 'Q' ? "(" + expr + ")" : std::string(1, c);
            test += "      - expr: " + yaml_quoted(query) + "\n        eval_time: 5m\n        exp_samples:\n" +
                    "          - labels: '{}'\n            value: 1\n";
            ++panels;
        }
    }
    CHECK(panels >= 10);
    TempDir dir;
    write_file(dir.path() / "panels.test.yml", test);
    RunResult r = run_program("promtool", {"test", "rules", (dir.path() / "panels.test.yml").string()});
    CAPTURE(test);
    CHECK_MESSAGE(r.status == 0, (r.out + r.err));
}

// The status unit runs as geo-ssf and may write only to its ReadWritePaths; node_exporter's
// folder belongs to root. The package's tmpfiles.d file, applied under a root of the test's
// (with geo-ssf as nobody), gives the unit its folder and node_exporter a link to the file.
TEST_CASE("contrib: the tmpfiles.d file makes the status unit's folder, writable by geo-ssf, linked into node_exporter's") {
    std::ifstream unit_in(source_root() / "contrib/systemd/geo-ssf-status.service.in");
    REQUIRE(unit_in);
    std::string unit((std::istreambuf_iterator<char>(unit_in)), std::istreambuf_iterator<char>());
    std::smatch m;
    REQUIRE(std::regex_search(unit, m, std::regex(R"(\nExecStart=[^\n]* --output (\S+)\n)")));
    std::filesystem::path output = m[1].str();
    REQUIRE(std::regex_search(unit, m, std::regex(R"(\nReadWritePaths=(\S+)\n)")));
    CHECK(output.parent_path() == std::filesystem::path(m[1].str()));
    CHECK(unit.find("\nUser=geo-ssf\n") != std::string::npos);

    TempDir root;
    std::filesystem::create_directories(root.path() / "etc");
    write_file(root.path() / "etc/passwd", "root:x:0:0::/root:/bin/sh\ngeo-ssf:x:65534:65534::/var/lib/geo-ssf:/usr/sbin/nologin\n");
    write_file(root.path() / "etc/group", "root:x:0:\ngeo-ssf:x:65534:\n");
    RunResult made = run_program("systemd-tmpfiles", {"--root=" + root.path().string(), "--create",
                                                      (source_root() / "contrib/tmpfiles/geo-ssf.conf").string()});
    CAPTURE(made.err);
    REQUIRE(made.status == 0);
    std::filesystem::path folder = root.path() / output.parent_path().relative_path();
    struct stat info {};
    REQUIRE(::stat(folder.c_str(), &info) == 0);
    CHECK(info.st_uid == 65534);
    CHECK((info.st_mode & 07777) == 0755);
    std::filesystem::path collector = root.path() / "var/lib/prometheus/node-exporter";
    REQUIRE(::stat(collector.c_str(), &info) == 0);
    CHECK(info.st_uid == 0);  // as Debian's prometheus-node-exporter ships it
    CHECK(std::filesystem::is_symlink(collector / "geo-ssf.prom"));

    // status as the unit's user: into node_exporter's folder it cannot write; into its own it can,
    // and the collector reads the file through the link.
    TwoSitesFixture sites;
    open_to_others(sites.dir.path());
    open_to_others(root.path());
    RunResult refused = run_geo_ssf_as_nobody({"-c", sites.primary.string(), "-q", "status", "--format", "prometheus",
                                               "--output", (collector / "geo-ssf-direct.prom").string()});
    CHECK(refused.status == 5);
    RunResult written = run_geo_ssf_as_nobody({"-c", sites.primary.string(), "-q", "status", "--format", "prometheus",
                                               "--output", (folder / output.filename()).string()});
    CAPTURE(written.err);
    CHECK(written.status == 0);
    std::string read = read_file(collector / "geo-ssf.prom");
    CHECK(parse_exposition(read).errors.empty());
    CHECK(read.find("geo_ssf_status_last_success_timestamp_seconds{") != std::string::npos);
    REQUIRE(::stat((collector / "geo-ssf.prom").c_str(), &info) == 0);
    CHECK((info.st_mode & 0004) != 0);  // node_exporter runs as a user of its own
}

}  // TEST_SUITE
