#include "db/id_set_difference.hpp"

#include "common/error.hpp"

#include <algorithm>
#include <future>
#include <limits>
#include <stdexcept>

namespace geo_ssf {

namespace {

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

IdRange all_ids() { return {std::numeric_limits<long long>::min(), std::numeric_limits<long long>::max()}; }

__int128 parse_hash_sum(const std::string& text) {
    __int128 value = 0;
    size_t i = text.empty() || text[0] != '-' ? 0 : 1;
    if (i == text.size())
        throw DatabaseError("not a hash sum: \"" + text + "\"");
    for (; i < text.size(); ++i) {
        if (text[i] < '0' || text[i] > '9')
            throw DatabaseError("not a hash sum: \"" + text + "\"");
        value = value * 10 + (text[i] - '0');
    }
    return text[0] == '-' ? -value : value;
}

std::string format_hash_sum(__int128 sum) {
    bool negative = sum < 0;
    unsigned __int128 magnitude = negative ? -static_cast<unsigned __int128>(sum) : static_cast<unsigned __int128>(sum);
    std::string digits;
    do {
        digits.insert(digits.begin(), static_cast<char>('0' + static_cast<int>(magnitude % 10)));
        magnitude /= 10;
    } while (magnitude != 0);
    return negative ? "-" + digits : digits;
}

namespace {

bool contains(const IdRange& range, long long id) { return range.first <= id && id <= range.last; }

// DIGEST without the members of MEMBERS that fall in RANGE.
RangeDigest without(const RangeDigest& digest, const IdRange& range,
                    const std::vector<std::pair<long long, long long>>& members) {
    RangeDigest out{digest.count, ""};
    __int128 sum = digest.count == 0 ? 0 : parse_hash_sum(digest.hash_sum);
    for (const auto& [id, hash] : members)
        if (contains(range, id)) {
            --out.count;
            sum -= hash;
        }
    out.hash_sum = format_hash_sum(sum);
    return out;
}

// Settles the ranges of DIFFERING that the suspects explain: taken out of both digests, the
// rest agrees, so the suspects are the only difference there. Returns the missing ids found;
// the ranges settled are removed from DIFFERING.
long long settle_by_suspects(IdSet& wanted, IdSet& present, std::vector<ComparedRange>& differing,
                             std::vector<long long> suspects) {
    std::sort(suspects.begin(), suspects.end());
    suspects.erase(std::unique(suspects.begin(), suspects.end()), suspects.end());
    std::vector<long long> asked;
    for (long long id : suspects)
        for (const auto& d : differing)
            if (d.wanted.count > 0 && d.present.count > 0 && !(d.wanted == d.present) && contains(d.range, id)) {
                asked.push_back(id);
                break;
            }
    if (asked.empty())
        return 0;
    auto [wanted_members, present_members] = on_both_sides([&] { return wanted.members(asked); },
                                                           [&] { return present.members(asked); });
    std::vector<long long> present_ids;
    for (const auto& member : present_members)
        present_ids.push_back(member.first);
    std::sort(present_ids.begin(), present_ids.end());
    long long missing = 0;
    std::vector<ComparedRange> left;
    for (auto& d : differing) {
        bool settled = false;
        if (d.wanted.count > 0 && d.present.count > 0 && !(d.wanted == d.present) &&
            without(d.wanted, d.range, wanted_members) == without(d.present, d.range, present_members)) {
            settled = true;
            for (const auto& [id, hash] : wanted_members)
                if (contains(d.range, id) && !std::binary_search(present_ids.begin(), present_ids.end(), id))
                    ++missing;
        }
        if (!settled)
            left.push_back(std::move(d));
    }
    differing = std::move(left);
    return missing;
}

}  // namespace

long long count_missing_members(IdSet& wanted, IdSet& present, const std::vector<long long>& ids) {
    if (ids.empty())
        return 0;
    auto [wanted_members, present_members] = on_both_sides([&] { return wanted.members(ids); },
                                                           [&] { return present.members(ids); });
    std::vector<long long> wanted_ids, present_ids;
    for (const auto& member : wanted_members)
        wanted_ids.push_back(member.first);
    for (const auto& member : present_members)
        present_ids.push_back(member.first);
    std::sort(wanted_ids.begin(), wanted_ids.end());
    wanted_ids.erase(std::unique(wanted_ids.begin(), wanted_ids.end()), wanted_ids.end());
    return count_missing_sorted(wanted_ids, sorted(std::move(present_ids)));
}

long long count_missing_ids(IdSet& wanted, IdSet& present, std::vector<ComparedRange> start,
                            const std::vector<long long>& suspects, const DifferenceTuning& tuning) {
    long long missing = 0;
    std::vector<ComparedRange> differing = std::move(start);
    if (!suspects.empty())
        missing += settle_by_suspects(wanted, present, differing, suspects);
    std::optional<IdRange> bounds;  // of both sides together, once a range needs splitting
    while (!differing.empty()) {
        std::vector<IdRange> to_fetch;
        std::vector<ComparedRange> to_split;
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

        if (!bounds) {
            // The first ranges may reach the ends of bigint; the ids of both sides lie within
            // their bounds, so that is all that needs cutting up.
            auto [wanted_bounds, present_bounds] = on_both_sides([&] { return wanted.bounds(); },
                                                                 [&] { return present.bounds(); });
            if (!wanted_bounds)
                break;  // nothing is wanted after all
            if (!present_bounds) {
                for (const auto& d : to_split)
                    missing += d.wanted.count;
                break;
            }
            bounds = IdRange{std::min(wanted_bounds->first, present_bounds->first),
                             std::max(wanted_bounds->last, present_bounds->last)};
        }
        std::vector<IdRange> parts;
        for (auto& d : to_split) {
            d.range = {std::max(d.range.first, bounds->first), std::min(d.range.last, bounds->last)};
            if (d.range.first > d.range.last)
                continue;  // no id of either side there
            long long larger = std::max(d.wanted.count, d.present.count);
            long long count = std::clamp((larger + tuning.split_into - 1) / tuning.split_into, 2LL, tuning.max_ranges);
            auto pieces = split(d.range, count);
            parts.insert(parts.end(), pieces.begin(), pieces.end());
        }
        if (parts.empty())
            break;
        auto [wanted_digests, present_digests] = on_both_sides([&] { return wanted.digests(parts); },
                                                               [&] { return present.digests(parts); });
        for (size_t i = 0; i < parts.size(); ++i)
            differing.push_back({parts[i], wanted_digests.at(i), present_digests.at(i)});
    }
    return missing;
}

}  // namespace geo_ssf
