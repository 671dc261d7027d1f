// The SQL of a secondary's promotion (secondary/promotion.hpp): how far the main database's
// standby has replayed, and what is compared record by record between the primary's states rows
// (main database) and this site's registry (tracking database); the promotion's own bookkeeping
// in the tracking database; and what it changes in the main database once that is this site's.
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

// Only one promote runs on a site at a time: held on the tracking database for the object's
// lifetime, if it could be taken.
class PromotionLock {
public:
    explicit PromotionLock(pqxx::connection& geo);
    ~PromotionLock();
    PromotionLock(const PromotionLock&) = delete;
    PromotionLock& operator=(const PromotionLock&) = delete;
    bool held() const { return m_held; }

private:
    pqxx::connection& m_geo;
    bool m_held = false;
};

// The promotion's bookkeeping, in the tracking database ---------------------------------------

// Records, in TX, the promotion to GENERATION as begun (step "begun"), unless it is recorded already.
void record_promotion_start(pqxx::transaction_base& tx, int generation, const std::string& from_site,
                            bool accepted_data_loss);
// Records, in TX, that the promotion of GENERATION has done STEP.
void record_promotion_step(pqxx::transaction_base& tx, int generation, const std::string& step);
// Adds RECORDS to the data-loss report of GENERATION.
void add_lost_records(pqxx::transaction_base& tx, int generation, const std::vector<LostRecord>& records);
// The lost records of GENERATION, by type and id.
std::vector<LostRecord> lost_records(pqxx::transaction_base& tx, int generation);
// The lost records of GENERATION of type R with ids above AFTER, at most LIMIT, by id.
std::vector<long long> lost_record_ids(pqxx::transaction_base& tx, int generation, const Replicable& r, long long after,
                                       int limit);
void record_promotion_last_event(pqxx::transaction_base& tx, int generation, long long last_event_id);
// Records the promotion of GENERATION as finished, with its report's file.
void record_promotion_finished(pqxx::transaction_base& tx, int generation, const std::string& report_file);

// What a promotion changes in the main database ------------------------------------------------

// The states rows of R's records IDS become pending without the old primary's checksum
// (transition::verification_pending_after_promotion), so that `verify` checksums what is here.
// Returns how many rows changed.
long long reset_states_rows(pqxx::transaction_base& tx, const Replicable& r, const std::vector<long long>& ids);
// How many of them are not pending without a checksum yet.
long long states_rows_to_reset(pqxx::transaction_base& tx, const Replicable& r, const std::vector<long long>& ids);

// The event log continues here: with inserts held off, its sequence is set to the newest event,
// so that the next event follows it without a gap. Returns that newest id (0: none).
long long settle_event_log(pqxx::transaction_base& tx);

}  // namespace geo_ssf
