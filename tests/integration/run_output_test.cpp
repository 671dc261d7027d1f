// What operators see of sync, verify, resync and reverify: the progress line on a terminal (and
// only there), the node_exporter metrics file of a run, and --now with --failed.
#include "secondary_fixture.hpp"
#include "exposition.hpp"
#include "servers.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <sstream>

using namespace geo_ssf::test;

namespace {

// Runs geo-ssf with ARGS under script(1), so that its stdout and stderr are a terminal; OUT is
// everything the terminal was sent.
RunResult run_on_terminal(const std::vector<std::string>& args) {
    const char* binary = std::getenv("GEO_SSF_BINARY");
    REQUIRE_MESSAGE(binary, "GEO_SSF_BINARY is not set (meson test sets it)");
    std::string command = std::string("'") + binary + "'";
    for (const auto& arg : args)
        command += " '" + arg + "'";
    return run_program("script", {"-qec", command, "/dev/null"});
}

// The lines of a terminal's output, without the carriage return the terminal adds before each newline.
std::vector<std::string> terminal_lines(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r')
            line.pop_back();
        lines.push_back(line);
    }
    return lines;
}

double unix_now() {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// The metrics file FILE, parsed; fails the test when it is not valid exposition text.
Exposition read_metrics(const std::filesystem::path& file) {
    std::string text = read_file(file);
    Exposition metrics = parse_exposition(text);
    CAPTURE(text);
    REQUIRE(metrics.errors.empty());
    return metrics;
}

// The labels every sample of a run's metrics carries: the run's own families, and the histogram
// of the replication lag of the changes a sync replicated.
void check_run_labels(const Exposition& metrics, const std::string& site, const std::string& command) {
    for (const auto& sample : metrics.samples) {
        CAPTURE(sample.name);
        CHECK(sample.labels.at("site") == site);
        CHECK(sample.labels.at("command") == command);
        CHECK((sample.name.rfind("geo_ssf_run_last_", 0) == 0 ||
               sample.name.rfind("geo_ssf_replication_lag_seconds_", 0) == 0));
    }
}

}  // namespace

TEST_SUITE("run_output") {

TEST_CASE("run output: a progress line on a terminal only, cleared before each warning") {
    PrimaryFixture site;
    site.add_records(1, 4);
    std::filesystem::remove_all(site.repository(4));
    std::string config = site.config.string();

    RunResult verify = run_on_terminal({"-c", config, "verify"});
    CAPTURE(verify.out);
    CHECK(verify.status == 1);
    CHECK(verify.out.find("verify cool_widget: 4/4 (100%)") != std::string::npos);
    size_t warnings = 0;
    for (const auto& line : terminal_lines(verify.out)) {
        if (line.find("cool_widget 4: Error during verification") == std::string::npos)
            continue;
        // What the terminal shows of the line: what follows its last carriage return.
        std::string shown = line.substr(line.rfind('\r') == std::string::npos ? 0 : line.rfind('\r') + 1);
        CHECK(shown.rfind("\033[K20", 0) == 0);  // the progress line was cleared first
        ++warnings;
    }
    CHECK(warnings == 1);

    RunResult marking = run_on_terminal({"-c", config, "reverify", "cool_widget", "--all"});
    CHECK(marking.status == 0);
    CHECK(marking.out.find("marking cool_widget: 4/4 (100%)") != std::string::npos);

    for (std::vector<std::string> args : {std::vector<std::string>{"-c", config, "-q", "verify"},
                                          std::vector<std::string>{"-c", config, "verify", "--format", "json"},
                                          std::vector<std::string>{"-c", config, "--log-format", "json", "verify"}}) {
        CAPTURE(args[2]);
        REQUIRE(site.run({"reverify", "cool_widget", "--all"}).status == 0);
        RunResult quiet = run_on_terminal(args);
        CHECK(quiet.status == 1);
        if (args[2] != "-q")  // which logs errors only
            CHECK(quiet.out.find("Error during verification") != std::string::npos);
        CHECK(quiet.out.find("verify cool_widget:") == std::string::npos);
        CHECK(quiet.out.find('\r' + std::string("\033[K")) == std::string::npos);
    }
    // Not a terminal: cron.
    REQUIRE(site.run({"reverify", "cool_widget", "--all"}).status == 0);
    RunResult cron = site.run({"verify"});
    CHECK(cron.status == 1);
    CHECK(cron.err.find("Error during verification") != std::string::npos);
    CHECK(cron.err.find("verify cool_widget:") == std::string::npos);
    CHECK(cron.err.find('\r') == std::string::npos);
}

TEST_CASE("run output: sync writes its metrics file, with failures and the --max-runtime stop") {
    SecondaryFixture site;
    site.add_records(1, 2);
    REQUIRE(site.run({"verify"}).status == 0);
    auto file = site.dir / "geo-ssf-sync.prom";

    double before = unix_now();
    RunResult sync = site.secondary({"sync", "--metrics-file", file.string()});
    double after = unix_now();
    CAPTURE(sync.err);
    REQUIRE(sync.status == 0);
    Exposition metrics = read_metrics(file);
    check_run_labels(metrics, "secondary", "sync");
    CHECK(metrics.value("geo_ssf_run_last_start_timestamp_seconds") >= std::floor(before));
    CHECK(metrics.value("geo_ssf_run_last_start_timestamp_seconds") <= after);
    CHECK(metrics.value("geo_ssf_run_last_duration_seconds") >= 0);
    CHECK(metrics.value("geo_ssf_run_last_duration_seconds") <= after - before);
    CHECK(metrics.value("geo_ssf_run_last_stopped_by_max_runtime") == 0);
    CHECK(metrics.value("geo_ssf_run_last_claimed_records") == 2);
    CHECK(metrics.value("geo_ssf_run_last_succeeded_records") == 2);
    CHECK(metrics.value("geo_ssf_run_last_failed_records") == 0);
    for (const auto& sample : metrics.samples)
        if (sample.name.ends_with("_records"))
            CHECK(sample.labels.at("type") == "cool_widget");
    CHECK(metrics.type.at("geo_ssf_run_last_failed_records") == "gauge");
    CHECK(!metrics.help.at("geo_ssf_run_last_failed_records").empty());

    // A primary that never answers: the first fetch stalls for 2s, longer than the run may take,
    // so the run fails it and stops with the second record still due.
    SilentServer silent;
    std::string text = read_file(site.secondary_config);
    auto at = text.find("storage:");
    write_file(site.secondary_config, text.substr(0, at) + "storage:\n  root: secondary-repositories\n"
                                          "  primary_url: \"https://127.0.0.1:" + std::to_string(silent.port()) +
                                          "/repositories\"\n  fetch_stall_timeout: 2s\n");
    REQUIRE(site.secondary({"resync", "cool_widget", "--all"}).status == 0);
    RunOptions direct;
    for (const char* name : {"https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"})
        direct.env[name] = "";
    sync = site.secondary({"sync", "--jobs", "1", "--batch-size", "1", "--max-runtime", "1s", "--metrics-file",
                           file.string()},
                          direct);
    CHECK(sync.status == 1);
    metrics = read_metrics(file);
    CHECK(metrics.value("geo_ssf_run_last_stopped_by_max_runtime") == 1);
    CHECK(metrics.value("geo_ssf_run_last_claimed_records") == 1);
    CHECK(metrics.value("geo_ssf_run_last_succeeded_records") == 0);
    CHECK(metrics.value("geo_ssf_run_last_failed_records") == 1);
    CHECK(metrics.value("geo_ssf_run_last_duration_seconds") >= 1);
    CHECK(site.registry_count("state = 0") == 1);  // left for the next run
}

TEST_CASE("run output: verify writes the metrics file verification.metrics_file names; --metrics-file overrides it") {
    PrimaryFixture site("verification:\n  metrics_file: metrics/verify.prom\n");
    std::filesystem::create_directories(site.dir / "metrics");
    site.add_records(1, 3);
    std::filesystem::remove_all(site.repository(3));

    RunResult verify = site.run({"verify"});
    CHECK(verify.status == 1);
    Exposition metrics = read_metrics(site.dir / "metrics" / "verify.prom");
    check_run_labels(metrics, "primary-site", "verify");
    CHECK(metrics.value("geo_ssf_run_last_stopped_by_max_runtime") == 0);
    CHECK(metrics.value("geo_ssf_run_last_claimed_records") == 3);
    CHECK(metrics.value("geo_ssf_run_last_succeeded_records") == 2);
    CHECK(metrics.value("geo_ssf_run_last_failed_records") == 1);

    REQUIRE(site.run({"reverify", "cool_widget", "1"}).status == 0);
    auto other = site.dir / "other.prom";
    REQUIRE(site.run({"verify", "--metrics-file", other.string()}).status == 0);
    Exposition again = read_metrics(other);
    CHECK(again.value("geo_ssf_run_last_claimed_records") == 1);
    CHECK(again.value("geo_ssf_run_last_succeeded_records") == 1);
    CHECK(read_metrics(site.dir / "metrics" / "verify.prom").value("geo_ssf_run_last_claimed_records") == 3);

    RunResult unwritable = site.run({"verify", "--metrics-file", (site.dir / "no-such-folder" / "x.prom").string()});
    CHECK(unwritable.status == 5);
    CHECK(unwritable.err.rfind("geo-ssf: error: ", 0) == 0);
}

TEST_CASE("run output: resync --failed --now syncs --limit failed records now and leaves the others to the next run") {
    SecondaryFixture site;
    site.add_records(1, 3);
    REQUIRE(site.run({"verify"}).status == 0);
    std::string good = read_file(site.secondary_config);
    std::string bad = good;
    bad.replace(bad.find("file://"), 7, "https://127.0.0.1:1/");
    write_file(site.secondary_config, bad);
    REQUIRE(site.secondary({"sync"}).status == 1);
    REQUIRE(site.registry_count("state = 3") == 3);
    std::string retries = site.geo_db.scalar("SELECT string_agg(retry_at::text, ',' ORDER BY id) FROM "
                                             "cool_widget_registry WHERE cool_widget_id IN (2, 3)");
    write_file(site.secondary_config, good);

    CHECK(site.secondary({"resync", "cool_widget", "--failed", "--now", "--dry-run"}).out ==
          "would sync 3 cool_widget record(s) now\n");
    RunResult now = site.secondary({"resync", "cool_widget", "--failed", "--now", "--limit", "1"});
    CAPTURE(now.err);
    CHECK(now.status == 0);
    CHECK(now.out == "1 synced\n");
    CHECK(site.registry(1, "state") == "2");
    CHECK(site.registry_count("state = 3") == 2);
    CHECK(site.geo_db.scalar("SELECT string_agg(retry_at::text, ',' ORDER BY id) FROM cool_widget_registry WHERE "
                             "cool_widget_id IN (2, 3)") == retries);
    // As without --now: the next sync takes them when their retry is due.
    RunResult sync = site.secondary({"sync", "--format", "json"});
    CHECK(nlohmann::json::parse(sync.out)["claimed"] == 0);
    site.geo_db.exec("UPDATE cool_widget_registry SET retry_at = now() - interval '1 second' WHERE state = 3");
    sync = site.secondary({"sync", "--format", "json"});
    CHECK(nlohmann::json::parse(sync.out)["synced"] == 2);
    CHECK(site.secondary({"resync", "cool_widget", "--failed", "--now"}).out == "no cool_widget record(s) to sync\n");
}

TEST_CASE("run output: resync and reverify --format json print one object at the end") {
    SecondaryFixture site;
    site.add_records(1, 3);
    REQUIRE(site.run({"verify"}).status == 0);
    REQUIRE(site.secondary({"sync"}).status == 0);
    std::filesystem::remove_all(site.repository(2));
    // A row a run holds: not claimed, as another run's.
    site.geo_db.exec("UPDATE cool_widget_registry SET state = 1 WHERE cool_widget_id = 3");

    RunResult now = site.secondary({"resync", "cool_widget", "1", "2", "3", "--now", "--format", "json"});
    CAPTURE(now.out);
    CAPTURE(now.err);
    CHECK(now.status == 1);
    nlohmann::json synced = nlohmann::json::parse(now.out);
    CHECK(synced["replicable"] == "cool_widget");
    CHECK(synced["now"] == true);
    CHECK(synced["dry_run"] == false);
    CHECK(synced["selected"] == 3);
    CHECK(synced["succeeded"] == 2);
    CHECK(synced["failed"] == 1);
    CHECK(synced["deferred"] == 0);
    REQUIRE(synced["records"].size() == 3);
    CHECK(synced["records"][0] ==
          nlohmann::json::parse(R"({"id": 1, "outcome": "succeeded", "detail": "", "concerns": null})"));
    CHECK(synced["records"][1]["outcome"] == "succeeded");
    CHECK(synced["records"][1]["detail"] == "missing on the primary");
    CHECK(synced["records"][2] == nlohmann::json::parse(R"({"id": 3, "outcome": "failed",
        "detail": "another run is syncing this record right now", "concerns": null})"));

    RunResult verified = site.secondary({"reverify", "cool_widget", "1", "3", "--now", "--format", "json"});
    CAPTURE(verified.out);
    CHECK(verified.status == 1);
    nlohmann::json checksummed = nlohmann::json::parse(verified.out);
    CHECK(checksummed["succeeded"] == 1);
    CHECK(checksummed["failed"] == 1);
    CHECK(checksummed["records"][0]["outcome"] == "succeeded");
    CHECK(checksummed["records"][0]["detail"] == site.registry(1, "encode(verification_checksum, 'hex')"));
    CHECK(checksummed["records"][1]["detail"] == "not synced yet, or another run is verifying it right now");

    // --dry-run with --now: how many would be worked, no records; without --now: the count marked.
    nlohmann::json dry =
        nlohmann::json::parse(site.secondary({"resync", "cool_widget", "1", "2", "--now", "--dry-run", "--format", "json"}).out);
    CHECK(dry == nlohmann::json::parse(R"({"replicable": "cool_widget", "now": true, "dry_run": true, "selected": 2,
        "succeeded": 0, "failed": 0, "deferred": 0, "records": []})"));
    RunResult marked = site.secondary({"resync", "cool_widget", "--all", "--format", "json"});
    CHECK(marked.status == 0);
    CHECK(nlohmann::json::parse(marked.out) ==
          nlohmann::json::parse(R"({"replicable": "cool_widget", "now": false, "dry_run": false, "marked": 3})"));
    CHECK(nlohmann::json::parse(site.secondary({"reverify", "cool_widget", "--failed", "--format", "json"}).out)["marked"] ==
          0);
    RunResult none = site.secondary({"resync", "cool_widget", "--failed", "--now", "--format", "json"});
    CHECK(none.status == 0);
    CHECK(nlohmann::json::parse(none.out)["selected"] == 0);
    // Ids from standard input, in batches: still one object.
    RunOptions ids;
    ids.input = "1\n3\n";
    nlohmann::json piped = nlohmann::json::parse(
        site.secondary({"reverify", "cool_widget", "-", "--format", "json"}, ids).out);
    CHECK(piped["marked"].is_number());
}

TEST_CASE("run output: reverify --failed --now checksums up to 100 by default; --all --now needs --limit") {
    PrimaryFixture site;
    site.add_records(1, 4);
    for (long long id : {2, 3, 4})
        std::filesystem::remove_all(site.repository(id));
    REQUIRE(site.run({"verify"}).status == 1);
    for (long long id : {2, 3, 4})
        site.repositories.create(site.storage, "cool_widgets/" + std::to_string(id) + ".git", id);

    RunResult one = site.run({"reverify", "cool_widget", "--failed", "--now", "--limit", "1"});
    CHECK(one.status == 0);
    CHECK(one.out == "2 succeeded " + show_ref_checksum(site.repository(2)) + "\n");
    CHECK(site.count("verification_state = 3") == 2);
    RunResult rest = site.run({"reverify", "cool_widget", "--failed", "--now"});
    CHECK(rest.status == 0);
    CHECK(rest.out == "3 succeeded " + show_ref_checksum(site.repository(3)) + "\n4 succeeded " +
                          show_ref_checksum(site.repository(4)) + "\n");
    CHECK(site.count("verification_state = 2") == 4);

    RunResult all = site.run({"reverify", "cool_widget", "--all", "--now"});
    CHECK(all.status == 2);
    CHECK(all.out.empty());
    CHECK(all.err == "geo-ssf: error: --all --now needs --limit N; without --now, --all marks every record for the "
                     "next run\n");
    RunResult all_limited = site.run({"reverify", "cool_widget", "--all", "--now", "--limit", "2"});
    CHECK(all_limited.status == 0);
    CHECK(all_limited.out == "1 succeeded " + show_ref_checksum(site.repository(1)) + "\n2 succeeded " +
                                 show_ref_checksum(site.repository(2)) + "\n");
    RunResult stray = site.run({"reverify", "cool_widget", "1", "--limit", "1"});
    CHECK(stray.status == 2);
    CHECK(stray.err == "geo-ssf: error: --limit goes with --now and one of --all and --failed\n");
}

}  // TEST_SUITE
