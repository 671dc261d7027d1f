#include "common/sequence_gaps.hpp"

#include <doctest/doctest.h>

using namespace geo_ssf;
using std::chrono::minutes;
using std::vector;

TEST_SUITE("sequence_gaps") {

TEST_CASE("sequence_gaps: ids seen in order leave no gap") {
    SequenceGaps gaps(10, minutes(10), 100);
    auto now = SequenceGaps::Clock::now();
    for (long long id : {11, 12, 13})
        gaps.seen(id, now);
    CHECK(gaps.position() == 13);
    CHECK(gaps.missed().empty());
}

TEST_CASE("sequence_gaps: an id committed late is asked for until it comes") {
    SequenceGaps gaps(10, minutes(10), 100);
    auto now = SequenceGaps::Clock::now();
    gaps.seen(13, now);
    CHECK(gaps.position() == 13);
    CHECK(gaps.missed() == vector<long long>{11, 12});
    gaps.seen(12, now);
    CHECK(gaps.missed() == vector<long long>{11});
    gaps.seen(12, now);  // seen again: nothing changes
    gaps.seen(14, now);
    CHECK(gaps.missed() == vector<long long>{11});
    CHECK(gaps.position() == 14);
}

TEST_CASE("sequence_gaps: an id missing longer than the patience is given up") {
    SequenceGaps gaps(0, minutes(10), 100);
    auto start = SequenceGaps::Clock::now();
    gaps.seen(2, start);
    gaps.seen(5, start + minutes(5));
    gaps.expire(start + minutes(10));
    CHECK(gaps.missed() == vector<long long>{1, 3, 4});
    gaps.expire(start + minutes(11));
    CHECK(gaps.missed() == vector<long long>{3, 4});
    gaps.expire(start + minutes(16));
    CHECK(gaps.missed().empty());
}

TEST_CASE("sequence_gaps: at most the capacity is tracked, the oldest given up first") {
    SequenceGaps gaps(0, minutes(10), 3);
    auto now = SequenceGaps::Clock::now();
    gaps.seen(3, now);
    CHECK(gaps.missed() == vector<long long>{1, 2});
    gaps.seen(6, now);
    CHECK(gaps.missed() == vector<long long>{2, 4, 5});
    gaps.seen(1000000, now);  // a gap wider than the capacity: only its end is kept
    CHECK(gaps.missed() == vector<long long>{999997, 999998, 999999});
}

}
