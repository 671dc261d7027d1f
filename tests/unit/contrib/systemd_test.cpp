// contrib/systemd: the limits of the sync and verify units agree with the bounds of the runs
// they start, with geo-ssf's defaults (the rule each unit states in a comment).
#include "common/duration.hpp"
#include "site/config.hpp"
#include "site/transport_settings.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <sstream>
#include <string>

using namespace geo_ssf;
using std::chrono::seconds;

namespace {

std::string read_unit(const std::string& name) {
    const char* root = std::getenv("GEO_SSF_SOURCE_ROOT");
    REQUIRE_MESSAGE(root, "GEO_SSF_SOURCE_ROOT is not set (meson test sets it)");
    std::ifstream in(std::filesystem::path(root) / "contrib/systemd" / name);
    REQUIRE_MESSAGE(in, name);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

// The value of KEY= in the unit TEXT; it must be there once.
std::string setting(const std::string& text, const std::string& key) {
    std::regex line("(^|\n)" + key + "=([^\n]*)");
    auto begin = std::sregex_iterator(text.begin(), text.end(), line);
    REQUIRE_MESSAGE(std::distance(begin, std::sregex_iterator()) == 1, key);
    return (*begin)[2];
}

// A systemd time span as the units write it: "70min", "90s", "1h 10min", or bare seconds.
seconds time_span(const std::string& text) {
    static const std::map<std::string, long long> units = {
        {"", 1}, {"s", 1}, {"sec", 1}, {"m", 60}, {"min", 60}, {"h", 3600}, {"hr", 3600}};
    static const std::regex part(R"(\s*(\d+)\s*([a-z]*))");
    seconds total{0};
    std::string rest = text;
    std::smatch m;
    while (!rest.empty() && std::regex_search(rest, m, part, std::regex_constants::match_continuous)) {
        auto unit = units.find(m[2]);
        REQUIRE_MESSAGE(unit != units.end(), text);
        total += seconds(std::stoll(m[1]) * unit->second);
        rest = m.suffix();
    }
    REQUIRE_MESSAGE(rest.empty(), text);
    return total;
}

// The --max-runtime of the unit's ExecStart.
seconds max_runtime(const std::string& text) {
    std::smatch m;
    std::string exec = setting(text, "ExecStart");
    REQUIRE_MESSAGE(std::regex_search(exec, m, std::regex(R"(--max-runtime (\S+))")), exec);
    auto value = parse_duration(m[1].str());
    REQUIRE(value);
    return *value;
}

}  // namespace

TEST_SUITE("systemd_units") {

TEST_CASE("systemd units: a sync run may finish the fetch it started after --max-runtime, and ends before sync.timeout") {
    std::string unit = read_unit("geo-ssf-sync.service.in");
    seconds start = time_span(setting(unit, "TimeoutStartSec"));
    seconds stop = time_span(setting(unit, "TimeoutStopSec"));
    const Config defaults;
    const TransportSettings transport;
    // --max-runtime, then one fetch to its bound, then some minutes to record the outcomes.
    CHECK(start >= max_runtime(unit) + transport.fetch_timeout + std::chrono::minutes(5));
    // A run the unit stops ends (SIGTERM, then SIGKILL) before its rows count as abandoned.
    CHECK(start + stop < defaults.sync.timeout);
    CHECK(unit.find("storage.fetch_timeout") != std::string::npos);  // the comment that states the rule
    CHECK(unit.find("sync.timeout") != std::string::npos);
}

TEST_CASE("systemd units: a verify run has time for a long checksum, and ends before verification.timeout") {
    std::string unit = read_unit("geo-ssf-verify.service.in");
    seconds start = time_span(setting(unit, "TimeoutStartSec"));
    seconds stop = time_span(setting(unit, "TimeoutStopSec"));
    const Config defaults;
    CHECK(start >= max_runtime(unit) + std::chrono::minutes(30));
    CHECK(start + stop < defaults.verification.timeout);
    CHECK(unit.find("verification.timeout") != std::string::npos);
}

TEST_CASE("systemd units: time spans are read as systemd reads them") {
    CHECK(time_span("70min") == seconds(4200));
    CHECK(time_span("1h 10min") == seconds(4200));
    CHECK(time_span("90s") == seconds(90));
    CHECK(time_span("300") == seconds(300));
}

}
