#include "secondary/promotion.hpp"

#include "common/paths.hpp"
#include "db/event_log.hpp"
#include "db/primary_reads.hpp"
#include "site/migrations.hpp"

#include <algorithm>
#include <limits>
#include <map>
#include <optional>
#include <utility>

namespace geo_ssf::secondary {

namespace {

constexpr int k_compare_batch = 10000;
constexpr long long k_before_every_id = std::numeric_limits<long long>::min();

// "1, 2, 5 and 12 more"
std::string listed_ids(const std::vector<long long>& ids, size_t shown = 10) {
    std::string out;
    for (size_t i = 0; i < ids.size() && i < shown; ++i)
        out += (i ? ", " : "") + std::to_string(ids[i]);
    if (ids.size() > shown)
        out += " and " + std::to_string(ids.size() - shown) + " more";
    return out;
}

// "not verified: 1, 2; not registered: 1001", reasons in the order they first appear.
std::string describe_losses(const std::vector<LostRecord>& lost) {
    std::vector<std::pair<std::string, std::vector<long long>>> by_reason;
    for (const auto& record : lost) {
        auto it = std::find_if(by_reason.begin(), by_reason.end(),
                               [&](const auto& group) { return group.first == record.loss.reason; });
        if (it == by_reason.end())
            it = by_reason.insert(by_reason.end(), {record.loss.reason, {}});
        it->second.push_back(record.id);
    }
    std::string out;
    for (const auto& [reason, ids] : by_reason) {
        std::string words = reason;
        std::replace(words.begin(), words.end(), '_', ' ');
        out += (out.empty() ? "" : "; ") + words + ": " + listed_ids(ids);
    }
    return out;
}

TypeComparison compare_type(Site& site, const Replicable& r) {
    TypeComparison out;
    out.replicable = r.name;
    pqxx::connection& main = site.main_database();
    for (long long after = k_before_every_id;;) {
        auto batch = read_primary(
            main, [&](pqxx::transaction_base& tx) { return records_in_scope(tx, r, after, k_compare_batch); });
        if (batch.empty())
            break;
        std::map<long long, RegistryCopy> copies;
        if (r.replication_enabled) {
            pqxx::read_transaction tx(site.geo_database());
            copies = registry_copies(tx, r, batch.front().id, batch.back().id);
        }
        for (const auto& record : batch) {
            ++out.records;
            std::optional<CopyLoss> loss;
            if (!r.replication_enabled) {
                loss = CopyLoss{"replication_disabled", "replication of " + r.name + " is disabled on this site"};
            } else {
                auto copy = copies.find(record.id);
                loss = copy_loss(record.state, copy == copies.end() ? std::nullopt
                                                                    : std::optional<RegistryCopy>(copy->second));
            }
            if (loss)
                out.lost.push_back({r.name, record.id, *loss});
            else
                ++out.verified;
        }
        after = batch.back().id;
        if (batch.size() < static_cast<size_t>(k_compare_batch))
            break;
    }
    return out;
}

// The records of R that this site's scope leaves out (selective sync).
std::vector<long long> outside_scope(Site& site, const Replicable& r) {
    std::vector<long long> out;
    for (long long after = k_before_every_id;;) {
        auto batch = read_primary(site.main_database(), [&](pqxx::transaction_base& tx) {
            return records_out_of_scope(tx, r, after, k_compare_batch);
        });
        out.insert(out.end(), batch.begin(), batch.end());
        if (batch.size() < static_cast<size_t>(k_compare_batch))
            return out;
        after = batch.back();
    }
}

// What the main database tells, read at once.
struct MainView {
    ReplayState replay;
    long long newest_event = 0;
};

MainView read_main_view(pqxx::connection& main) {
    return read_primary(main, [](pqxx::transaction_base& tx) { return MainView{replay_state(tx), newest_event_id(tx)}; });
}

std::string replay_detail(const ReplayState& replay, bool& passed) {
    passed = true;
    if (!replay.in_recovery)
        return "not a standby (or a promoted one): nothing to replay";
    if (replay.paused) {
        passed = false;
        return "a standby whose replay is paused at " + replay.replayed +
               ": what it received past that is not replayed (SELECT pg_wal_replay_resume() resumes it)";
    }
    if (replay.bytes_behind > 0) {
        passed = false;
        return "a standby with " + std::to_string(replay.bytes_behind) +
               " bytes received but not replayed yet (received " + replay.received + ", replayed " +
               replay.replayed + ")";
    }
    if (replay.received.empty())
        return "a standby that has received nothing since it started; replayed up to " + replay.replayed;
    return "a standby that has replayed all it received, up to " + replay.replayed;
}

}  // namespace

bool PromotionCheck::passed() const {
    return std::all_of(checks.begin(), checks.end(), [](const PreflightCheck& c) { return c.passed; });
}

PromotionCheck check_promotion(Site& site, const std::function<void(const PreflightCheck&)>& report) {
    PromotionCheck out;
    auto add = [&](std::string name, bool passed, std::string detail) {
        out.checks.push_back({std::move(name), passed, std::move(detail)});
        report(out.checks.back());
    };
    const Config& config = site.config();
    pqxx::connection& main = site.main_database();

    MainView view = read_main_view(main);
    bool replayed = true;
    std::string replay = replay_detail(view.replay, replayed);
    add("main database has replayed all it received", replayed, replay);

    auto pending = pending_migrations(main, discover_migrations(DatabaseKind::main, builtin_migrations_dir(),
                                                                config.migrations_dir));
    if (!pending.empty()) {
        // The types' tables may not all be there: nothing to compare with.
        add("main database has no pending migrations", false,
            std::to_string(pending.size()) + " pending, the first " + pending.front().version + "_" +
                pending.front().name + ": the primary's migrations are not all here");
        return out;
    }
    add("main database has no pending migrations", true, "the primary's migrations are all here");

    std::optional<long long> cursor;
    {
        pqxx::read_transaction tx(site.geo_database());
        cursor = event_cursor(tx);
    }
    const std::string events = "events replayed";
    if (view.newest_event == 0)
        add(events, true, "the event log is empty");
    else if (cursor && *cursor >= view.newest_event)
        add(events, true, "all events replayed, up to " + std::to_string(view.newest_event));
    else
        add(events, false,
            (cursor ? std::to_string(view.newest_event - *cursor) + " events not replayed yet (replayed up to " +
                          std::to_string(*cursor) + ", the newest is " + std::to_string(view.newest_event) + ")"
                    : "no event replayed yet, the newest is " + std::to_string(view.newest_event)) +
                ": run geo-ssf sync");

    for (const auto& r : config.replicables) {
        TypeComparison type = compare_type(site, r);
        std::string name = "copies of " + r.name + " verified";
        if (type.lost.empty())
            add(name, true,
                type.records == 0 ? "no records"
                                  : "all " + std::to_string(type.records) +
                                        " records in scope have a copy verified with the primary's checksum");
        else
            add(name, false,
                std::to_string(type.lost.size()) + " of the " + std::to_string(type.records) +
                    " records in scope would be lost or are not proven: " + describe_losses(type.lost) +
                    (r.replication_enabled && !r.verification_enabled ? " (verification is disabled on this site)"
                                                                      : ""));
        if (std::string scope = describe_scope(r); !scope.empty()) {
            std::vector<long long> outside = outside_scope(site, r);
            std::string scope_name = "records of " + r.name + " outside this site's scope";
            if (outside.empty())
                add(scope_name, true, "none");
            else
                add(scope_name, false,
                    scope + " leaves out " + std::to_string(outside.size()) +
                        " of the primary's records, which promoting now would lose: " + listed_ids(outside));
            for (long long id : outside)
                type.lost.push_back({r.name, id, {"out_of_scope", "outside this site's records: " + scope}});
            std::sort(type.lost.begin(), type.lost.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
        }
        out.types.push_back(std::move(type));
    }
    return out;
}

}  // namespace geo_ssf::secondary
