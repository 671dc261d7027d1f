#include "secondary/removal.hpp"

#include <doctest/doctest.h>

using namespace geo_ssf;
using namespace geo_ssf::secondary;

TEST_SUITE("removal") {

TEST_CASE("removal::mass_removal bounds a batch, and a day, by share and by count") {
    Config config;  // 10% and 1000
    Replicable r;
    r.name = "cool_widget";
    auto refused = [&](RemovalBudget budget) { return mass_removal(config, r, budget); };

    CHECK_FALSE(refused({0, 100, 0, 100}));
    CHECK_FALSE(refused({10, 100, 0, 100}));  // 10%: not more than the share
    auto batch = refused({11, 100, 0, 100});
    REQUIRE(batch);
    CHECK(batch->find("would remove 11 of 100 registry rows compared (11%, more than sync.max_removal_share 10%)") !=
          std::string::npos);
    CHECK(batch->find("geo-ssf sync --allow-mass-removal") != std::string::npos);

    // 9% a run passes once; the second run's 9% brings the day to 18 of the 100 held before.
    CHECK_FALSE(refused({9, 100, 0, 100}));
    auto day = refused({9, 91, 9, 91});
    REQUIRE(day);
    CHECK(day->find("18 of 100 in 24 hours (18%, more than sync.max_removal_share 10%)") != std::string::npos);

    auto count = refused({1001, 100000, 0, 100000});
    REQUIRE(count);
    CHECK(count->find("more than sync.max_removal_count 1000") != std::string::npos);
    auto count_in_a_day = refused({500, 100000, 600, 100000});
    REQUIRE(count_in_a_day);
    CHECK(count_in_a_day->find("1100 in 24 hours (more than sync.max_removal_count 1000)") != std::string::npos);
}

}
