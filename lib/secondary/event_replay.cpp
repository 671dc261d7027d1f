#include "secondary/event_replay.hpp"

#include "common/error.hpp"
#include "common/stop.hpp"
#include "db/copies.hpp"
#include "db/event_log.hpp"
#include "db/model_table.hpp"
#include "db/primary_reads.hpp"
#include "db/registry_table.hpp"
#include "db/replication_lags.hpp"
#include "secondary/removal.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <optional>
#include <utility>
#include <vector>

namespace geo_ssf::secondary {

namespace {

// What one event asks of the tracking database, once it is checked.
struct EventAction {
    const Replicable* replicable = nullptr;
    EventName name = EventName::updated;
    long long id = 0;
    std::optional<RepositoryLocation> removal;  // deleted: the copy to remove (repository_storage, disk_path)
};

const Replicable* replicable_named(Site& site, const std::string& name) {
    for (const auto& candidate : site.config().replicables)
        if (candidate.name == name)
            return &candidate;
    return nullptr;
}

// What EVENT asks, or nullopt (logged) when it is skipped: an unknown or disabled type, a
// malformed payload, an unknown event name, or a deleted event whose disk_path the type's
// template does not render.
std::optional<EventAction> event_action(Site& site, const Event& event) {
    const Replicable* r = replicable_named(site, event.replicable);
    if (!r || !r->replication_enabled) {
        spdlog::info("event {}: {} {} skipped: {}", event.id, event.replicable, event.name,
                     r ? "replication is disabled" : "unknown replicable");
        return std::nullopt;
    }
    if (event.payload_bytes > k_max_event_payload_bytes) {
        spdlog::warn("event {}: {} {} skipped: its payload of {} bytes is longer than {}", event.id, event.replicable,
                     printable(event.name), event.payload_bytes, k_max_event_payload_bytes);
        return std::nullopt;
    }
    auto name = parse_event_name(event.name);
    nlohmann::json payload = nlohmann::json::parse(event.payload, nullptr, false);
    if (payload.is_discarded() || !payload.is_object() || !payload.contains("model_record_id") ||
        !payload["model_record_id"].is_number_integer()) {
        spdlog::warn("event {}: {} {} skipped: malformed payload {}", event.id, event.replicable, event.name,
                     printable(event.payload));
        return std::nullopt;
    }
    if (!name) {
        spdlog::warn("event {}: {} {} skipped: unknown event", event.id, r->name, event.name);
        return std::nullopt;
    }
    EventAction action{r, *name, payload["model_record_id"].get<long long>(), std::nullopt};
    if (*name == EventName::deleted && payload.contains("disk_path")) {
        // Anyone who can insert into geo_events could name any folder here: only a path the
        // type's template renders is removed, the one the record's own id renders when the
        // template needs nothing else (and only if it is a bare repository).
        std::string path = payload["disk_path"].is_string() ? payload["disk_path"].get<std::string>() : "";
        if (!r->repository_path.matches(path)) {
            spdlog::warn("event {}: {} deleted {} skipped: disk_path {} is not a path {} renders", event.id, r->name,
                         action.id, printable(payload["disk_path"].dump()), r->repository_path.text());
            return std::nullopt;
        }
        // The storage the event names, for a type whose records name theirs; one of this site's.
        std::string storage = k_default_storage;
        if (!r->storage_column.empty()) {
            const auto& named = payload.contains("repository_storage") ? payload["repository_storage"] : nlohmann::json();
            if (!named.is_string() || !site.config().find_storage(named.get<std::string>())) {
                spdlog::warn("event {}: {} deleted {} skipped: repository_storage {} is not one of this site's storages",
                             event.id, r->name, action.id, printable(named.dump()));
                return std::nullopt;
            }
            storage = named.get<std::string>();
        }
        auto own = location_from_id(*r, action.id);
        if (own && own->path != path) {
            spdlog::warn("event {}: {} deleted {} skipped: disk_path {} is not the path of record {}, {}", event.id,
                         r->name, action.id, printable(path), action.id, printable(own->path));
            return std::nullopt;
        }
        action.removal = RepositoryLocation{storage, path};
    }
    return action;
}

// The copies to remove for ACTION, a deleted event, read in TX: where the tracking database has
// the record's copies; else the event's disk_path, unless another record holds it.
std::vector<Removal> removals_for(pqxx::transaction_base& tx, const EventAction& action) {
    const Replicable& r = *action.replicable;
    std::vector<Removal> out;
    auto recorded = copies::locations_of(tx, r, action.id);
    if (!recorded.empty()) {
        if (action.removal && std::find(recorded.begin(), recorded.end(), *action.removal) == recorded.end())
            spdlog::warn("{} deleted {}: {} (repository_storage, disk_path) is not where its copy is; its copy in {} "
                         "is removed", r.name, action.id, printable(action.removal->storage + ":" + action.removal->path),
                         printable(recorded.front().storage + ":" + recorded.front().path));
        for (const auto& location : recorded)
            out.push_back({&r, action.id, location, false});
        return out;
    }
    if (!action.removal)
        return out;
    if (auto holder = copies::holder_of(tx, *action.removal)) {
        spdlog::warn("{} deleted {}: disk_path {} is the copy of {} {}; it stays", r.name, action.id,
                     printable(action.removal->path), holder->replicable, holder->record_id);
        return out;
    }
    out.push_back({&r, action.id, *action.removal, false});
    return out;
}

// What a batch of events leaves for one record. GitLab marks a registry row once however many
// events name it; so does the replay, with the same result as applying the events one by one:
// a deleted event drops what came before it (its row goes first), and a sync mark makes a
// later verification mark moot (it only applies to synced rows).
struct RecordChanges {
    bool deleted = false;       // the row is deleted before any mark
    bool sync = false;          // created or updated after the last deleted event
    bool verification = false;  // checksum_succeeded after the last deleted event
    const Event* first_change = nullptr;  // the first created or updated event after the last deleted one
    const Event* last_change = nullptr;   // and the last
};

void add_change(RecordChanges& changes, const Event& event, EventName name) {
    if (name == EventName::deleted) {
        changes = {true, false, false, nullptr, nullptr};
    } else if (name == EventName::checksum_succeeded) {
        changes.verification = true;
    } else {  // created, updated
        changes.sync = true;
        if (!changes.first_change)
            changes.first_change = &event;
        changes.last_change = &event;
    }
}

// Adds IDS to OUT, up to k_changed_records.
void add_changed(std::vector<long long>& out, const std::vector<long long>& ids) {
    for (size_t i = 0; i < ids.size() && out.size() < k_changed_records; ++i)
        out.push_back(ids[i]);
}

// Applies the changes of one type in TX: one statement per kind of change, whatever the number
// of events. Marks apply only to records in scope (created or updated since may be gone or out
// of scope: nothing changes then); deletions apply to every record, gone by now.
void apply_changes(Site& site, pqxx::work& tx, const Replicable& r, const std::map<long long, RecordChanges>& changes,
                   ChangedRecords* changed) {
    std::vector<long long> deleted, marked;
    for (const auto& [id, c] : changes) {
        if (c.deleted)
            deleted.push_back(id);
        if (c.sync || c.verification)
            marked.push_back(id);
    }
    auto scope = read_ids_in_scope(site.main_database(), r, marked);
    std::vector<long long> sync, verification;
    for (long long id : scope) {
        const RecordChanges& c = changes.at(id);
        if (c.sync)
            sync.push_back(id);
        else if (!c.deleted)  // a verification mark on a row just deleted changes nothing
            verification.push_back(id);
    }
    registry_table::delete_rows(tx, r, deleted);
    if (!sync.empty()) {
        registry_table::mark_ids(tx, r, registry_table::Mark::sync_pending, sync, false);  // creates missing rows
        std::vector<replication_lags::Change> noted;
        for (long long id : sync) {
            const RecordChanges& c = changes.at(id);
            noted.push_back({id, c.last_change->id, c.last_change->created_at, c.first_change->created_at});
        }
        replication_lags::note_changes(tx, r, noted);
    }
    if (!verification.empty())
        registry_table::mark_ids(tx, r, registry_table::Mark::verification_pending, verification, false);
    if (changed) {
        add_changed(changed->sync[&r], sync);
        add_changed(changed->verification[&r], verification);
    }
}

// Applies EVENTS in TX, coalesced per record; the copies of deleted records to remove once TX
// commits go to REMOVALS, in event order, to be requested in TX. Returns how many events were
// skipped.
long long apply_events(Site& site, pqxx::work& tx, const std::vector<Event>& events, std::vector<Removal>& removals,
                       ChangedRecords* changed) {
    long long skipped = 0;
    std::map<const Replicable*, std::map<long long, RecordChanges>> changes;
    for (const Event& event : events) {
        auto action = event_action(site, event);
        if (!action) {
            ++skipped;
            continue;
        }
        add_change(changes[action->replicable][action->id], event, action->name);
        if (action->name == EventName::deleted)
            for (auto& removal : removals_for(tx, *action))
                removals.push_back(std::move(removal));
    }
    for (const auto& [r, record_changes] : changes)
        apply_changes(site, tx, *r, record_changes, changed);
    return skipped;
}

}  // namespace

EventCounts consume_events(Site& site, int batch, const std::function<bool()>& should_stop, int* removals_failed,
                           ChangedRecords* changed) {
    EventCounts counts;
    pqxx::connection& geo = site.geo_database();
    EventReplayLock lock(geo);
    std::optional<long long> cursor;
    {
        pqxx::read_transaction tx(geo);
        cursor = event_cursor(tx);
    }
    if (!lock.held()) {
        counts.last_event_id = cursor.value_or(0);
        return counts;
    }
    if (!cursor) {
        // A new secondary starts after the newest event, as GitLab's log cursor does: registry
        // consistency registers the records the backlog names, without replaying it.
        cursor = read_primary(site.main_database(), [](pqxx::transaction_base& main) { return newest_event_id(main); });
        pqxx::work tx(geo);
        move_event_cursor(tx, *cursor);
        tx.commit();
        spdlog::info("no event replayed yet: starting after the newest event, {}", *cursor);
    }
    counts.last_event_id = *cursor;
    while (true) {
        auto events = read_primary(site.main_database(),
                                   [&](pqxx::transaction_base& main) { return read_events(main, *cursor, batch); });
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
        events.resize(usable);
        pqxx::work tx(geo);
        std::vector<Removal> removals;
        // The changes are kept apart until the batch commits: a batch rolled back marked nothing.
        ChangedRecords batch_changed;
        counts.skipped += apply_events(site, tx, events, removals, changed ? &batch_changed : nullptr);
        removals = request_removals(site, tx, removals);
        long long last = events.back().id;
        move_event_cursor(tx, last);
        tx.commit();
        if (changed)
            for (auto [kind, batch_kind] : {std::pair{&changed->sync, &batch_changed.sync},
                                            std::pair{&changed->verification, &batch_changed.verification}})
                for (const auto& [r, ids] : *batch_kind)
                    add_changed((*kind)[r], ids);
        int failed = remove_repositories(site, removals);
        if (removals_failed)
            *removals_failed += failed;
        counts.processed += static_cast<long long>(usable);
        counts.last_event_id = last;
        cursor = last;
        if (usable < static_cast<size_t>(batch))
            break;
        if (should_stop()) {
            // The cursor is committed with the batch: the next run resumes after event LAST.
            spdlog::info("event replay stopped after event {} ({}); the next run resumes there", last,
                         stop_requested() ? "a stop was requested" : "--max-runtime reached");
            counts.stopped = true;
            break;
        }
    }
    return counts;
}

}  // namespace geo_ssf::secondary
