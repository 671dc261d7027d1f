// How many ids of one set another set lacks, when the two sets live in different databases
// (a secondary's registry in the tracking database, the primary's records in the main
// database), without copying every id across.
//
// Each side summarises an id range as a digest: how many ids it holds and the sum of a 64-bit
// hash of each (PostgreSQL's hashint8extended, summed exactly as numeric). Ranges whose
// digests agree hold the same ids and are skipped; a range one side has no ids in needs no
// further look; the other ranges are split into ranges of about a thousand ids and compared
// again, and ranges small enough are fetched from both sides and merged. Two different id
// sets with the same count and the same hash sum would be taken as equal: a chance of about
// one in 2^64, the same trust the repository checksums themselves ask for.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace geo_ssf {

struct IdRange {
    long long first = 0;  // inclusive
    long long last = 0;   // inclusive
};

struct RangeDigest {
    long long count = 0;
    std::string hash_sum;  // exact decimal text, compared as text

    bool operator==(const RangeDigest& other) const { return count == other.count && hash_sum == other.hash_sum; }
};

// One side's ids, as the algorithm reads them. Calls on one IdSet never overlap, but the two
// sides are read concurrently, from two threads.
class IdSet {
public:
    virtual ~IdSet() = default;
    // The smallest and the largest id; nullopt when the set is empty.
    virtual std::optional<IdRange> bounds() = 0;
    // One digest per range, in the order of RANGES (disjoint and ascending).
    virtual std::vector<RangeDigest> digests(const std::vector<IdRange>& ranges) = 0;
    // Every id in RANGES, in any order.
    virtual std::vector<long long> ids(const std::vector<IdRange>& ranges) = 0;
};

struct DifferenceTuning {
    long long fetch_at_most = 2048;  // a differing range with no more ids than this (on either side) is fetched
    long long split_into = 1024;     // ids per range aimed at when a range is split
    long long max_ranges = 4096;     // ranges one range is split into at most
};

// The number of ids in WANTED that PRESENT does not have. WANTED_ALL and PRESENT_ALL are the
// digests of the two whole sets, which the caller usually gets for free from a pass it makes
// anyway.
long long count_missing_ids(IdSet& wanted, IdSet& present, const RangeDigest& wanted_all,
                            const RangeDigest& present_all, const DifferenceTuning& tuning = {});

// Of the ascending WANTED, how many are not in the ascending PRESENT.
long long count_missing_sorted(const std::vector<long long>& wanted, const std::vector<long long>& present);

}  // namespace geo_ssf
