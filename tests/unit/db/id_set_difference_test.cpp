#include "db/id_set_difference.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <random>
#include <set>
#include <stdexcept>

using namespace geo_ssf;

namespace {

// An id set in memory, digesting like the database does (count and a sum of mixed ids), and
// counting what the algorithm asks of it.
class MemoryIds : public IdSet {
public:
    explicit MemoryIds(std::set<long long> ids) : m_ids(std::move(ids)) {}

    std::optional<IdRange> bounds() override {
        ++bounds_calls;
        if (m_ids.empty())
            return std::nullopt;
        return IdRange{*m_ids.begin(), *m_ids.rbegin()};
    }
    std::vector<RangeDigest> digests(const std::vector<IdRange>& ranges) override {
        ++digest_calls;
        std::vector<RangeDigest> out;
        for (const auto& r : ranges) {
            check_range(r);
            out.push_back(digest(r));
        }
        return out;
    }
    std::vector<long long> ids(const std::vector<IdRange>& ranges) override {
        std::vector<long long> out;
        for (const auto& r : ranges) {
            check_range(r);
            for (auto it = m_ids.lower_bound(r.first); it != m_ids.end() && *it <= r.last; ++it)
                out.push_back(*it);
        }
        fetched += static_cast<long long>(out.size());
        std::reverse(out.begin(), out.end());  // any order will do
        return out;
    }
    std::vector<std::pair<long long, long long>> members(const std::vector<long long>& ids) override {
        ++member_calls;
        std::vector<std::pair<long long, long long>> out;
        for (long long id : ids)
            if (m_ids.count(id))
                out.emplace_back(id, mix(id));
        return out;
    }
    RangeDigest all() const { return digest({std::numeric_limits<long long>::min(), std::numeric_limits<long long>::max()}); }

    int bounds_calls = 0;
    int digest_calls = 0;
    int member_calls = 0;
    long long fetched = 0;

private:
    // A signed 64-bit hash, as PostgreSQL's hashint8extended gives.
    static long long mix(long long id) {
        unsigned long long x = static_cast<unsigned long long>(id) + 0x9e3779b97f4a7c15ULL;
        x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
        x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
        return static_cast<long long>(x ^ (x >> 31));
    }
    RangeDigest digest(const IdRange& r) const {
        RangeDigest d;
        __int128 sum = 0;
        for (auto it = m_ids.lower_bound(r.first); it != m_ids.end() && *it <= r.last; ++it) {
            ++d.count;
            sum += mix(*it);
        }
        d.hash_sum = format_hash_sum(sum);
        return d;
    }
    static void check_range(const IdRange& r) {
        if (r.first > r.last)
            throw std::logic_error("an empty range was asked for");
    }

    std::set<long long> m_ids;
};

long long brute_force(const std::set<long long>& wanted, const std::set<long long>& present) {
    long long n = 0;
    for (long long id : wanted)
        n += present.count(id) ? 0 : 1;
    return n;
}

std::vector<ComparedRange> whole(const MemoryIds& wanted, const MemoryIds& present) {
    return {{all_ids(), wanted.all(), present.all()}};
}

std::set<long long> range(long long first, long long last) {
    std::set<long long> out;
    for (long long i = first; i <= last; ++i)
        out.insert(i);
    return out;
}

}  // namespace

TEST_SUITE("id_set_difference") {

TEST_CASE("id_set_difference: equal sets cost nothing beyond the whole-set digests") {
    MemoryIds w(range(1, 100000)), p(range(1, 100000));
    CHECK(count_missing_ids(w, p, whole(w, p)) == 0);
    CHECK(w.digest_calls + p.digest_calls + w.bounds_calls + p.bounds_calls == 0);
    CHECK(w.fetched + p.fetched == 0);
}

TEST_CASE("id_set_difference: an empty side needs no look at all") {
    MemoryIds w(range(1, 50000)), none({});
    CHECK(count_missing_ids(w, none, whole(w, none)) == 50000);
    CHECK(count_missing_ids(none, w, whole(none, w)) == 0);
    CHECK(w.digest_calls + w.bounds_calls + none.digest_calls + none.bounds_calls == 0);
}

TEST_CASE("id_set_difference: a few differences are found without fetching everything") {
    auto wanted = range(1, 200000);
    auto present = range(1, 199990);  // the newest ten not registered yet
    present.erase(5);                 // a record not registered
    present.erase(150000);
    present.insert(300000);           // an orphan: registered, gone from the primary
    wanted.erase(77777);              // deleted on the primary, registry row still there
    present.insert(77777);
    MemoryIds w(wanted), p(present);
    CHECK(count_missing_ids(w, p, whole(w, p)) == brute_force(wanted, present));
    CHECK(brute_force(wanted, present) == 12);
    CHECK(w.fetched < 20000);
    CHECK(p.fetched < 20000);
}

TEST_CASE("id_set_difference: random sets of every shape agree with a brute-force count") {
    std::mt19937_64 random(20260312);
    for (int round = 0; round < 60; ++round) {
        CAPTURE(round);
        std::set<long long> wanted, present;
        long long span = std::uniform_int_distribution<long long>(1, 30000)(random);
        long long offset = std::uniform_int_distribution<long long>(-5, 5)(random) *
                           (round % 7 == 0 ? 1000000000000000000LL : 1000);
        double keep_wanted = std::uniform_real_distribution<double>(0.0, 1.0)(random);
        double keep_present = std::uniform_real_distribution<double>(0.0, 1.0)(random);
        double correlated = std::uniform_real_distribution<double>(0.0, 1.0)(random);
        std::uniform_real_distribution<double> coin(0.0, 1.0);
        for (long long i = 0; i < span; ++i) {
            long long id = offset + i * (round % 3 + 1);
            bool in_wanted = coin(random) < keep_wanted;
            bool in_present = coin(random) < correlated ? in_wanted : coin(random) < keep_present;
            if (in_wanted)
                wanted.insert(id);
            if (in_present)
                present.insert(id);
        }
        DifferenceTuning tuning;
        if (round % 2) {
            tuning.fetch_at_most = 3;
            tuning.split_into = 2;
            tuning.max_ranges = 5;
        }
        MemoryIds w(wanted), p(present);
        CHECK(count_missing_ids(w, p, whole(w, p), {}, tuning) == brute_force(wanted, present));
        // Suspects, right, wrong or a few of each, never change the count.
        std::vector<long long> suspects;
        for (int i = 0; i < round % 5; ++i)
            suspects.push_back(offset + std::uniform_int_distribution<long long>(0, span)(random) * (round % 3 + 1));
        MemoryIds w2(wanted), p2(present);
        CHECK(count_missing_ids(w2, p2, whole(w2, p2), suspects, tuning) == brute_force(wanted, present));
    }
}

TEST_CASE("id_set_difference: a start split at the present side's largest id settles new ids without a look") {
    auto wanted = range(1, 100000);
    auto present = range(1, 99000);
    MemoryIds w(wanted), p(present);
    std::vector<ComparedRange> start = {{{std::numeric_limits<long long>::min(), 99000}, MemoryIds(range(1, 99000)).all(), p.all()},
                                        {{99001, std::numeric_limits<long long>::max()}, {1000, ""}, {}}};
    CHECK(count_missing_ids(w, p, start) == 1000);
    CHECK(w.digest_calls + p.digest_calls + w.bounds_calls + p.bounds_calls == 0);
    CHECK(w.fetched + p.fetched == 0);
}

TEST_CASE("id_set_difference: scattered differences cost one pass of small ranges and a small fetch") {
    auto wanted = range(1, 200000);
    auto present = wanted;
    for (long long id = 500; id <= 200000; id += 1000)
        present.erase(id);  // 0.1% scattered
    MemoryIds w(wanted), p(present);
    CHECK(count_missing_ids(w, p, whole(w, p)) == 200);
    CHECK(w.digest_calls == 1);
    CHECK(w.fetched <= 200 * 64);
}

TEST_CASE("id_set_difference: suspects that explain the difference settle it without comparing ranges") {
    auto wanted = range(1, 100000);
    auto present = wanted;
    present.erase(10);      // not registered yet
    present.erase(70000);
    present.insert(200000);  // registered, gone from the primary
    wanted.erase(50000);     // the same
    MemoryIds w(wanted), p(present);
    CHECK(count_missing_ids(w, p, whole(w, p), {10, 70000, 200000, 50000, 12345, 999999}) == 2);
    CHECK(w.member_calls == 1);
    CHECK(w.digest_calls + p.digest_calls + w.bounds_calls + p.bounds_calls == 0);
    CHECK(w.fetched + p.fetched == 0);
    // Suspects that explain only part of it: the ranges are compared after all, and the count
    // is still exact.
    MemoryIds w2(wanted), p2(present);
    CHECK(count_missing_ids(w2, p2, whole(w2, p2), {10, 200000}) == 2);
    CHECK(w2.digest_calls == 1);
}

TEST_CASE("id_set_difference: hash sums as text") {
    CHECK(format_hash_sum(0) == "0");
    CHECK(format_hash_sum(-42) == "-42");
    __int128 big = static_cast<__int128>(std::numeric_limits<long long>::max()) * 1000000;
    CHECK(parse_hash_sum(format_hash_sum(big)) == big);
    CHECK(parse_hash_sum(format_hash_sum(-big)) == -big);
    CHECK(parse_hash_sum("-9223372036854775808") == std::numeric_limits<long long>::min());
    CHECK_THROWS(parse_hash_sum(""));
    CHECK_THROWS(parse_hash_sum("-"));
    CHECK_THROWS(parse_hash_sum("12a"));
}

TEST_CASE("id_set_difference: ids at the very ends of the bigint range") {
    const long long lo = std::numeric_limits<long long>::min();
    const long long hi = std::numeric_limits<long long>::max();
    std::set<long long> wanted = {lo, lo + 1, -1, 0, 1, hi - 1, hi};
    std::set<long long> present = {lo, 0, hi};
    DifferenceTuning tiny{1, 1, 2};
    MemoryIds w(wanted), p(present);
    CHECK(count_missing_ids(w, p, whole(w, p), {}, tiny) == 4);
}

TEST_CASE("id_set_difference: count_missing_sorted") {
    CHECK(count_missing_sorted({}, {1, 2}) == 0);
    CHECK(count_missing_sorted({1, 2, 3}, {}) == 3);
    CHECK(count_missing_sorted({1, 3, 5, 7}, {0, 3, 4, 7, 9}) == 2);
}

}
