// The primary's event log (geo_events): its event names and its one writer.
#pragma once

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

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
