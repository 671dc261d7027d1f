#include "db/site_identity.hpp"

#include <pqxx/pqxx>

#include <functional>
#include <optional>
#include <string>

namespace geo_ssf {

namespace {

// A timestamptz as every message prints it: UTC, to the second.
std::string utc_text(const std::string& column) {
    return "to_char(" + column + " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')";
}

bool table_exists(pqxx::transaction_base& tx, const std::string& table) {
    return tx.exec_params1("SELECT to_regclass($1) IS NOT NULL", table)[0].as<bool>();
}

std::optional<long long> optional_bigint(const pqxx::field& field) {
    return field.is_null() ? std::nullopt : std::optional<long long>(field.as<long long>());
}

std::string text_or_empty(const pqxx::field& field) { return field.is_null() ? std::string() : field.as<std::string>(); }

}  // namespace

DatabaseIdentity database_identity(pqxx::transaction_base& tx) {
    // A standby has no WAL position of its own to name its timeline by: the one of its last
    // restartpoint.
    auto row = tx.exec1("SELECT (pg_control_system()).system_identifier::text, CASE WHEN pg_is_in_recovery() THEN"
                        " (pg_control_checkpoint()).timeline_id"
                        " ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::integer END,"
                        " pg_is_in_recovery()");
    return {row[0].as<std::string>(), row[1].as<int>(), row[2].as<bool>()};
}

std::optional<PrimaryRecord> current_primary(pqxx::transaction_base& tx) {
    if (!table_exists(tx, "geo_ssf_primaries"))
        return std::nullopt;
    auto rows = tx.exec("SELECT generation, site_name, system_identifier, timeline, last_event_id, promoted_from, " +
                        utc_text("became_primary_at") + " FROM geo_ssf_primaries ORDER BY generation DESC LIMIT 1");
    if (rows.empty())
        return std::nullopt;
    const auto& row = rows[0];
    return PrimaryRecord{row[0].as<int>(),         row[1].as<std::string>(), row[2].as<std::string>(),
                         row[3].as<int>(),         optional_bigint(row[4]),  text_or_empty(row[5]),
                         row[6].as<std::string>()};
}

void record_promoted_primary(pqxx::transaction_base& tx, const PrimaryRecord& primary) {
    tx.exec_params("INSERT INTO geo_ssf_primaries (generation, site_name, system_identifier, timeline, last_event_id,"
                   " promoted_from) VALUES ($1, $2, $3, $4, $5, NULLIF($6, ''))"
                   " ON CONFLICT (generation) DO NOTHING",
                   primary.generation, primary.site_name, primary.system_identifier, primary.timeline,
                   primary.last_event_id.value_or(0), primary.promoted_from);
}

FollowedPrimary primary_followed_through(pqxx::transaction_base& tx) {
    DatabaseIdentity database = database_identity(tx);
    FollowedPrimary out;
    out.system_identifier = database.system_identifier;
    out.timeline = database.timeline;
    if (auto primary = current_primary(tx)) {
        out.generation = primary->generation;
        out.site_name = primary->site_name;
        out.last_event_id = primary->last_event_id;
    }
    return out;
}

std::optional<FollowedPrimary> recorded_followed_primary(pqxx::transaction_base& tx) {
    if (!table_exists(tx, "geo_ssf_followed_primary"))
        return std::nullopt;
    auto rows = tx.exec("SELECT system_identifier, generation, site_name, timeline, storage_root_adopted"
                        " FROM geo_ssf_followed_primary");
    if (rows.empty())
        return std::nullopt;
    FollowedPrimary out;
    out.system_identifier = rows[0][0].as<std::string>();
    out.generation = rows[0][1].as<int>();
    out.site_name = text_or_empty(rows[0][2]);
    out.timeline = rows[0][3].as<int>();
    out.storage_root_adopted = rows[0][4].as<bool>();
    return out;
}

void record_followed_primary(pqxx::transaction_base& tx, const FollowedPrimary& primary) {
    tx.exec_params("INSERT INTO geo_ssf_followed_primary (system_identifier, generation, site_name, timeline,"
                   " storage_root_adopted) VALUES ($1, $2, NULLIF($3, ''), $4, $5)"
                   " ON CONFLICT (singleton) DO UPDATE SET system_identifier = EXCLUDED.system_identifier,"
                   " generation = EXCLUDED.generation, site_name = EXCLUDED.site_name, timeline = EXCLUDED.timeline,"
                   " storage_root_adopted = EXCLUDED.storage_root_adopted, noticed_at = now()",
                   primary.system_identifier, primary.generation, primary.site_name, primary.timeline,
                   primary.storage_root_adopted);
}

std::optional<PromotionRecord> latest_promotion(pqxx::transaction_base& tx) {
    if (!table_exists(tx, "geo_ssf_promotions"))
        return std::nullopt;
    auto rows = tx.exec("SELECT generation, from_site, accepted_data_loss, step, last_event_id, report_file, " +
                        utc_text("started_at") + ", " + utc_text("finished_at") +
                        " FROM geo_ssf_promotions ORDER BY generation DESC LIMIT 1");
    if (rows.empty())
        return std::nullopt;
    const auto& row = rows[0];
    PromotionRecord out;
    out.generation = row[0].as<int>();
    out.from_site = text_or_empty(row[1]);
    out.accepted_data_loss = row[2].as<bool>();
    out.step = row[3].as<std::string>();
    out.last_event_id = optional_bigint(row[4]);
    out.report_file = text_or_empty(row[5]);
    out.started_at = row[6].as<std::string>();
    out.finished_at = text_or_empty(row[7]);
    return out;
}

SiteRole read_site_role(const Config& config, const std::function<pqxx::connection&()>& main, pqxx::connection* geo) {
    RoleEvidence evidence;
    bool read_main = config.role == Role::primary;
    if (config.role == Role::secondary && geo) {
        pqxx::read_transaction tx(*geo);
        evidence.promotion = latest_promotion(tx);
        // Only a site that promoted itself can be the primary now: then its main database is asked.
        read_main = evidence.promotion && evidence.promotion->finished();
    }
    if (read_main) {
        pqxx::read_transaction tx(main());
        evidence.primary = current_primary(tx);
        // Whether it is a standby matters only once a promotion is recorded: no other read
        // before.
        if (evidence.primary)
            evidence.database = database_identity(tx);
    }
    return resolve_role(config, evidence);
}

SiteRole read_site_role(Site& site) {
    const Config& config = site.config();
    return read_site_role(
        config, [&]() -> pqxx::connection& { return site.main_database(); },
        config.role == Role::secondary ? &site.geo_database() : nullptr);
}

}  // namespace geo_ssf
