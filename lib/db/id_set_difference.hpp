// How many ids of one set another set lacks, when the two sets live in different databases
// (a secondary's registry in the tracking database, the primary's records in the main
// database), without copying every id across.
//
// Each side summarises an id range as a digest: how many ids it holds and the sum of a 64-bit
// hash of each (PostgreSQL's hashint8extended, summed exactly as numeric). Ranges whose
// digests agree hold the same ids and are skipped; a range one side has no ids in needs no
// further look; the other ranges are split into ranges of about 64 ids, compared again in one
// pass, and those that still differ are fetched from both sides and merged (larger ones, as
// with sparse ids, are split again). Two different id
// sets with the same count and the same hash sum would be taken as equal: a chance of about
// one in 2^64, the same trust the repository checksums themselves ask for.
//
// A caller that knows which ids probably differ (the records of events a secondary has not
// processed yet) names them as suspects: they are looked up on both sides and taken out of
// the digests, and when the rest then agrees nothing else needs a look.
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
    std::string hash_sum;  // the exact sum of the ids' signed 64-bit hashes, as decimal text

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
    // Of IDS, those this side has, each with the hash its digests sum.
    virtual std::vector<std::pair<long long, long long>> members(const std::vector<long long>& ids) = 0;
};

struct DifferenceTuning {
    long long fetch_at_most = 256;  // a differing range with no more ids than this (on either side) is fetched
    long long split_into = 64;      // ids per range aimed at when a range is split
    long long max_ranges = 65536;   // ranges one range is split into at most
};

// A range with both sides' digests of it. A side with no ids in the range needs no hash sum.
struct ComparedRange {
    IdRange range;
    RangeDigest wanted;
    RangeDigest present;
};

// The whole bigint range, for a first comparison of the two whole sets.
IdRange all_ids();

// The number of ids in WANTED that PRESENT does not have, starting from the ranges in START
// (disjoint, covering every id), whose digests the caller usually gets for free from a pass
// it makes anyway: all_ids() with the digests of the two whole sets, say.
// SUSPECTS, when given, are ids that probably differ (see above); any ids will do.
long long count_missing_ids(IdSet& wanted, IdSet& present, std::vector<ComparedRange> start,
                            const std::vector<long long>& suspects = {}, const DifferenceTuning& tuning = {});

// Of IDS, how many WANTED has and PRESENT lacks: each side is asked about them once.
long long count_missing_members(IdSet& wanted, IdSet& present, const std::vector<long long>& ids);

// A digest's hash sum as a number and back (sums of up to 2^64 hashes fit).
__int128 parse_hash_sum(const std::string& text);
std::string format_hash_sum(__int128 sum);

// Of the ascending WANTED, how many are not in the ascending PRESENT.
long long count_missing_sorted(const std::vector<long long>& wanted, const std::vector<long long>& present);

}  // namespace geo_ssf
