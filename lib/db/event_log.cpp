#include "db/event_log.hpp"

#include "db/standby.hpp"

namespace geo_ssf {

namespace {

constexpr const char* k_event_names[] = {"created", "updated", "deleted", "checksum_succeeded"};

}  // namespace

const char* event_name_text(EventName name) { return k_event_names[static_cast<int>(name)]; }

std::optional<EventName> parse_event_name(const std::string& text) {
    for (int i = 0; i < 4; ++i)
        if (text == k_event_names[i])
            return static_cast<EventName>(i);
    return std::nullopt;
}

long long append_events(pqxx::transaction_base& tx, const std::string& replicable, EventName name,
                        const nlohmann::json& payloads) {
    if (payloads.empty())
        return 0;
    return tx.exec_params("INSERT INTO geo_events (replicable_name, event_name, payload, created_at)"
                          " SELECT $1, $2, p, now() FROM jsonb_array_elements($3::jsonb) WITH ORDINALITY AS e(p, n)"
                          " ORDER BY n",
                          replicable, event_name_text(name), payloads.dump())
        .affected_rows();
}

std::vector<Event> read_events(pqxx::transaction_base& tx, long long after, int limit) {
    std::vector<Event> events;
    for (const auto& row : tx.exec_params("SELECT id, replicable_name, event_name, CASE WHEN octet_length(payload::text)"
                                          " <= $3 THEN payload::text END, octet_length(payload::text), coalesce(created_at < " +
                                              primary_now_sql() + " - interval '10 minutes', false)"
                                              " FROM geo_events WHERE id > $1 ORDER BY id LIMIT $2",
                                          after, limit, k_max_event_payload_bytes))
        events.push_back({row[0].as<long long>(), row[1].as<std::string>(), row[2].as<std::string>(),
                          row[3].is_null() ? std::string() : row[3].as<std::string>(), row[4].as<long long>(),
                          row[5].as<bool>()});
    return events;
}

long long newest_event_id(pqxx::transaction_base& tx) {
    return tx.exec1("SELECT coalesce(max(id), 0) FROM geo_events")[0].as<long long>();
}

namespace {

// "geo-evn": the advisory lock of event replay.
constexpr long long k_event_lock_key = 0x67656f2d65766eLL;

}  // namespace

const char* const k_event_cursor_sql = "SELECT max(event_id) FROM event_log_states";

std::optional<long long> event_cursor(pqxx::transaction_base& tx) {
    auto row = tx.exec1(k_event_cursor_sql);
    return row[0].is_null() ? std::nullopt : std::optional<long long>(row[0].as<long long>());
}

void move_event_cursor(pqxx::transaction_base& tx, long long last) {
    tx.exec_params("DELETE FROM event_log_states WHERE event_id <> $1", last);
    tx.exec_params("INSERT INTO event_log_states (event_id, created_at) VALUES ($1, now() AT TIME ZONE 'utc')"
                   " ON CONFLICT (event_id) DO NOTHING",
                   last);
}

EventReplayLock::EventReplayLock(pqxx::connection& geo) : m_geo(geo) {
    m_held = pqxx::nontransaction(m_geo)
                 .exec1("SELECT pg_try_advisory_lock(" + std::to_string(k_event_lock_key) + ")")[0]
                 .as<bool>();
}

EventReplayLock::~EventReplayLock() {
    // On a lost connection the lock went with it; a statement would connect again (libpqxx 6).
    if (!m_held || !m_geo.is_open())
        return;
    try {
        pqxx::nontransaction(m_geo).exec("SELECT pg_advisory_unlock(" + std::to_string(k_event_lock_key) + ")");
    } catch (...) {
        // The connection is gone, and the lock with it.
    }
}

}  // namespace geo_ssf
