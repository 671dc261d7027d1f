#include "common/edit_distance.hpp"

#include <algorithm>
#include <limits>

namespace geo_ssf {

std::size_t edit_distance(std::string_view a, std::string_view b) {
    // Three rows of the usual dynamic programme: the swap looks two rows back.
    std::vector<std::size_t> before(b.size() + 1), previous(b.size() + 1), current(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j)
        previous[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        current[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            std::size_t substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
            current[j] = std::min({previous[j] + 1, current[j - 1] + 1, substitution});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                current[j] = std::min(current[j], before[j - 2] + 1);
        }
        std::swap(before, previous);
        std::swap(previous, current);
    }
    return previous[b.size()];
}

std::vector<std::string> closest_words(std::string_view word, const std::vector<std::string>& candidates) {
    if (word.empty())
        return {};
    const std::size_t limit = std::max<std::size_t>(2, word.size() / 3);
    std::size_t best = std::numeric_limits<std::size_t>::max();
    std::vector<std::string> closest;
    for (const auto& candidate : candidates) {
        if (candidate == word)
            continue;
        // A prefix counts as one edit: "stat" suggests "status" before "start" would.
        std::size_t distance = candidate.starts_with(word) ? 1 : edit_distance(word, candidate);
        if (distance > limit || distance > best)
            continue;
        if (distance < best)
            closest.clear();
        best = distance;
        closest.push_back(candidate);
    }
    return closest;
}

std::string did_you_mean(const std::vector<std::string>& words) {
    if (words.empty())
        return "";
    std::string text = " (did you mean ";
    for (std::size_t i = 0; i < words.size(); ++i) {
        if (i > 0)
            text += i + 1 == words.size() ? " or " : ", ";
        text += "'" + words[i] + "'";
    }
    return text + "?)";
}

}  // namespace geo_ssf
