// The SQL of a secondary's promotion preflight (secondary/promotion.hpp): how far the main
// database's standby has replayed, and what is compared record by record between the primary's
// states rows (main database) and this site's registry (tracking database).
#pragma once

#include "db/model_table.hpp"
#include "db/states.hpp"
#include "site/replicable.hpp"

#include <pqxx/pqxx>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace geo_ssf {

// How far a standby has replayed what it received.
struct ReplayState {
    bool in_recovery = false;
    std::string received;      // the last WAL position received, empty when it received none since it started
    std::string replayed;      // the last position replayed
    long long bytes_behind = 0;
    bool paused = false;       // replay paused (or pausing)
};
ReplayState replay_state(pqxx::transaction_base& tx);

// A record in scope on the primary, with its states row (nullopt when it has none).
struct PrimaryRecordState {
    long long id = 0;
    std::optional<PrimaryVerificationState> state;
};
// Up to LIMIT records of R in its scope with ids above AFTER, in id order.
std::vector<PrimaryRecordState> records_in_scope(pqxx::transaction_base& tx, const Replicable& r, long long after,
                                                 int limit);
// Up to LIMIT records of R outside its scope, with ids above AFTER, in id order: what selective
// sync leaves behind. None when R has no scope.
std::vector<long long> records_out_of_scope(pqxx::transaction_base& tx, const Replicable& r, long long after,
                                            int limit);

// A secondary's copy of a record, as its registry row tells.
struct RegistryCopy {
    SyncState state = SyncState::pending;
    VerificationState verification_state = VerificationState::pending;
    std::string checksum;  // hex; empty when there is none
    bool missing_on_primary = false;
    std::string sync_failure;
    std::string verification_failure;
};
// The registry rows of R's records in [FIRST, LAST], by record id.
std::map<long long, RegistryCopy> registry_copies(pqxx::transaction_base& tx, const Replicable& r, long long first,
                                                  long long last);

// Why promoting now would lose a record, or leave it unproven.
struct CopyLoss {
    std::string reason;  // not_registered, not_synced, missing_on_primary, primary_not_checksummed,
                         // not_verified, checksum_differs, replication_disabled, out_of_scope
    std::string detail;  // in words
};
// Whether the copy COPY (nullopt: no registry row) holds what the primary's states row PRIMARY
// (nullopt: none) proves it has: a synced copy verified with the primary's checksum. A copy the
// primary had no repository for, and which the primary has no checksum of, loses nothing.
std::optional<CopyLoss> copy_loss(const std::optional<PrimaryVerificationState>& primary,
                                  const std::optional<RegistryCopy>& copy);

// A record that promoting now would lose, or leave unproven.
struct LostRecord {
    std::string replicable;
    long long id = 0;
    CopyLoss loss;
};

}  // namespace geo_ssf
