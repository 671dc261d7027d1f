// What a reader has seen of an increasing sequence of ids whose rows become visible out of
// order: a transaction that took an id may commit after one that took a later id, or never
// (rolled back). The reader goes on past a missing id at once and asks for it again until it
// comes or is older than the reader's patience, as GitLab's event log cursor tracks gaps.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <vector>

namespace geo_ssf {

class SequenceGaps {
public:
    using Clock = std::chrono::steady_clock;

    // Everything up to POSITION is seen. A missing id is asked for during PATIENCE after it was
    // found missing; at most CAPACITY of them at a time, the oldest given up first.
    SequenceGaps(long long position, Clock::duration patience, size_t capacity)
        : m_position(position), m_patience(patience), m_capacity(capacity) {}

    // The highest id seen.
    long long position() const { return m_position; }
    // The ids below position() not seen yet, ascending.
    std::vector<long long> missed() const;
    // Notes ID as seen at NOW: the ids between the highest one seen and it are missed from now on.
    void seen(long long id, Clock::time_point now);
    // Gives up the ids missed for longer than the patience at NOW.
    void expire(Clock::time_point now);

private:
    long long m_position;
    Clock::duration m_patience;
    size_t m_capacity;
    std::map<long long, Clock::time_point> m_missed;  // id → when it was found missing
};

}  // namespace geo_ssf
