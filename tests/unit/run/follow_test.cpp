#include "run/follow.hpp"

#include <doctest/doctest.h>

using namespace geo_ssf;
using std::chrono::seconds;

TEST_SUITE("follow") {

TEST_CASE("follow::FollowBackoff doubles from 1 second to 30, and starts over after reset") {
    FollowBackoff backoff;
    for (long long expected : {1, 2, 4, 8, 16, 30, 30, 30})
        CHECK(backoff.next() == seconds(expected));
    backoff.reset();
    CHECK(backoff.next() == seconds(1));
}

TEST_CASE("follow::in_turn lets each type go first in turn") {
    std::vector<std::string> names = {"a", "b", "c"};
    CHECK(in_turn(names, 0) == names);
    CHECK(in_turn(names, 1) == std::vector<std::string>{"b", "c", "a"});
    CHECK(in_turn(names, 5) == std::vector<std::string>{"c", "a", "b"});
    CHECK(in_turn({}, 3).empty());
}

TEST_CASE("follow::FollowCounters adds per type and work") {
    FollowCounters counters;
    TypeTotals totals;
    totals.claimed = 3;
    totals.succeeded = 2;
    totals.failed = 1;
    counters.add("cool_widget", "sync", totals);
    counters.add("cool_widget", "sync", totals);
    counters.add("cool_widget", "verification", totals);
    CHECK(counters.records.size() == 2);
    CHECK(counters.records[{"cool_widget", "sync"}].claimed == 6);
    CHECK(counters.records[{"cool_widget", "sync"}].failed == 2);
    CHECK(counters.records[{"cool_widget", "verification"}].succeeded == 2);
}

}
