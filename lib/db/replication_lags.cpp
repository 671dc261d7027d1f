#include "db/replication_lags.hpp"

#include "db/model_table.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <limits>
#include <map>
#include <utility>

namespace geo_ssf::replication_lags {

const std::vector<double> k_buckets = {0.1, 0.25, 0.5, 1,    2,    5,     10,    30,   60,
                                       120, 300,  600, 1800, 3600, 10800, 43200, 86400};

namespace {

// "{0.1,0.25,...}": the bounds as a float8[] parameter.
std::string bucket_array() {
    std::string out = "{";
    for (size_t i = 0; i < k_buckets.size(); ++i) {
        char number[32];
        std::snprintf(number, sizeof number, "%g", k_buckets[i]);
        out += (i ? "," : "") + std::string(number);
    }
    return out + "}";
}

// Counts the lags the CTE `noted` returns (column lag) in the histogram of R's STAGE ($1 is
// the registry table). Buckets are written in their order, so that runs recording at the same
// time lock them in the same order.
std::string count_lags_sql(const std::string& stage) {
    return "INSERT INTO geo_ssf_lag_histogram AS h (registry_table, stage, le, samples, seconds)"
           " SELECT $1, '" + stage + "', b.le, count(*), sum(n.lag) FROM noted n"
           " CROSS JOIN LATERAL (SELECT coalesce(min(bound), 'Infinity') AS le FROM unnest($3::float8[]) AS bound"
           " WHERE bound >= n.lag) b GROUP BY b.le ORDER BY b.le"
           " ON CONFLICT (registry_table, stage, le) DO UPDATE SET samples = h.samples + excluded.samples,"
           " seconds = h.seconds + excluded.seconds";
}

}  // namespace

void note_changes(pqxx::transaction_base& tx, const Replicable& r, const std::vector<Change>& changes) {
    if (changes.empty())
        return;
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& c : changes)
        rows.push_back({{"id", c.id}, {"event_id", c.event_id}, {"changed_at", c.changed_at},
                        {"first_changed_at", c.first_changed_at}});
    tx.exec_params("INSERT INTO geo_ssf_changes AS c (registry_table, record_id, event_id, changed_at, unsynced_since,"
                   " unverified_since)"
                   " SELECT $1, x.id, x.event_id, x.changed_at, x.first_changed_at,"
                   " CASE WHEN $3 THEN x.first_changed_at END"
                   " FROM jsonb_to_recordset($2::jsonb) AS x(id bigint, event_id bigint, changed_at timestamptz,"
                   " first_changed_at timestamptz) ORDER BY x.id"
                   " ON CONFLICT (registry_table, record_id) DO UPDATE SET event_id = excluded.event_id,"
                   " changed_at = excluded.changed_at,"
                   " unsynced_since = coalesce(c.unsynced_since, excluded.unsynced_since),"
                   " unverified_since = CASE WHEN $3 THEN coalesce(c.unverified_since, excluded.unverified_since) END",
                   r.registry_table, rows.dump(), r.verification_enabled);
}

void note_synced(pqxx::transaction_base& tx, const Replicable& r, const std::vector<long long>& ids) {
    if (ids.empty())
        return;
    tx.exec_params("WITH noted AS (UPDATE geo_ssf_changes c SET synced_at = now(),"
                   " sync_lag_seconds = greatest(0, extract(epoch FROM now() - c.unsynced_since)),"
                   " unsynced_since = NULL"
                   " WHERE c.registry_table = $1 AND c.record_id = ANY($2::bigint[]) AND c.unsynced_since IS NOT NULL"
                   " RETURNING c.sync_lag_seconds AS lag) " +
                       count_lags_sql("synced"),
                   r.registry_table, bigint_array(ids), bucket_array());
}

void note_verified(pqxx::transaction_base& tx, const Replicable& r, const std::vector<long long>& ids) {
    if (ids.empty())
        return;
    // A copy synced before a change it does not hold proves nothing of that change.
    tx.exec_params("WITH noted AS (UPDATE geo_ssf_changes c SET verified_at = now(),"
                   " verification_lag_seconds = greatest(0, extract(epoch FROM now() - c.unverified_since)),"
                   " unverified_since = NULL"
                   " WHERE c.registry_table = $1 AND c.record_id = ANY($2::bigint[]) AND c.unsynced_since IS NULL"
                   " AND c.unverified_since IS NOT NULL RETURNING c.verification_lag_seconds AS lag) " +
                       count_lags_sql("verified"),
                   r.registry_table, bigint_array(ids), bucket_array());
}

void forget(pqxx::transaction_base& tx, const Replicable& r, const std::vector<long long>& ids) {
    if (ids.empty())
        return;
    tx.exec_params("DELETE FROM geo_ssf_changes WHERE registry_table = $1 AND record_id = ANY($2::bigint[])",
                   r.registry_table, bigint_array(ids));
}

LagStatus read_lag_status(TimedReader& geo, const Replicable& r) {
    auto row = geo.exec(
        "SELECT n.sync_lag_seconds, CASE WHEN n.verified_at >= n.synced_at THEN n.verification_lag_seconds END,"
        " extract(epoch FROM now() - n.synced_at)::float8,"
        " (SELECT extract(epoch FROM now() - min(unsynced_since))::float8 FROM geo_ssf_changes"
        "  WHERE registry_table = $1 AND unsynced_since IS NOT NULL),"
        " (SELECT extract(epoch FROM now() - min(unverified_since))::float8 FROM geo_ssf_changes"
        "  WHERE registry_table = $1 AND unverified_since IS NOT NULL)"
        " FROM (SELECT 1) one LEFT JOIN LATERAL (SELECT synced_at, sync_lag_seconds, verified_at,"
        " verification_lag_seconds FROM geo_ssf_changes WHERE registry_table = $1 AND synced_at IS NOT NULL"
        " ORDER BY synced_at DESC LIMIT 1) n ON true",
        r.registry_table)[0];
    auto value = [&](int i) {
        return row[i].is_null() ? std::nullopt : std::optional<double>(std::max(0.0, row[i].as<double>()));
    };
    return {value(0), value(1), value(2), value(3), value(4)};
}

std::vector<LagHistogram> read_lag_histograms(pqxx::connection& geo, const std::vector<const Replicable*>& types,
                                              const std::vector<std::string>& stages) {
    std::map<std::pair<std::string, std::string>, std::map<double, std::pair<long long, double>>> stored;
    {
        pqxx::read_transaction tx(geo);
        for (const auto& row : tx.exec("SELECT registry_table, stage, CASE WHEN le <> 'Infinity' THEN le END, samples,"
                                       " seconds FROM geo_ssf_lag_histogram")) {
            double bound = row[2].is_null() ? std::numeric_limits<double>::infinity() : row[2].as<double>();
            stored[{row[0].as<std::string>(), row[1].as<std::string>()}][bound] = {row[3].as<long long>(),
                                                                                   row[4].as<double>()};
        }
    }
    std::vector<LagHistogram> out;
    for (const Replicable* r : types)
        for (const auto& stage : stages) {
            // Every bucket of today's bounds, and any other a row holds, in order; then +Inf.
            std::map<double, std::pair<long long, double>> buckets;
            for (double bound : k_buckets)
                buckets[bound] = {0, 0.0};
            buckets[std::numeric_limits<double>::infinity()] = {0, 0.0};
            if (auto found = stored.find({r->registry_table, stage}); found != stored.end())
                for (const auto& [bound, counts] : found->second)
                    buckets[bound] = counts;
            LagHistogram histogram{r->name, stage, {}, 0, 0};
            for (const auto& [bound, counts] : buckets) {
                histogram.count += counts.first;
                histogram.sum += counts.second;
                histogram.buckets.emplace_back(bound, histogram.count);
            }
            out.push_back(std::move(histogram));
        }
    return out;
}

}  // namespace geo_ssf::replication_lags
