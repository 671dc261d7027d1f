#include "db/event_log.hpp"

#include "db/model_table.hpp"
#include "db/standby.hpp"
#include "site/database.hpp"

#include <string>
#include <utility>

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

namespace {

std::vector<Event> read_event_rows(const pqxx::result& rows) {
    std::vector<Event> events;
    events.reserve(rows.size());
    for (const auto& row : rows)
        events.push_back({row[0].as<long long>(), row[1].as<std::string>(), row[2].as<std::string>(),
                          row[3].is_null() ? std::string() : row[3].as<std::string>(), row[4].as<long long>(),
                          row[5].as<bool>(), row[6].as<std::string>()});
    return events;
}

// The payload is read only when it is at most k_max_event_payload_bytes long.
std::string event_columns_sql() {
    return "id, replicable_name, event_name, CASE WHEN octet_length(payload::text) <= " +
           std::to_string(k_max_event_payload_bytes) + " THEN payload::text END, octet_length(payload::text)," +
           " coalesce(created_at < " + primary_now_sql() + " - interval '10 minutes', false), created_at::text";
}

}  // namespace

std::vector<Event> read_events(pqxx::transaction_base& tx, long long after, int limit) {
    return read_event_rows(tx.exec_params(
        "SELECT " + event_columns_sql() + " FROM geo_events WHERE id > $1 ORDER BY id LIMIT $2", after, limit));
}

std::vector<Event> read_events_or_missed(pqxx::transaction_base& tx, long long after,
                                         const std::vector<long long>& missed, int limit) {
    return read_event_rows(tx.exec_params("SELECT " + event_columns_sql() +
                                              " FROM geo_events WHERE id > $1 OR id = ANY($2::bigint[])"
                                              " ORDER BY id LIMIT $3",
                                          after, bigint_array(missed), limit));
}

long long newest_event_id(pqxx::transaction_base& tx) {
    return tx.exec1("SELECT coalesce(max(id), 0) FROM geo_events")[0].as<long long>();
}

EventsAfter events_after(pqxx::transaction_base& tx, long long after) {
    auto row = tx.exec_params1("SELECT count(*), coalesce(max(id), 0) FROM"
                               " (SELECT id FROM geo_events WHERE id > $1 ORDER BY id LIMIT 10000) e",
                               after);
    return {row[0].as<long long>(), row[1].as<long long>()};
}

const char* const k_event_channel = "geo_ssf_events";

class EventNotifications::Receiver : public pqxx::notification_receiver {
public:
    explicit Receiver(pqxx::connection& connection) : pqxx::notification_receiver(connection, k_event_channel) {}
    void operator()(const std::string&, int) override { m_notified = true; }
    bool take() { return std::exchange(m_notified, false); }

private:
    bool m_notified = false;
};

EventNotifications::EventNotifications(const std::string& conninfo) {
    // Not the read-only session of a secondary's main database: LISTEN is refused in a read-only
    // transaction, though it writes nothing.
    m_connection = connect_database(conninfo, "main", Access::read_write);
    m_receiver = std::make_unique<Receiver>(*m_connection);  // LISTEN geo_ssf_events
}

EventNotifications::~EventNotifications() {
    try {
        m_receiver.reset();  // UNLISTEN, while the connection is there
    } catch (...) {
        // The connection is gone, and the LISTEN with it.
    }
}

int EventNotifications::socket() const { return m_connection->sock(); }

bool EventNotifications::take() {
    m_connection->get_notifs();
    if (!m_connection->is_open())
        throw pqxx::broken_connection("the connection that listens for new events is closed");
    return m_receiver->take();
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
