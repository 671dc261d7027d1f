// Where a secondary's copies are (geo_ssf_copies, in the tracking database): each path belongs to
// one record, no copy lies inside or around another's, and a removal is recorded before it is
// done, so that a run killed in between leaves it for the next one.
#pragma once

#include "site/replicable.hpp"

#include <pqxx/pqxx>

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace geo_ssf::copies {

// Reserves LOCATIONS (record id → storage and path relative to its root) for those records of
// R, in one transaction that no other reservation runs beside. A path is refused when another
// record holds it, or holds a path it lies inside of or around, in the same storage. Returns
// why, for each record refused; a record that held another location keeps that one too (its
// old copy stays until the new one is verified: superseded_copies).
std::map<long long, std::string> reserve(pqxx::connection& geo, const Replicable& r,
                                         const std::map<long long, RepositoryLocation>& locations);

// The locations record ID of R holds, newest first (one, unless its path or its storage changed
// on the primary).
std::vector<RepositoryLocation> locations_of(pqxx::transaction_base& tx, const Replicable& r, long long id);

// The live copies (no removal requested) of the records IDS of R: record id and location.
std::vector<std::pair<long long, RepositoryLocation>> live_copies(pqxx::transaction_base& tx, const Replicable& r,
                                                                  const std::vector<long long>& ids);

struct Holder {
    std::string replicable;
    long long record_id = 0;
};
// Which record holds PATH in STORAGE; nullopt when none does.
std::optional<Holder> holder_of(pqxx::transaction_base& tx, const RepositoryLocation& location);

// The records of R in [FIRST, LAST] that are synced (with a repository) and hold no path yet:
// copies made before geo-ssf recorded them, which registry consistency records as it passes.
std::vector<long long> unrecorded_copies(pqxx::transaction_base& tx, const Replicable& r, long long first,
                                         long long last);

// A copy to remove: deleted (a deleted event), or moved to the quarantine (a record gone from
// the primary without one).
struct Removal {
    const Replicable* replicable = nullptr;
    long long id = 0;
    RepositoryLocation location;
    bool quarantine = false;
};

// Records, in TX (the transaction that removes the records' registry rows), that these copies
// are to be removed. A path another record holds is left to it, and not requested (false in
// the result, in the order of REMOVALS).
std::vector<bool> request_removals(pqxx::transaction_base& tx, const std::vector<Removal>& removals);

// A removal this run has taken: its row is locked until the transaction commits, so that no
// other run works on it meanwhile; a run that dies lets it go.
struct TakenRemoval {
    std::string replicable;
    long long id = 0;
    RepositoryLocation location;
    bool quarantine = false;
};
// Takes the removal of PATH in STORAGE, if it is still requested: waits while another run
// removes that path (a transaction-level advisory lock, removal_lock_sql, held until TX ends),
// then reads the request; nullopt when it is done already.
std::optional<TakenRemoval> take_removal(pqxx::transaction_base& tx, const RepositoryLocation& location);
// The advisory lock key of the removal of the path in $2 of the storage in $1.
std::string removal_lock_sql();
// The copies whose removals are requested and not done yet (those of runs killed before they
// were done, or under way in other runs), at most LIMIT.
std::vector<RepositoryLocation> requested_removals(pqxx::transaction_base& tx, int limit);
// The removal of PATH is done: its row goes.
void finish_removal(pqxx::transaction_base& tx, const RepositoryLocation& location);

// Counts RECORDS of R whose registry rows registry consistency removed now, for its bound on
// removals over a day.
void log_removals(pqxx::transaction_base& tx, const Replicable& r, long long records);
// The records of R whose registry rows registry consistency removed in the last 24 hours.
long long removals_in_a_day(pqxx::transaction_base& tx, const Replicable& r);

}  // namespace geo_ssf::copies
