#include "secondary/event_replay.hpp"

#include "common/error.hpp"
#include "db/event_log.hpp"
#include "db/model_table.hpp"
#include "db/primary_reads.hpp"
#include "db/registry_table.hpp"
#include "secondary/removal.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <optional>

namespace geo_ssf::secondary {

namespace {

struct Event {
    long long id = 0;
    std::string replicable;
    std::string name;
    std::string payload;
    bool gap_is_old = false;  // a gap just before this event would be a rolled-back transaction
};

std::optional<long long> read_event_cursor(pqxx::connection& geo) {
    pqxx::read_transaction tx(geo);
    auto row = tx.exec1("SELECT max(event_id) FROM event_log_states");
    if (row[0].is_null())
        return std::nullopt;
    return row[0].as<long long>();
}

long long newest_event_id(pqxx::connection& main) {
    return read_primary(main, [](pqxx::transaction_base& tx) {
        return tx.exec1("SELECT coalesce(max(id), 0) FROM geo_events")[0].as<long long>();
    });
}

// Moves the cursor to LAST in TX, the transaction that applies the events up to it.
void move_cursor(pqxx::work& tx, long long last) {
    tx.exec_params("DELETE FROM event_log_states WHERE event_id <> $1", last);
    tx.exec_params("INSERT INTO event_log_states (event_id, created_at) VALUES ($1, now() AT TIME ZONE 'utc')"
                   " ON CONFLICT (event_id) DO NOTHING",
                   last);
}

// When an event is old enough that an event id missing before it belongs to a transaction that
// rolled back: ten minutes before now, on the primary's clock. A standby shows the primary as it
// was when its last replayed transaction committed; while replay lags (or is paused) "now" is
// then that time, so an event a lagging standby shows is not taken for old only because it is
// late, and the events of a transaction the standby has not replayed yet are not skipped.
constexpr const char* k_old_event_sql =
    "coalesce(created_at < CASE WHEN NOT pg_is_in_recovery() OR pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn()"
    " THEN now() ELSE pg_last_xact_replay_timestamp() END - interval '10 minutes', false)";

std::vector<Event> read_events(pqxx::connection& main, long long after, int batch) {
    return read_primary(main, [&](pqxx::transaction_base& tx) {
        std::vector<Event> events;
        for (const auto& row : tx.exec_params(std::string("SELECT id, replicable_name, event_name, payload::text, ") +
                                                  k_old_event_sql + " FROM geo_events WHERE id > $1 ORDER BY id LIMIT $2",
                                              after, batch))
            events.push_back({row[0].as<long long>(), row[1].as<std::string>(), row[2].as<std::string>(),
                              row[3].as<std::string>(), row[4].as<bool>()});
        return events;
    });
}

// Whether the primary's record ID of R exists and is in R's scope.
bool in_scope(Site& site, const Replicable& r, long long id) {
    return read_primary(site.main_database(), [&](pqxx::transaction_base& main) {
        return !main.exec_params("SELECT 1 FROM " + r.model_table + " WHERE id = $1 AND " + scope_predicate(r), id).empty();
    });
}

// Applies one event to the tracking database in TX; a deleted event adds the copy to remove
// to REMOVALS, for after TX commits. Returns false when it was skipped.
bool apply_event(Site& site, pqxx::work& tx, const Event& event, std::vector<Removal>& removals) {
    const Replicable* r = nullptr;
    for (const auto& candidate : site.config().replicables)
        if (candidate.name == event.replicable)
            r = &candidate;
    if (!r || !r->replication_enabled) {
        spdlog::info("event {}: {} {} skipped: {}", event.id, event.replicable, event.name,
                     r ? "replication is disabled" : "unknown replicable");
        return false;
    }
    auto name = parse_event_name(event.name);
    nlohmann::json payload = nlohmann::json::parse(event.payload, nullptr, false);
    if (payload.is_discarded() || !payload.is_object() || !payload.contains("model_record_id") ||
        !payload["model_record_id"].is_number_integer()) {
        spdlog::warn("event {}: {} {} skipped: malformed payload {}", event.id, event.replicable, event.name, event.payload);
        return false;
    }
    if (!name) {
        spdlog::warn("event {}: {} {} skipped: unknown event", event.id, r->name, event.name);
        return false;
    }
    long long id = payload["model_record_id"].get<long long>();
    if (*name == EventName::deleted) {
        // As in GitLab, processed even for records out of scope: the record is gone by now.
        if (payload.contains("disk_path")) {
            // Anyone who can insert into geo_events could name any folder here: only a path the
            // type's template renders is removed (and only if it is a bare repository).
            std::string path = payload["disk_path"].is_string() ? payload["disk_path"].get<std::string>() : "";
            if (!r->repository_path.matches(path)) {
                spdlog::warn("event {}: {} deleted {} skipped: disk_path {} is not a path {} renders", event.id,
                             r->name, id, printable(payload["disk_path"].dump()), r->repository_path.text());
                return false;
            }
            removals.push_back({r, id, path});
        }
        registry_table::delete_rows(tx, *r, {id});
        return true;
    }
    if (!in_scope(site, *r, id))
        return true;  // not replicated here (out of scope, or gone since): nothing changes
    if (*name == EventName::checksum_succeeded)
        registry_table::mark_ids(tx, *r, registry_table::Mark::verification_pending, {id}, false);
    else  // created, updated
        registry_table::mark_ids(tx, *r, registry_table::Mark::sync_pending, {id}, false);  // creates a missing row
    return true;
}

}  // namespace

namespace {

// Only one run replays events at a time; the others skip this step rather than replay the same
// events and move the cursor in a race.
constexpr long long k_event_lock_key = 0x67656f2d65766eLL;  // "geo-evn"

class EventLock {
public:
    explicit EventLock(pqxx::connection& geo) : m_geo(geo) {
        m_held = pqxx::nontransaction(m_geo)
                     .exec1("SELECT pg_try_advisory_lock(" + std::to_string(k_event_lock_key) + ")")[0]
                     .as<bool>();
    }
    ~EventLock() {
        if (!m_held)
            return;
        try {
            pqxx::nontransaction(m_geo).exec("SELECT pg_advisory_unlock(" + std::to_string(k_event_lock_key) + ")");
        } catch (...) {
            // The connection is gone, and the lock with it.
        }
    }
    EventLock(const EventLock&) = delete;
    EventLock& operator=(const EventLock&) = delete;
    bool held() const { return m_held; }

private:
    pqxx::connection& m_geo;
    bool m_held = false;
};

}  // namespace

EventCounts consume_events(Site& site, int batch, int* removals_failed) {
    EventCounts counts;
    pqxx::connection& geo = site.geo_database();
    EventLock lock(geo);
    std::optional<long long> cursor = read_event_cursor(geo);
    if (!lock.held()) {
        counts.last_event_id = cursor.value_or(0);
        return counts;
    }
    if (!cursor) {
        // A new secondary starts after the newest event, as GitLab's log cursor does: registry
        // consistency registers the records the backlog names, without replaying it.
        pqxx::work tx(geo);
        cursor = newest_event_id(site.main_database());
        move_cursor(tx, *cursor);
        tx.commit();
        spdlog::info("no event replayed yet: starting after the newest event, {}", *cursor);
    }
    counts.last_event_id = *cursor;
    while (true) {
        auto events = read_events(site.main_database(), *cursor, batch);
        size_t usable = 0;
        // Cursor 0: the log was empty when this secondary started, so its first event is the next.
        long long expected = *cursor != 0 ? *cursor + 1 : (events.empty() ? 0 : events.front().id);
        for (; usable < events.size(); ++usable) {
            if (events[usable].id != expected && !events[usable].gap_is_old)
                break;  // an event before it may still commit
            expected = events[usable].id + 1;
        }
        if (usable == 0)
            break;
        pqxx::work tx(geo);
        std::vector<Removal> removals;
        for (size_t i = 0; i < usable; ++i) {
            if (!apply_event(site, tx, events[i], removals))
                ++counts.skipped;
        }
        long long last = events[usable - 1].id;
        move_cursor(tx, last);
        tx.commit();
        int failed = remove_repositories(site, removals);
        if (removals_failed)
            *removals_failed += failed;
        counts.processed += static_cast<long long>(usable);
        counts.last_event_id = last;
        cursor = last;
        if (usable < events.size() || static_cast<int>(events.size()) < batch)
            break;
    }
    return counts;
}

}  // namespace geo_ssf::secondary
