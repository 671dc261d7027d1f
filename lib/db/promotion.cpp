#include "db/promotion.hpp"

#include "db/event_log.hpp"
#include "db/model_table.hpp"
#include "db/transitions.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <utility>
#include <vector>

namespace geo_ssf {

ReplayState replay_state(pqxx::transaction_base& tx) {
    auto row = tx.exec1("SELECT pg_is_in_recovery(), pg_last_wal_receive_lsn()::text, pg_last_wal_replay_lsn()::text,"
                        " coalesce(greatest(pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()), 0),"
                        " 0)::bigint, CASE WHEN pg_is_in_recovery() THEN pg_get_wal_replay_pause_state() <> 'not paused'"
                        " ELSE false END");
    ReplayState out;
    out.in_recovery = row[0].as<bool>();
    out.received = row[1].is_null() ? "" : row[1].as<std::string>();
    out.replayed = row[2].is_null() ? "" : row[2].as<std::string>();
    out.bytes_behind = row[3].as<long long>();
    out.paused = row[4].as<bool>();
    return out;
}

std::vector<PrimaryRecordState> records_in_scope(pqxx::transaction_base& tx, const Replicable& r, long long after,
                                                 int limit) {
    // The ids first, then their states rows by the index: joined in one statement, the planner
    // may hash the whole states table for every batch.
    const std::string& key = r.model_key;
    std::vector<long long> ids;
    for (const auto& row : tx.exec_params("SELECT " + key + " FROM " + r.model_table + " WHERE " + key + " > $1 AND " +
                                              scope_predicate(r) + " ORDER BY " + key + " LIMIT $2",
                                          after, limit))
        ids.push_back(row[0].as<long long>());
    auto states = verification_states(tx, r, ids);
    std::vector<PrimaryRecordState> out;
    out.reserve(ids.size());
    for (long long id : ids) {
        auto state = states.find(id);
        out.push_back({id, state == states.end() ? std::nullopt
                                                 : std::optional<PrimaryVerificationState>(state->second)});
    }
    return out;
}

std::vector<long long> records_out_of_scope(pqxx::transaction_base& tx, const Replicable& r, long long after,
                                            int limit) {
    std::vector<long long> out;
    if (describe_scope(r).empty())
        return out;
    // A scope that is NULL for a record leaves it out, as it does everywhere else.
    const std::string& key = r.model_key;
    for (const auto& row : tx.exec_params("SELECT " + key + " FROM " + r.model_table + " WHERE " + key +
                                              " > $1 AND NOT coalesce(" + scope_predicate(r) + ", false) ORDER BY " +
                                              key + " LIMIT $2",
                                          after, limit))
        out.push_back(row[0].as<long long>());
    return out;
}

std::map<long long, RegistryCopy> registry_copies(pqxx::transaction_base& tx, const Replicable& r, long long first,
                                                  long long last) {
    std::map<long long, RegistryCopy> out;
    for (const auto& row : tx.exec_params("SELECT " + r.foreign_key + ", state, verification_state, "
                                              "encode(verification_checksum, 'hex'), missing_on_primary, "
                                              "coalesce(last_sync_failure, ''), coalesce(verification_failure, '') FROM " +
                                              r.registry_table + " WHERE " + r.foreign_key + " BETWEEN $1 AND $2",
                                          first, last))
        out[row[0].as<long long>()] = {static_cast<SyncState>(row[1].as<int>()),
                                       static_cast<VerificationState>(row[2].as<int>()),
                                       row[3].is_null() ? "" : row[3].as<std::string>(),
                                       row[4].as<bool>(),
                                       row[5].as<std::string>(),
                                       row[6].as<std::string>()};
    return out;
}

namespace {

CopyLoss make_loss(const char* reason, std::string detail) { return {reason, std::move(detail)}; }

std::string with_reason(std::string what, const std::string& failure) {
    return failure.empty() ? what : what + ": " + failure;
}

}  // namespace

std::optional<CopyLoss> copy_loss(const std::optional<PrimaryVerificationState>& primary,
                                  const std::optional<RegistryCopy>& copy) {
    bool primary_checksummed = primary && primary->state == VerificationState::succeeded && !primary->checksum.empty();
    if (!copy)
        return make_loss("not_registered", "no copy here: the record is not registered yet");
    switch (copy->state) {
    case SyncState::pending:
        return make_loss("not_synced", "no copy here: its sync is pending");
    case SyncState::started:
        return make_loss("not_synced", "no copy here: it is being synced");
    case SyncState::failed:
        return make_loss("not_synced", with_reason("its sync failed", copy->sync_failure));
    case SyncState::synced:
        break;
    }
    if (copy->missing_on_primary)
        return primary_checksummed
                   ? std::optional<CopyLoss>(make_loss("missing_on_primary", "no copy here: the primary had no repository "
                                                                        "when it was synced, and has a checksum now"))
                   : std::nullopt;  // nothing there, nothing here: nothing lost
    if (!primary_checksummed)
        return make_loss("primary_not_checksummed",
                    primary ? std::string("the primary has no checksum to prove the copy with (its verification is ") +
                                  verification_state_name(primary->state) + ")"
                            : "the primary has no checksum to prove the copy with (no states row)");
    switch (copy->verification_state) {
    case VerificationState::succeeded:
        break;
    case VerificationState::failed:
        return make_loss("not_verified", with_reason("its copy's verification failed", copy->verification_failure));
    case VerificationState::disabled:
        return make_loss("not_verified", "its copy is not verified yet: it waits for the primary's checksum");
    default:
        return make_loss("not_verified", "its copy is not verified yet");
    }
    if (copy->checksum != primary->checksum)
        return make_loss("checksum_differs", "its copy was verified with another checksum than the primary's");
    return std::nullopt;
}

namespace {

// "geo-pro": the advisory lock of promote.
constexpr long long k_promotion_lock_key = 0x67656f2d70726fLL;

// The states rows of IDS ($1) that a reset would still change.
std::string not_reset_yet(const Replicable& r) {
    return r.foreign_key + " = ANY($1::bigint[]) AND (verification_state <> " +
           sql::value(VerificationState::pending) + " OR verification_checksum IS NOT NULL)";
}

}  // namespace

PromotionLock::PromotionLock(pqxx::connection& geo) : m_geo(geo) {
    m_held = pqxx::nontransaction(m_geo)
                 .exec1("SELECT pg_try_advisory_lock(" + std::to_string(k_promotion_lock_key) + ")")[0]
                 .as<bool>();
}

PromotionLock::~PromotionLock() {
    if (!m_held || !m_geo.is_open())
        return;
    try {
        pqxx::nontransaction(m_geo).exec("SELECT pg_advisory_unlock(" + std::to_string(k_promotion_lock_key) + ")");
    } catch (...) {
        // The connection is gone, and the lock with it.
    }
}

void record_promotion_start(pqxx::transaction_base& tx, int generation, const std::string& from_site,
                            bool accepted_data_loss) {
    tx.exec_params("INSERT INTO geo_ssf_promotions (generation, from_site, accepted_data_loss, step)"
                   " VALUES ($1, NULLIF($2, ''), $3, 'begun') ON CONFLICT (generation) DO NOTHING",
                   generation, from_site, accepted_data_loss);
}

void record_promotion_step(pqxx::transaction_base& tx, int generation, const std::string& step) {
    tx.exec_params("UPDATE geo_ssf_promotions SET step = $2 WHERE generation = $1", generation, step);
}

void add_lost_records(pqxx::transaction_base& tx, int generation, const std::vector<LostRecord>& records) {
    if (records.empty())
        return;
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& record : records)
        rows.push_back({{"replicable", record.replicable},
                        {"record_id", record.id},
                        {"reason", record.loss.reason},
                        {"detail", record.loss.detail}});
    tx.exec_params("INSERT INTO geo_ssf_promotion_records (generation, replicable, record_id, reason, detail)"
                   " SELECT $1, r.replicable, r.record_id, r.reason, r.detail FROM jsonb_to_recordset($2::jsonb)"
                   " AS r(replicable text, record_id bigint, reason text, detail text) ON CONFLICT DO NOTHING",
                   generation, rows.dump());
}

std::vector<LostRecord> lost_records(pqxx::transaction_base& tx, int generation) {
    std::vector<LostRecord> out;
    for (const auto& row : tx.exec_params("SELECT replicable, record_id, reason, detail FROM geo_ssf_promotion_records"
                                          " WHERE generation = $1 ORDER BY replicable, record_id",
                                          generation))
        out.push_back({row[0].as<std::string>(), row[1].as<long long>(),
                       {row[2].as<std::string>(), row[3].as<std::string>()}});
    return out;
}

std::vector<long long> lost_record_ids(pqxx::transaction_base& tx, int generation, const Replicable& r, long long after,
                                       int limit) {
    std::vector<long long> out;
    for (const auto& row : tx.exec_params("SELECT record_id FROM geo_ssf_promotion_records WHERE generation = $1"
                                          " AND replicable = $2 AND record_id > $3 ORDER BY record_id LIMIT $4",
                                          generation, r.name, after, limit))
        out.push_back(row[0].as<long long>());
    return out;
}

void record_promotion_last_event(pqxx::transaction_base& tx, int generation, long long last_event_id) {
    tx.exec_params("UPDATE geo_ssf_promotions SET last_event_id = $2 WHERE generation = $1", generation, last_event_id);
}

void record_promotion_finished(pqxx::transaction_base& tx, int generation, const std::string& report_file) {
    tx.exec_params("UPDATE geo_ssf_promotions SET step = 'finished', report_file = NULLIF($2, ''),"
                   " finished_at = now() WHERE generation = $1",
                   generation, report_file);
}

long long reset_states_rows(pqxx::transaction_base& tx, const Replicable& r, const std::vector<long long>& ids) {
    if (ids.empty())
        return 0;
    return tx.exec_params("UPDATE " + r.states_table + " g SET " +
                              transition::verification_pending_after_promotion().set_list("g") + " WHERE " +
                              not_reset_yet(r),
                          bigint_array(ids))
        .affected_rows();
}

long long states_rows_to_reset(pqxx::transaction_base& tx, const Replicable& r, const std::vector<long long>& ids) {
    if (ids.empty())
        return 0;
    return tx.exec_params1("SELECT count(*) FROM " + r.states_table + " WHERE " + not_reset_yet(r), bigint_array(ids))[0]
        .as<long long>();
}

long long settle_event_log(pqxx::transaction_base& tx) {
    // EXCLUSIVE lets readers be and waits for every insert under way to end.
    tx.exec("LOCK TABLE geo_events IN EXCLUSIVE MODE");
    long long newest = newest_event_id(tx);
    tx.exec_params("SELECT setval(pg_get_serial_sequence('geo_events', 'id'), $1, $2)", newest > 0 ? newest : 1,
                   newest > 0);
    return newest;
}

}  // namespace geo_ssf
