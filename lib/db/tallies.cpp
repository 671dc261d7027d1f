#include "db/tallies.hpp"

#include "site/database.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace geo_ssf {

namespace {

// The triggers each type's migration attaches (templates/*_migration.sql.mustache).
constexpr const char* k_tally_triggers_enabled =
    "SELECT count(*) = 4 FROM pg_trigger WHERE tgrelid = to_regclass($1) AND tgenabled IN ('O', 'A') "
    "AND tgname IN ('geo_ssf_tally_insert', 'geo_ssf_tally_update', 'geo_ssf_tally_delete', 'geo_ssf_tally_truncate')";

// Both readings end in rows of (sync state, verification state, records, the whole table's id
// hash sum) ordered by the states, so that one parser reads either.
TableTallies parse_tallies(const pqxx::result& rows) {
    TableTallies out;
    out.ids.hash_sum = "0";
    for (const auto& row : rows) {
        Tally tally;
        if (!row[0].is_null())
            tally.sync_state = row[0].as<int>();
        tally.verification_state = row[1].as<int>();
        tally.records = row[2].as<long long>();
        out.ids.count += tally.records;
        out.ids.hash_sum = row[3].as<std::string>();
        if (tally.records != 0)
            out.by_state.push_back(tally);
    }
    return out;
}

std::string sync_state_column(const TalliedTable& table) { return table.has_sync_state ? "state" : "NULL::smallint"; }

}  // namespace

std::string id_hash_sql(const std::string& column) { return "hashint8extended(" + column + ", 0)"; }

TalliedTable registry_tallied_table(const Replicable& replicable) {
    return {replicable.registry_table, replicable.foreign_key, true};
}

TalliedTable states_tallied_table(const Replicable& replicable) {
    return {replicable.states_table, replicable.foreign_key, false};
}

TalliedTable tallied_table_of(const Replicable& replicable, Role role) {
    return role == Role::primary ? states_tallied_table(replicable) : registry_tallied_table(replicable);
}

std::optional<TableTallies> read_tallies(TimedReader& reader, const TalliedTable& table) {
    if (!reader.exec(k_tally_triggers_enabled, table.name)[0][0].as<bool>())
        return std::nullopt;
    return parse_tallies(reader.exec("SELECT state, verification_state, sum(records), "
                                     "(sum(sum(id_hash_sum)) OVER ())::text FROM geo_ssf_tallies "
                                     "WHERE table_name = $1 GROUP BY state, verification_state "
                                     "ORDER BY state, verification_state",
                                     table.name));
}

bool TableTallies::below_zero() const {
    return std::any_of(by_state.begin(), by_state.end(), [](const Tally& t) { return t.records < 0; });
}

TableTallies count_tallies(TimedReader& reader, const TalliedTable& table, const std::string& where) {
    return parse_tallies(reader.exec("SELECT " + sync_state_column(table) +
                                     " AS state, verification_state, count(*), (sum(sum(" +
                                     id_hash_sql(table.id_column) + ")) OVER ())::text FROM " + table.name +
                                     " WHERE " + where + " GROUP BY 1, 2 ORDER BY 1, 2"));
}

std::string describe_difference(const TableTallies& stored, const TableTallies& counted) {
    auto records_in = [](const TableTallies& tallies, const Tally& like) {
        for (const auto& t : tallies.by_state)
            if (t.sync_state == like.sync_state && t.verification_state == like.verification_state)
                return t.records;
        return 0LL;
    };
    for (const auto* side : {&stored, &counted})
        for (const auto& t : side->by_state)
            if (records_in(stored, t) != records_in(counted, t))
                return (t.sync_state ? "state " + std::to_string(*t.sync_state) + ", " : std::string()) +
                       "verification_state " + std::to_string(t.verification_state) + ": " +
                       std::to_string(records_in(stored, t)) + " rows tallied, " +
                       std::to_string(records_in(counted, t)) + " in the table";
    if (stored.ids != counted.ids)
        return "the same counts, but the tallied record ids are not the table's";
    return "none";
}

void fold_tallies(pqxx::connection& connection) try {
    pqxx::work tx(connection);
    // Folds, recounts and the truncate trigger, which all delete rows, take turns under this
    // lock: one that deleted rows while another folded them would miss the folded rows (READ
    // COMMITTED skips rows deleted meanwhile and does not see rows added). Writers only add
    // rows, which the lock lets them do.
    tx.exec("LOCK TABLE geo_ssf_tallies IN SHARE UPDATE EXCLUSIVE MODE");
    tx.exec("WITH folded AS (DELETE FROM geo_ssf_tallies RETURNING *) "
            "INSERT INTO geo_ssf_tallies (table_name, state, verification_state, records, id_hash_sum) "
            "SELECT table_name, state, verification_state, sum(records), sum(id_hash_sum) FROM folded "
            "GROUP BY table_name, state, verification_state HAVING sum(records) <> 0 OR sum(id_hash_sum) <> 0");
    tx.commit();
} catch (const pqxx::failure& e) {
    // The run's own work is done and committed; unfolded rows only make status read more.
    spdlog::warn("could not fold the tallies: {}", describe_database_error(e));
}

std::optional<long long> recount_tallies(pqxx::connection& connection, const TalliedTable& table,
                                        std::chrono::milliseconds lock_timeout) {
    pqxx::work tx(connection);
    if (!tx.exec_params1(k_tally_triggers_enabled, table.name)[0].as<bool>())
        return std::nullopt;
    // Writers queue behind a lock that waits: give up rather than stall them for long.
    tx.exec("SET LOCAL lock_timeout = " + std::to_string(std::max<long long>(lock_timeout.count(), 1)));
    // Writers wait (their triggers would change the tallies being replaced); readers do not.
    tx.exec("LOCK TABLE " + table.name + " IN SHARE MODE");
    tx.exec("LOCK TABLE geo_ssf_tallies IN SHARE UPDATE EXCLUSIVE MODE");
    tx.exec_params("DELETE FROM geo_ssf_tallies WHERE table_name = $1", table.name);
    long long counted =
        tx.exec_params1("WITH recounted AS (INSERT INTO geo_ssf_tallies (table_name, state, verification_state, "
                        "records, id_hash_sum) SELECT $1, " + sync_state_column(table) +
                            ", verification_state, count(*), sum(" + id_hash_sql(table.id_column) + ") FROM " +
                            table.name + " GROUP BY 2, 3 RETURNING records) "
                            "SELECT coalesce(sum(records), 0) FROM recounted",
                        table.name)[0]
            .as<long long>();
    tx.commit();
    return counted;
}

}  // namespace geo_ssf
