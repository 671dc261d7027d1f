#include "primary/follow.hpp"

#include "common/sequence_gaps.hpp"
#include "common/stop.hpp"
#include "db/event_log.hpp"
#include "primary/verify.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace geo_ssf::primary {

namespace {

constexpr int k_event_batch = 1000;
// An event id missing from the log is asked for again this long, as a secondary's replay waits
// for it (event_replay.hpp); after that it is taken for a rolled-back transaction.
constexpr std::chrono::minutes k_gap_patience{10};
constexpr size_t k_gaps_tracked = 10000;

class PrimaryFollower : public Follower {
public:
    void connect(Site& site) override {
        m_site = &site;
        m_verified.clear();
        for (const auto& r : site.config().replicables)
            if (r.verification_enabled)
                m_verified.push_back(&r);
        m_notifications = std::make_unique<EventNotifications>(site.config().main_database);
        if (!m_gaps) {
            // What was published before is pending in the states tables: the first pass takes it.
            pqxx::read_transaction tx(site.main_database());
            m_gaps.emplace(newest_event_id(tx), k_gap_patience, k_gaps_tracked);
        }
        m_asked = false;
        spdlog::info("following the event log from event {}, notified by databases.main", m_gaps->position());
    }

    void disconnect() override {
        m_notifications.reset();
        m_site = nullptr;
    }

    int wakeup_fd() const override { return m_notifications ? m_notifications->socket() : -1; }

    bool follow_changes(FollowCounters& counters) override {
        if (!m_notifications->take() && m_asked)
            return false;
        m_asked = true;
        // Created and updated records by type; the other events ask nothing of a primary.
        std::map<std::string, std::vector<long long>> changed;
        long long read = 0;
        while (!stop_requested()) {
            auto now = SequenceGaps::Clock::now();
            m_gaps->expire(now);
            std::vector<Event> events;
            {
                pqxx::read_transaction tx(m_site->main_database());
                events = read_events_or_missed(tx, m_gaps->position(), m_gaps->missed(), k_event_batch);
            }
            for (const Event& event : events) {
                m_gaps->seen(event.id, now);
                auto name = parse_event_name(event.name);
                if (name != EventName::created && name != EventName::updated)
                    continue;
                nlohmann::json payload = nlohmann::json::parse(event.payload, nullptr, false);
                if (payload.is_object() && payload.contains("model_record_id") &&
                    payload["model_record_id"].is_number_integer()) {
                    auto& ids = changed[event.replicable];
                    if (ids.size() < k_gaps_tracked)
                        ids.push_back(payload["model_record_id"].get<long long>());
                }
            }
            read += static_cast<long long>(events.size());
            if (events.size() < static_cast<size_t>(k_event_batch))
                break;
        }
        counters.events += read;
        const Config& config = m_site->config();
        for (const Replicable* r : m_verified) {
            auto ids = changed.find(r->name);
            if (ids == changed.end() || stop_requested())
                continue;
            TypeTotals totals;
            verify_due_records(*m_site, *r, ids->second, follow_limits(config.verification), totals);
            counters.add(r->name, "verification", totals);
        }
        return read > 0;
    }

    std::vector<TypeTotals> run_pass(std::chrono::seconds slice, FollowCounters& counters) override {
        std::vector<std::string> names;
        for (const Replicable* r : m_verified)
            names.push_back(r->name);
        VerifyRun run = verify(*m_site, in_turn(names, m_turn++), follow_limits(m_site->config().verification, slice));
        for (const auto& t : run.types)
            counters.add(t.replicable, "verification", t);
        for (const auto& t : run.deep_checks)
            counters.add(t.replicable, "deep_check", t);
        return run.types;
    }

private:
    Site* m_site = nullptr;
    std::vector<const Replicable*> m_verified;
    std::unique_ptr<EventNotifications> m_notifications;
    std::optional<SequenceGaps> m_gaps;  // kept from one session to the next
    bool m_asked = false;
    size_t m_turn = 0;
};

}  // namespace

std::unique_ptr<Follower> make_follower() { return std::make_unique<PrimaryFollower>(); }

}  // namespace geo_ssf::primary
