#include "repo/watchdog.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <thread>

using namespace geo_ssf;
using namespace std::chrono_literals;

TEST_SUITE("watchdog") {

TEST_CASE("watchdog::wait_budget waits for the nearer bound and names it, rounding up") {
    WatchClock::time_point now{std::chrono::hours(1000)};

    SUBCASE("the deadline is nearer: a wait that ends names the deadline") {
        // 1999.9 ms to the deadline, a stall bound of an hour: a wait truncated to 1999 ms would
        // end just before the deadline, and a clock read then would blame the stall bound.
        auto wait = wait_budget(now, now + 1999900us, 3600s);
        CHECK(wait.timeout == 2000ms);
        REQUIRE(wait.bound);
        CHECK(*wait.bound == WatchBound::total);
        wait = wait_budget(now, now + 1ns, 3600s);
        CHECK(wait.timeout == 1ms);
        CHECK(*wait.bound == WatchBound::total);
    }
    SUBCASE("the deadline has passed") {
        auto wait = wait_budget(now, now - 5s, 2s);
        CHECK(wait.timeout == 0ms);
        REQUIRE(wait.bound);
        CHECK(*wait.bound == WatchBound::total);
        wait = wait_budget(now, now, 2s);
        CHECK(wait.timeout == 0ms);
        CHECK(*wait.bound == WatchBound::total);
    }
    SUBCASE("the stall bound is nearer") {
        auto wait = wait_budget(now, now + 3600s, 2s);
        CHECK(wait.timeout == 2000ms);
        REQUIRE(wait.bound);
        CHECK(*wait.bound == WatchBound::stall);
        wait = wait_budget(now, now + 2s + 1ns, 2s);
        CHECK(*wait.bound == WatchBound::stall);
    }
    SUBCASE("both at once: the deadline") {
        auto wait = wait_budget(now, now + 2s, 2s);
        CHECK(wait.timeout == 2000ms);
        CHECK(*wait.bound == WatchBound::total);
    }
    SUBCASE("a wait longer than a poll can take is cut, with no bound") {
        auto wait = wait_budget(now, now + std::chrono::hours(24 * 60), std::chrono::hours(24 * 30));
        CHECK(wait.timeout == k_longest_wait);
        CHECK_FALSE(wait.bound);
    }
}

TEST_CASE("watchdog::Watch::reason names the setting of each bound") {
    Watch watch;
    watch.total = 2s;
    watch.stall = 3600s;
    CHECK(watch.reason(WatchBound::total) == "the fetch took longer than storage.fetch_timeout (2s)");
    CHECK(watch.reason(WatchBound::stall) == "no data from the primary for 3600s (storage.fetch_stall_timeout)");
}

TEST_CASE("watchdog::WatchScope makes a watch current for its scope, the outer one after it") {
    CHECK(current_watch() == nullptr);
    Watch outer, inner;
    {
        WatchScope outer_scope(outer, 3600s, 300s);
        CHECK(current_watch() == &outer);
        CHECK(outer.deadline > WatchClock::now() + 3599s);
        {
            WatchScope inner_scope(inner, 60s, 10s);
            CHECK(current_watch() == &inner);
            CHECK(inner.total == 60s);
            CHECK(inner.stall == 10s);
        }
        CHECK(current_watch() == &outer);
        CHECK_FALSE(outer.out_of_time);
    }
    CHECK(current_watch() == nullptr);
}

TEST_CASE("watchdog::Watchdog expires a watch past its deadline, with the deadline's reason") {
    Watch watch;
    WatchScope scope(watch, 0s, 3600s);
    auto until = WatchClock::now() + 60s;
    while (!watch.out_of_time && WatchClock::now() < until)
        std::this_thread::sleep_for(10ms);
    REQUIRE(watch.out_of_time);
    CHECK(Watchdog::instance().reason(&watch) == "the fetch took longer than storage.fetch_timeout (0s)");
}

}  // TEST_SUITE
