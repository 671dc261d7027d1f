#include "common/sequence_gaps.hpp"

#include <iterator>

namespace geo_ssf {

std::vector<long long> SequenceGaps::missed() const {
    std::vector<long long> out;
    out.reserve(m_missed.size());
    for (const auto& entry : m_missed)
        out.push_back(entry.first);
    return out;
}

void SequenceGaps::seen(long long id, Clock::time_point now) {
    if (id <= m_position) {
        m_missed.erase(id);
        return;
    }
    // A gap wider than the capacity is given up whole but for its end: those ids are the likeliest to come.
    long long first = m_position + 1;
    if (id - first > static_cast<long long>(m_capacity))
        first = id - static_cast<long long>(m_capacity);
    for (long long missing = first; missing < id; ++missing)
        m_missed.emplace(missing, now);
    m_position = id;
    // Gaps are found above the position only, so the lowest missing id is the oldest.
    while (m_missed.size() > m_capacity)
        m_missed.erase(m_missed.begin());
}

void SequenceGaps::expire(Clock::time_point now) {
    for (auto it = m_missed.begin(); it != m_missed.end();)
        it = now - it->second > m_patience ? m_missed.erase(it) : std::next(it);
}

}  // namespace geo_ssf
