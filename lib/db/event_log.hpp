// The primary's event log (geo_events): its event names and its one writer.
#pragma once

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include <optional>
#include <string>

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

}  // namespace geo_ssf
