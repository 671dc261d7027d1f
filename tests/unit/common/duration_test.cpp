#include "common/duration.hpp"

#include <doctest/doctest.h>

using namespace geo_ssf;
using std::chrono::seconds;

TEST_SUITE("duration") {

TEST_CASE("duration::parse_duration reads units and sums") {
    CHECK(parse_duration("90s") == seconds(90));
    CHECK(parse_duration("5m") == seconds(300));
    CHECK(parse_duration("8h") == seconds(8 * 3600));
    CHECK(parse_duration("7d") == seconds(7 * 86400));
    CHECK(parse_duration("1h30m") == seconds(5400));
    CHECK(parse_duration("45") == seconds(45));
}

TEST_CASE("duration::parse_duration rejects what is not a duration") {
    for (const char* bad : {"", "h", "5x", "-5m", "0", "0s", "1h30", "1.5h", " 5m", "99999999999d"}) {
        CAPTURE(bad);
        CHECK_FALSE(parse_duration(bad).has_value());
    }
}

TEST_CASE("duration::format_duration round-trips") {
    for (long long s : {1LL, 59LL, 60LL, 3600LL, 5400LL, 86400LL, 8 * 3600LL, 7 * 86400LL + 61}) {
        CAPTURE(s);
        CHECK(parse_duration(format_duration(seconds(s))) == seconds(s));
    }
    CHECK(format_duration(seconds(5400)) == "1h30m");
}

TEST_CASE("duration::parse_interval reads milliseconds too") {
    using std::chrono::milliseconds;
    CHECK(parse_interval("500ms") == milliseconds(500));
    CHECK(parse_interval("2s") == milliseconds(2000));
    CHECK(parse_interval("1s250ms") == milliseconds(1250));
    CHECK(parse_interval("1m30s") == milliseconds(90000));
    CHECK(parse_interval("3") == milliseconds(3000));
    for (const char* bad : {"", "0ms", "ms", "5x", "-5ms", "1.5s", "500 ms", "1h30", "9999999999ms"}) {
        CAPTURE(bad);
        CHECK_FALSE(parse_interval(bad).has_value());
    }
    for (long long ms : {1LL, 250LL, 1000LL, 1500LL, 60000LL, 90500LL}) {
        CAPTURE(ms);
        CHECK(parse_interval(format_interval(milliseconds(ms))) == milliseconds(ms));
    }
    CHECK(format_interval(milliseconds(500)) == "500ms");
    CHECK(format_interval(milliseconds(90500)) == "1m30s500ms");
}

}
