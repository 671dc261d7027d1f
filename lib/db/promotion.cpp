#include "db/promotion.hpp"

#include <string>
#include <utility>

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
    if (r.scope.empty())
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

}  // namespace geo_ssf
