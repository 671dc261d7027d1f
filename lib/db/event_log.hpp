// The primary's event log (geo_events): what hooks publish for secondaries to replay.
#pragma once

#include "site/site.hpp"

#include <optional>
#include <string>
#include <vector>

namespace geo_ssf {

enum class EventName { created, updated, deleted, checksum_succeeded };

const char* event_name_text(EventName name);
std::optional<EventName> parse_event_name(const std::string& text);

struct PublishResult {
    long long events = 0;         // rows added to geo_events
    long long marked_pending = 0; // state rows marked verification-pending
};

// Publishes NAME for the records IDS of REPLICABLE in one transaction, with GitLab's payloads:
// {"model_record_id": id}, and for `deleted` also the repository's relative path. For created
// and updated the records' state rows are marked verification-pending, so the next verify run
// checksums them again. Records that do not exist are a UsageError and nothing is written,
// except for `deleted` when the path can be derived from the id alone. No events are written
// for a type whose replication is disabled.
PublishResult publish_events(Site& site, const std::string& replicable, EventName name, const std::vector<long long>& ids);

}  // namespace geo_ssf
