#include "id_set_difference.hpp"

#include <algorithm>
#include <future>
#include <limits>

namespace geo_ssf {

namespace {

struct Differing {
    IdRange range;
    RangeDigest wanted;
    RangeDigest present;
};

// Runs WANTED_CALL on a second thread and PRESENT_CALL on this one: the two sides are in
// different databases, usually on different servers.
template <typename Wanted, typename Present>
auto on_both_sides(Wanted wanted_call, Present present_call) {
    auto wanted = std::async(std::launch::async, wanted_call);
    auto present = present_call();
    return std::make_pair(wanted.get(), std::move(present));
}

// RANGE cut into PARTS ranges of (nearly) equal width; fewer when it has fewer ids than that.
std::vector<IdRange> split(const IdRange& range, long long parts) {
    __int128 first = range.first;
    __int128 width = static_cast<__int128>(range.last) - first + 1;
    if (width < parts)
        parts = static_cast<long long>(width);
    std::vector<IdRange> out;
    out.reserve(static_cast<size_t>(parts));
    for (long long i = 0; i < parts; ++i) {
        __int128 from = first + width * i / parts;
        __int128 to = first + width * (i + 1) / parts - 1;
        out.push_back({static_cast<long long>(from), static_cast<long long>(to)});
    }
    return out;
}

std::vector<long long> sorted(std::vector<long long> ids) {
    if (!std::is_sorted(ids.begin(), ids.end()))
        std::sort(ids.begin(), ids.end());
    return ids;
}

}  // namespace

long long count_missing_sorted(const std::vector<long long>& wanted, const std::vector<long long>& present) {
    long long missing = 0;
    auto p = present.begin();
    for (long long id : wanted) {
        while (p != present.end() && *p < id)
            ++p;
        if (p == present.end() || *p != id)
            ++missing;
    }
    return missing;
}

long long count_missing_ids(IdSet& wanted, IdSet& present, const RangeDigest& wanted_all,
                            const RangeDigest& present_all, const DifferenceTuning& tuning) {
    long long missing = 0;
    constexpr IdRange everything{std::numeric_limits<long long>::min(), std::numeric_limits<long long>::max()};
    std::vector<Differing> differing = {{everything, wanted_all, present_all}};
    bool bounded = false;
    while (!differing.empty()) {
        std::vector<IdRange> to_fetch;
        std::vector<Differing> to_split;
        for (auto& d : differing) {
            if (d.wanted.count == 0 || d.wanted == d.present)
                continue;
            if (d.present.count == 0) {
                missing += d.wanted.count;
                continue;
            }
            bool small = std::max(d.wanted.count, d.present.count) <= tuning.fetch_at_most;
            if (small || d.range.first == d.range.last)
                to_fetch.push_back(d.range);
            else
                to_split.push_back(std::move(d));
        }
        differing.clear();

        if (!to_fetch.empty()) {
            auto [wanted_ids, present_ids] = on_both_sides([&] { return sorted(wanted.ids(to_fetch)); },
                                                           [&] { return sorted(present.ids(to_fetch)); });
            missing += count_missing_sorted(wanted_ids, present_ids);
        }
        if (to_split.empty())
            break;

        if (!bounded) {
            // Only the first range is unbounded; the ids of both sides lie within their bounds.
            auto [wanted_bounds, present_bounds] = on_both_sides([&] { return wanted.bounds(); },
                                                                 [&] { return present.bounds(); });
            if (!wanted_bounds)
                break;  // nothing is wanted after all
            if (!present_bounds) {
                for (const auto& d : to_split)
                    missing += d.wanted.count;
                break;
            }
            for (auto& d : to_split)
                d.range = {std::min(wanted_bounds->first, present_bounds->first),
                           std::max(wanted_bounds->last, present_bounds->last)};
            bounded = true;
        }
        std::vector<IdRange> parts;
        for (const auto& d : to_split) {
            long long larger = std::max(d.wanted.count, d.present.count);
            long long count = std::clamp((larger + tuning.split_into - 1) / tuning.split_into, 2LL, tuning.max_ranges);
            auto pieces = split(d.range, count);
            parts.insert(parts.end(), pieces.begin(), pieces.end());
        }
        auto [wanted_digests, present_digests] = on_both_sides([&] { return wanted.digests(parts); },
                                                               [&] { return present.digests(parts); });
        for (size_t i = 0; i < parts.size(); ++i)
            differing.push_back({parts[i], wanted_digests.at(i), present_digests.at(i)});
    }
    return missing;
}

}  // namespace geo_ssf
