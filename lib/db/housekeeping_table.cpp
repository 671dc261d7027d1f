#include "db/housekeeping_table.hpp"

#include "common/json.hpp"
#include "db/claims.hpp"
#include "db/model_table.hpp"
#include "db/states.hpp"
#include "db/transitions.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <iterator>
#include <random>

namespace geo_ssf::housekeeping_table {

namespace {

using P = Parameter;

int thread_random_30() {
    thread_local std::mt19937 generator{std::random_device{}()};
    return std::uniform_int_distribution<int>(0, 29)(generator);
}

// The rows of IDS, as record_where's outcomes.
nlohmann::json id_rows(const std::vector<long long>& ids) {
    nlohmann::json rows = nlohmann::json::array();
    for (long long id : ids)
        rows.push_back({{parameter_name(P::id), id}});
    return rows;
}

// record_where's guard for any row, whichever run holds it (it reads the claim time as $2): a
// copy is requested only between syncs, when no housekeeping holds it.
const std::string k_any_row = "$2::text IS NOT NULL";

}  // namespace

HousekeepingOutcome succeeded(std::string tasks, bool full_repack, double seconds) {
    HousekeepingOutcome o;
    o.succeeded = true;
    o.tasks = std::move(tasks);
    o.full_repack = full_repack;
    o.seconds = seconds;
    return o;
}

HousekeepingOutcome failed(int previous_retry_count, std::string tasks, std::string_view reason, double seconds,
                           const std::function<int()>& random_30) {
    HousekeepingOutcome o;
    o.tasks = std::move(tasks);
    o.seconds = seconds;
    o.failure = truncate_failure(reason);
    o.retry_count = std::min(std::max(previous_retry_count, 0) + 1, k_retry_count_max);
    o.retry_in = retry_delay(o.retry_count, k_retry_cap, random_30);
    return o;
}

HousekeepingOutcome failed(int previous_retry_count, std::string tasks, std::string_view reason, double seconds) {
    return failed(previous_retry_count, std::move(tasks), reason, seconds, thread_random_30);
}

void request(pqxx::transaction_base& tx, const Replicable& r, const std::vector<long long>& synced,
             const std::vector<long long>& fresh) {
    if (synced.empty())
        return;
    tx.exec_params("INSERT INTO geo_ssf_housekeeping (replicable, record_id) SELECT $1, i FROM unnest($2::bigint[]) "
                   "AS i ON CONFLICT DO NOTHING",
                   r.name, bigint_array(synced));
    std::vector<long long> updated;
    std::set_difference(synced.begin(), synced.end(), fresh.begin(), fresh.end(), std::back_inserter(updated));
    const ClaimableWork& work = k_housekeeping;
    record_where(tx, work, r, transition::housekeeping_requested(), id_rows(updated), k_any_row, "");
    record_where(tx, work, r, transition::housekeeping_requested_for_fresh_copy(), id_rows(fresh), k_any_row, "");
}

void delete_rows(pqxx::transaction_base& tx, const Replicable& r, const std::vector<long long>& ids) {
    if (ids.empty())
        return;
    tx.exec_params("DELETE FROM geo_ssf_housekeeping WHERE replicable = $1 AND record_id = ANY($2::bigint[])", r.name,
                   bigint_array(ids));
}

std::map<long long, History> history_of(pqxx::transaction_base& tx, const Replicable& r,
                                        const std::vector<long long>& ids) {
    std::map<long long, History> out;
    if (ids.empty())
        return out;
    for (const auto& row : tx.exec_params("SELECT record_id, housekeeping_fresh_copy, extract(epoch FROM now() - "
                                          "full_repacked_at)::float8 FROM geo_ssf_housekeeping WHERE replicable = $1 "
                                          "AND record_id = ANY($2::bigint[])",
                                          r.name, bigint_array(ids))) {
        History history;
        history.fresh_copy = row[1].as<bool>();
        if (!row[2].is_null())
            history.seconds_since_full_repack = row[2].as<double>();
        out[row[0].as<long long>()] = history;
    }
    return out;
}

long long record_outcomes(pqxx::connection& geo, const Replicable& r, const std::string& claim_time,
                          const std::vector<std::pair<long long, HousekeepingOutcome>>& outcomes) {
    if (outcomes.empty())
        return 0;
    nlohmann::json succeeded = nlohmann::json::array(), failed = nlohmann::json::array();
    for (const auto& [id, o] : outcomes)
        (o.succeeded ? succeeded : failed)
            .push_back({{parameter_name(P::id), id},
                        {parameter_name(P::tasks), o.tasks},
                        {parameter_name(P::full_repack), o.full_repack},
                        {parameter_name(P::seconds), o.seconds},
                        {parameter_name(P::failure), json_or_null(o.failure)},
                        {parameter_name(P::retry_count), o.retry_count},
                        {parameter_name(P::retry_in), json_or_null(o.retry_in)}});
    const ClaimableWork& work = k_housekeeping;
    pqxx::work tx(geo);
    auto recorded = record_claimed(tx, work, r, transition::housekeeping_succeeded(), succeeded, claim_time).size() +
                    record_claimed(tx, work, r, transition::housekeeping_failed(), failed, claim_time).size();
    tx.commit();
    return static_cast<long long>(recorded);
}

long long count_failed(TimedReader& reader, const Replicable& r) {
    return reader
        .exec("SELECT count(*) FROM geo_ssf_housekeeping WHERE replicable = $1 AND housekeeping_state = " +
                  sql::value(VerificationState::failed),
              r.name)[0][0]
        .as<long long>();
}

}  // namespace geo_ssf::housekeeping_table
