#include "db/status_reads.hpp"

#include "common/duration.hpp"
#include "db/event_log.hpp"
#include "db/model_table.hpp"
#include "db/standby.hpp"
#include "db/tallies.hpp"
#include "db/transitions.hpp"

#include <spdlog/spdlog.h>

namespace geo_ssf {

namespace {

using Clock = TimedReader::Clock;

long long as_count(const pqxx::field& field) { return field.is_null() ? 0 : field.as<long long>(); }

std::optional<EventMark> read_mark(TimedReader& reader, const std::string& where) {
    auto rows = reader.exec("SELECT id, to_json(created_at) #>> '{}', extract(epoch FROM created_at)::float8, "
                            "extract(epoch FROM now() - created_at)::float8 FROM geo_events " + where);
    if (rows.empty())
        return std::nullopt;
    return EventMark{rows[0][0].as<long long>(), rows[0][1].as<std::string>(), rows[0][2].as<double>(),
                     rows[0][3].as<double>()};
}

// The digest id_set_difference.hpp compares: how many ids, and the exact sum of their hashes.
std::string digest_sql(const std::string& column) {
    return "count(*), coalesce(sum(" + id_hash_sql(column) + "), 0)::text";
}

RangeDigest read_digest(const pqxx::row& row, int first) {
    return {as_count(row[first]), row[first + 1].as<std::string>()};
}

// Odd names, so that a scope predicate's own column names never resolve to them.
std::string ranges_sql() {
    return "unnest($1::bigint[], $2::bigint[]) WITH ORDINALITY AS geo_ssf_range(geo_ssf_first, geo_ssf_last, "
           "geo_ssf_n)";
}

std::string firsts(const std::vector<IdRange>& ranges) {
    std::vector<long long> out;
    for (const auto& r : ranges)
        out.push_back(r.first);
    return bigint_array(out);
}

std::string lasts(const std::vector<IdRange>& ranges) {
    std::vector<long long> out;
    for (const auto& r : ranges)
        out.push_back(r.last);
    return bigint_array(out);
}

}  // namespace

std::optional<EventMark> read_newest_event(TimedReader& main) { return read_mark(main, "ORDER BY id DESC LIMIT 1"); }

std::optional<EventMark> read_event_mark(TimedReader& main, long long id) {
    return read_mark(main, "WHERE id = " + std::to_string(id));
}

std::vector<long long> read_records_of_events_after(TimedReader& main, const Replicable& r, long long cursor) {
    std::vector<long long> out;
    for (const auto& row : main.exec("SELECT DISTINCT (payload->>'model_record_id')::bigint FROM (SELECT payload "
                                     "FROM geo_events WHERE id > $1 AND replicable_name = $2 ORDER BY id LIMIT 10000) e "
                                     "WHERE payload->>'model_record_id' ~ '^-?[0-9]{1,18}$'",
                                     cursor, r.name))
        out.push_back(row[0].as<long long>());
    return out;
}

std::optional<long long> read_event_cursor(TimedReader& geo) {
    auto row = geo.exec(k_event_cursor_sql)[0];
    return row[0].is_null() ? std::nullopt : std::optional<long long>(row[0].as<long long>());
}

StandbyState read_standby_state(TimedReader& main) {
    auto row = main.exec("SELECT " + standby_state_sql())[0];
    StandbyState state;
    state.is_standby = row[0].as<bool>();
    if (!row[1].is_null())
        state.lag_seconds = row[1].as<double>();
    return state;
}

WalkProgress read_walk_progress(TimedReader& reader, const std::string& walk) {
    return walk_progress(reader.exec(walk_progress_sql(), walk));
}

std::optional<long long> read_largest_id(TimedReader& reader, const std::string& table, const std::string& column) {
    auto row = reader.exec("SELECT max(" + column + ") FROM " + table)[0];
    return row[0].is_null() ? std::nullopt : std::optional<long long>(row[0].as<long long>());
}

long long count_rows_above(TimedReader& reader, const std::string& table, const std::string& column, long long id) {
    return as_count(reader.exec("SELECT count(*) FROM " + table + " WHERE " + column + " > $1", id)[0][0]);
}

long long count_in_scope(TimedReader& main, const Replicable& r, std::optional<long long> above) {
    std::string sql = "SELECT count(*) FROM " + r.model_table + " WHERE " + scope_predicate(r);
    if (!above)
        return as_count(main.exec(sql)[0][0]);
    return as_count(main.exec(sql + " AND " + r.model_key + " > $1", *above)[0][0]);
}

std::map<std::string, StorageCounts> primary_counts_by_storage(TimedReader& main, const Replicable& r) {
    std::string storage = r.storage_column.empty() ? "'" + std::string(k_default_storage) + "'"
                                                   : "coalesce(m." + r.storage_column + "::text, '')";
    std::map<std::string, StorageCounts> out;
    for (const auto& row : main.exec("SELECT " + storage + ", count(*), count(*) FILTER (WHERE s.verification_state = " +
                                     sql::value(VerificationState::succeeded) + "), count(*) FILTER (WHERE "
                                     "s.verification_state = " + sql::value(VerificationState::failed) + ") FROM " +
                                     r.states_table + " s JOIN " + r.model_table + " m ON m." + r.model_key + " = s." +
                                     r.foreign_key + " WHERE " + scope_predicate_of(r, "m") + " GROUP BY 1")) {
        StorageCounts& counts = out[row[0].as<std::string>()];
        counts.records = row[1].as<long long>();
        counts.verified = row[2].as<long long>();
        counts.failed = row[3].as<long long>();
    }
    return out;
}

std::map<std::string, StorageCounts> secondary_counts_by_storage(TimedReader& geo, const Replicable& r) {
    std::map<std::string, StorageCounts> out;
    for (const auto& row : geo.exec(
             "SELECT coalesce(c.storage, ''), count(*), count(*) FILTER (WHERE g.state = " +
                 sql::value(SyncState::synced) + "), count(*) FILTER (WHERE g.state = " + sql::value(SyncState::synced) +
                 " AND g.verification_state = " + sql::value(VerificationState::succeeded) + "), count(*) FILTER "
                 "(WHERE g.state = " + sql::value(SyncState::failed) + " OR g.verification_state = " +
                 sql::value(VerificationState::failed) + ") FROM " + r.registry_table + " g LEFT JOIN LATERAL (SELECT "
                 "storage FROM geo_ssf_copies WHERE replicable = $1 AND record_id = g." + r.foreign_key +
                 " AND removal IS NULL ORDER BY recorded_at DESC LIMIT 1) c ON true GROUP BY 1",
             r.name)) {
        StorageCounts& counts = out[row[0].as<std::string>()];
        counts.records = row[1].as<long long>();
        counts.synced = row[2].as<long long>();
        counts.verified = row[3].as<long long>();
        counts.failed = row[4].as<long long>();
    }
    return out;
}

long long count_missing_on_primary(TimedReader& geo, const Replicable& r) {
    // Few rows, through the registry's partial index on missing_on_primary.
    return as_count(geo.exec("SELECT count(*) FROM " + r.registry_table + " WHERE missing_on_primary")[0][0]);
}

TableIds::TableIds(TimedReader& reader, std::string table, std::string column, std::string predicate)
    : m_reader(reader), m_table(std::move(table)), m_column(std::move(column)), m_predicate(std::move(predicate)) {}

std::optional<IdRange> TableIds::bounds() {
    auto row = m_reader.exec("SELECT min(" + m_column + "), max(" + m_column + ") FROM " + m_table + " WHERE " +
                             m_predicate)[0];
    if (row[0].is_null())
        return std::nullopt;
    return IdRange{row[0].as<long long>(), row[1].as<long long>()};
}

RangeDigest TableIds::digest(const IdRange& range) {
    return read_digest(m_reader.exec("SELECT " + digest_sql(m_column) + " FROM " + m_table + " WHERE " + m_column +
                                         " BETWEEN $1 AND $2 AND " + m_predicate,
                                     range.first, range.last)[0],
                       0);
}

std::vector<RangeDigest> TableIds::digests(const std::vector<IdRange>& ranges) {
    auto started = Clock::now();
    std::vector<RangeDigest> out;
    for (const auto& row : m_reader.exec("SELECT d.* FROM " + ranges_sql() + " CROSS JOIN LATERAL (SELECT " +
                                             digest_sql(m_column) + " FROM " + m_table + " WHERE " + m_column +
                                             " BETWEEN geo_ssf_first AND geo_ssf_last AND " + m_predicate +
                                             ") d ORDER BY geo_ssf_n",
                                         firsts(ranges), lasts(ranges)))
        out.push_back(read_digest(row, 0));
    spdlog::debug("{}: digests of {} id ranges in {} ms", m_table, ranges.size(), milliseconds_since(started));
    return out;
}

std::vector<long long> TableIds::ids(const std::vector<IdRange>& ranges) {
    auto started = Clock::now();
    std::vector<long long> out;
    for (const auto& row : m_reader.exec("SELECT x.id FROM " + ranges_sql() + " CROSS JOIN LATERAL (SELECT " + m_column +
                                             " AS id FROM " + m_table + " WHERE " + m_column +
                                             " BETWEEN geo_ssf_first AND geo_ssf_last AND " + m_predicate + ") x",
                                         firsts(ranges), lasts(ranges)))
        out.push_back(row[0].as<long long>());
    spdlog::debug("{}: {} ids of {} ranges in {} ms", m_table, out.size(), ranges.size(), milliseconds_since(started));
    return out;
}

std::vector<std::pair<long long, long long>> TableIds::members(const std::vector<long long>& ids) {
    std::vector<std::pair<long long, long long>> out;
    for (const auto& row : m_reader.exec("SELECT " + m_column + ", " + id_hash_sql(m_column) + " FROM " + m_table +
                                             " WHERE " + m_column + " = ANY($1::bigint[]) AND " + m_predicate,
                                         bigint_array(ids)))
        out.emplace_back(row[0].as<long long>(), row[1].as<long long>());
    return out;
}

TableIds model_ids(TimedReader& main, const Replicable& r) {
    return TableIds(main, r.model_table, r.model_key, scope_predicate(r));
}

TableIds registry_ids(TimedReader& geo, const Replicable& r) { return TableIds(geo, r.registry_table, r.foreign_key, "true"); }

}  // namespace geo_ssf
