#include "secondary/follow.hpp"

#include "common/duration.hpp"
#include "common/stop.hpp"
#include "db/event_log.hpp"
#include "db/primary_reads.hpp"
#include "db/standby.hpp"
#include "secondary/event_replay.hpp"
#include "secondary/followed_primary.hpp"
#include "secondary/sync.hpp"
#include "secondary/verify.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace geo_ssf::secondary {

namespace {

class SecondaryFollower : public Follower {
public:
    void connect(Site& site) override {
        m_site = &site;
        m_replicated.clear();
        m_verified.clear();
        for (const auto& r : site.config().replicables) {
            if (!r.replication_enabled)
                continue;
            m_replicated.push_back(&r);
            if (r.verification_enabled)
                m_verified.push_back(&r);
        }
        follow_primary(site);  // before any event is replayed: a new primary's cursor
        bool standby = read_primary(site.main_database(), [](pqxx::transaction_base& tx) { return in_recovery(tx); });
        if (!standby)
            m_notifications = std::make_unique<EventNotifications>(site.config().main_database);
        spdlog::info("following the primary's events: {}",
                     standby ? "databases.main is a standby, asked every " +
                                   format_interval(site.config().follow.poll_interval)
                             : std::string("notified by databases.main"));
        m_stalled.reset();
        m_asked = false;
    }

    void disconnect() override {
        m_notifications.reset();
        m_site = nullptr;
    }

    int wakeup_fd() const override { return m_notifications ? m_notifications->socket() : -1; }

    bool follow_changes(FollowCounters& counters) override {
        // Notified: only when a notification came, or when nothing was asked yet this session
        // (events committed while no session listened).
        if (m_notifications && !m_notifications->take() && m_asked)
            return false;
        m_asked = true;
        Site& site = *m_site;
        EventsAfter after = read_primary(site.main_database(),
                                         [&](pqxx::transaction_base& tx) { return events_after(tx, m_cursor); });
        // Nothing new since a replay that could not go on (a gap, another run replaying): wait
        // for the log to change.
        if (after.count == 0 || after == m_stalled)
            return false;
        ChangedRecords changed;
        int removals_failed = 0;
        EventCounts events =
            consume_events(site, k_event_batch, [] { return stop_requested(); }, &removals_failed, &changed);
        m_cursor = events.last_event_id;
        m_stalled = events.processed == 0 ? std::optional<EventsAfter>(after) : std::nullopt;
        counters.events += events.processed;
        if (removals_failed > 0)
            spdlog::warn("{} repositories of removed records could not be removed; their registry rows are kept "
                         "and the next pass retries",
                         removals_failed);
        work_changes(changed, counters);
        return events.processed > 0;
    }

    std::vector<TypeTotals> run_pass(std::chrono::seconds slice, FollowCounters& counters) override {
        Site& site = *m_site;
        const Config& config = site.config();
        std::vector<std::string> replicated, verified;
        for (const Replicable* r : m_replicated)
            replicated.push_back(r->name);
        for (const Replicable* r : m_verified)
            verified.push_back(r->name);
        ++m_turn;
        SyncRun run = sync(site, in_turn(replicated, m_turn), follow_limits(config.sync, slice), false);
        counters.events += run.events.processed;
        m_cursor = std::max(m_cursor, run.events.last_event_id);
        for (const auto& refusal : run.removals_refused)
            spdlog::error("{}", refusal);
        if (run.removals_failed > 0)
            spdlog::warn("{} repositories of removed records could not be removed; their registry rows are kept "
                         "and the next pass retries",
                         run.removals_failed);
        for (const auto& t : run.types)
            counters.add(t.replicable, "sync", t);
        for (const auto& t : run.housekeeping)
            counters.add(t.replicable, "housekeeping", t);
        std::vector<TypeTotals> totals = run.types;
        if (stop_requested())
            return totals;
        follow_changes(counters);  // between the two halves, so that a long pass delays no change for long
        VerifyRun verification = verify(site, in_turn(verified, m_turn), follow_limits(config.verification, slice));
        for (const auto& t : verification.types)
            counters.add(t.replicable, "verification", t);
        for (const auto& t : verification.deep_checks)
            counters.add(t.replicable, "deep_check", t);
        totals.insert(totals.end(), verification.types.begin(), verification.types.end());
        return totals;
    }

private:
    // Syncs the records CHANGED names, then verifies those whose verification is due, the ones
    // just synced among them.
    void work_changes(ChangedRecords& changed, FollowCounters& counters) {
        Site& site = *m_site;
        const Config& config = site.config();
        for (const Replicable* r : m_replicated) {
            if (stop_requested())
                return;
            std::vector<long long> synced;
            if (auto ids = changed.sync.find(r); ids != changed.sync.end() && !ids->second.empty()) {
                TypeTotals totals;
                synced = sync_due_records(site, *r, ids->second, follow_limits(config.sync), totals);
                counters.add(r->name, "sync", totals);
            }
            if (!r->verification_enabled || stop_requested())
                continue;
            std::vector<long long> ids = std::move(synced);
            if (auto more = changed.verification.find(r); more != changed.verification.end())
                ids.insert(ids.end(), more->second.begin(), more->second.end());
            if (ids.empty())
                continue;
            std::sort(ids.begin(), ids.end());
            ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
            TypeTotals totals;
            verify_due_records(site, *r, ids, follow_limits(config.verification), totals);
            counters.add(r->name, "verification", totals);
        }
    }

    Site* m_site = nullptr;
    std::vector<const Replicable*> m_replicated;
    std::vector<const Replicable*> m_verified;
    std::unique_ptr<EventNotifications> m_notifications;
    long long m_cursor = 0;  // where the replay stands, as this process last saw it
    std::optional<EventsAfter> m_stalled;
    bool m_asked = false;
    size_t m_turn = 0;
};

}  // namespace

std::unique_ptr<Follower> make_follower() { return std::make_unique<SecondaryFollower>(); }

}  // namespace geo_ssf::secondary
