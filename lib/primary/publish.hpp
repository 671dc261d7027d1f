// Events published on a primary: what the application's hooks report (created, updated,
// deleted) for secondaries to replay.
#pragma once

#include "db/event_log.hpp"
#include "site/site.hpp"

#include <string>
#include <vector>

namespace geo_ssf::primary {

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

}  // namespace geo_ssf::primary
