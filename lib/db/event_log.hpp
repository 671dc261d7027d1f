// The primary's event log (geo_events): its event names and its one writer.
#pragma once

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace geo_ssf {

enum class EventName { created, updated, deleted, checksum_succeeded };

const char* event_name_text(EventName name);
std::optional<EventName> parse_event_name(const std::string& text);

// What a secondary's replay of the event log did.
struct EventCounts {
    long long processed = 0;  // events the cursor moved past
    long long skipped = 0;    // of those, unknown types, disabled types and malformed payloads
    long long last_event_id = 0;
    bool stopped = false;     // replay stopped with events left (--max-runtime, a stop request)
};

// Appends one NAME event of REPLICABLE per element of PAYLOADS (a JSON array), in order, in TX.
// Returns how many were appended.
long long append_events(pqxx::transaction_base& tx, const std::string& replicable, EventName name,
                        const nlohmann::json& payloads);

// One event of the log, as a secondary replays it.
struct Event {
    long long id = 0;
    std::string replicable;
    std::string name;
    std::string payload;      // empty when it is longer than k_max_event_payload_bytes
    long long payload_bytes = 0;
    bool gap_is_old = false;  // a gap just before this event would be a rolled-back transaction
    std::string created_at;   // when it was published, on the primary's clock (timestamptz text)
};

// The longest payload a secondary reads: GitLab's are a few hundred bytes, and a batch of events
// must not hold gigabytes. A longer one is not read, and its event is skipped.
inline constexpr long long k_max_event_payload_bytes = 65536;

// Up to LIMIT events after id AFTER, in id order. An event is old enough that an id missing
// before it belongs to a transaction that rolled back when it was created ten minutes before
// now on the primary's clock (primary_now_sql).
std::vector<Event> read_events(pqxx::transaction_base& tx, long long after, int limit);
// The newest event's id; 0 when the log is empty.
long long newest_event_id(pqxx::transaction_base& tx);
// Up to LIMIT events after id AFTER or among MISSED (ids once skipped, which a transaction may
// commit late), in id order: what a primary's follow mode reads when notified.
std::vector<Event> read_events_or_missed(pqxx::transaction_base& tx, long long after,
                                         const std::vector<long long>& missed, int limit);

// What the log holds after an id, as the follow mode polls a standby for it: one cheap read
// of the primary key's index, of the next 10,000 events at most.
struct EventsAfter {
    long long count = 0;    // events after the id (10,000 at most)
    long long newest = 0;   // the largest id among them; 0 when none
    bool operator==(const EventsAfter& other) const = default;
};
EventsAfter events_after(pqxx::transaction_base& tx, long long after);

// Where the event log notifies its listeners: one notification per statement that inserts
// events, sent when that statement's transaction commits (a trigger of geo_events). A standby
// sends none.
extern const char* const k_event_channel;

// A LISTEN on the event log's channel, on a connection of its own that it opens with CONNINFO
// and closes at the end of its scope.
class EventNotifications {
public:
    explicit EventNotifications(const std::string& conninfo);
    ~EventNotifications();
    EventNotifications(const EventNotifications&) = delete;
    EventNotifications& operator=(const EventNotifications&) = delete;
    // The connection's socket: readable when a notification (or the end of the connection) has come.
    int socket() const;
    // Reads what came on the socket; whether a notification was among it. A connection found
    // gone is a pqxx::broken_connection.
    bool take();

private:
    class Receiver;
    std::unique_ptr<pqxx::connection> m_connection;
    std::unique_ptr<Receiver> m_receiver;
};

// A secondary's cursor in the event log (event_log_states, in the tracking database): the last
// event replayed; nullopt before the first replay. EVENT_CURSOR_SQL reads it.
std::optional<long long> event_cursor(pqxx::transaction_base& tx);
extern const char* const k_event_cursor_sql;
// Moves the cursor to LAST in TX, the transaction that applies the events up to it.
void move_event_cursor(pqxx::transaction_base& tx, long long last);

// Only one run replays events at a time: the others skip that step rather than replay the same
// events and move the cursor in a race. Held for the object's lifetime, if it could be taken.
class EventReplayLock {
public:
    explicit EventReplayLock(pqxx::connection& geo);
    ~EventReplayLock();
    EventReplayLock(const EventReplayLock&) = delete;
    EventReplayLock& operator=(const EventReplayLock&) = delete;
    bool held() const { return m_held; }

private:
    pqxx::connection& m_geo;
    bool m_held = false;
};

}  // namespace geo_ssf
