#include "report/status.hpp"

#include "site/database.hpp"
#include "common/duration.hpp"
#include "common/error.hpp"
#include "db/claims.hpp"
#include "db/cursors.hpp"
#include "db/deep_checks.hpp"
#include "db/housekeeping_table.hpp"
#include "db/id_set_difference.hpp"
#include "db/model_table.hpp"
#include "db/replication_lags.hpp"
#include "db/status_reads.hpp"
#include "db/states.hpp"
#include "db/sync_times.hpp"
#include "db/tallies.hpp"
#include "db/timed_reader.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <future>
#include <regex>

namespace geo_ssf {

namespace {

using Clock = TimedReader::Clock;

long long tallied(const TableTallies& tallies, const std::function<bool(const Tally&)>& selected) {
    long long sum = 0;
    for (const auto& t : tallies.by_state)
        if (selected(t))
            sum += t.records;
    return sum;
}

bool verification_is(const Tally& t, VerificationState state) {
    return t.verification_state == static_cast<int>(state);
}
bool synced(const Tally& t) { return t.sync_state == static_cast<int>(SyncState::synced); }
bool sync_is(const Tally& t, SyncState state) { return t.sync_state == static_cast<int>(state); }

// "verification_failed" → "failed", as list takes it.
std::string short_name(VerificationState state) {
    return std::string(verification_state_name(state)).substr(std::string("verification_").size());
}

// TALLIES' rows by sync state, every state named (0 when it has none).
std::map<std::string, long long> by_sync_state(const TableTallies& tallies) {
    std::map<std::string, long long> out;
    for (SyncState state : k_sync_states)
        out[sync_state_name(state)] = tallied(tallies, [&](const Tally& x) { return sync_is(x, state); });
    return out;
}

// The rows of TALLIES that SELECTED takes, by verification state, every state named.
std::map<std::string, long long> by_verification_state(const TableTallies& tallies,
                                                       const std::function<bool(const Tally&)>& selected) {
    std::map<std::string, long long> out;
    for (VerificationState state : k_verification_states)
        out[short_name(state)] =
            tallied(tallies, [&](const Tally& x) { return selected(x) && verification_is(x, state); });
    return out;
}

// TABLE's tallies, when status can use them; nullopt when its rows must be counted instead.
std::optional<TableTallies> usable_tallies(TimedReader& reader, const TalliedTable& table) {
    auto tallies = read_tallies(reader, table);
    if (tallies && tallies->below_zero()) {
        spdlog::warn("{}: its tallies are below zero, so its rows are counted; run geo-ssf status --recount",
                     table.name);
        return std::nullopt;
    }
    return tallies;
}

bool any_counted(const StatusCounts& c) {
    for (CountField field : {&StatusCounts::count, &StatusCounts::checksum_total, &StatusCounts::checksummed,
                             &StatusCounts::checksum_failed, &StatusCounts::registry, &StatusCounts::synced,
                             &StatusCounts::failed, &StatusCounts::verification_total, &StatusCounts::verified,
                             &StatusCounts::verification_failed, &StatusCounts::registry_missing,
                             &StatusCounts::missing_on_primary, &StatusCounts::pending,
                             &StatusCounts::oldest_pending_age, &StatusCounts::deep_check_failed,
                             &StatusCounts::deep_check_due, &StatusCounts::housekeeping_failed})
        if (c.*field)
            return true;
    return false;
}

// FIELDS of T are unknown, for REASON.
void mark_unknown(TypeStatus& t, std::initializer_list<CountField> fields, const std::string& reason) {
    for (CountField field : fields) {
        t.counts.*field = std::nullopt;
        t.unknown_fields.push_back(field);
    }
    t.reason = reason;
}

// Runs COUNT (which fills some of T's counts); if it does not finish, FIELDS are unknown, as
// GitLab leaves a field whose query was cancelled unset and reports the others.
void count_fields(TypeStatus& t, std::initializer_list<CountField> fields, const std::function<void()>& count) {
    try {
        count();
    } catch (const CountCancelled& cancelled) {
        mark_unknown(t, fields, cancelled.reason);
    }
}

// Where a walk has checked every record up to (see collect_status): the largest id with a row
// once a pass has gone through to the end, else where the current pass stands; nullopt when
// nothing is checked yet.
std::optional<long long> checked_through(TimedReader& reader, const WalkProgress& walk, const std::string& table,
                                         const std::string& column) {
    if (walk.passes == 0)
        return walk.position;
    return read_largest_id(reader, table, column);
}

// The deep checks of T's type that failed and that are due, from geo_ssf_deep_checks (WORK's),
// read by READER.
void count_deep_checks(TypeStatus& t, const ClaimableWork& work, const std::function<TimedReader&()>& reader) {
    const Replicable& r = *t.replicable;
    if (!r.verification_enabled)
        return;
    count_fields(t, {&StatusCounts::deep_check_failed, &StatusCounts::deep_check_due}, [&] {
        auto counts = deep_checks::count(reader(), r, work.available(r));
        t.counts.deep_check_failed = counts.failed;
        t.counts.deep_check_due = counts.due;
    });
}

// The primary: the states table's tallies, which a scope (or missing triggers) makes counted
// from the rows in scope, then the records in scope from the model table, each in a snapshot
// of its own, so that one that does not finish leaves the other's fields known.
void count_on_primary(pqxx::connection& main, TypeStatus& t, Clock::time_point deadline,
                      const std::string& timeout_text) {
    const Replicable& r = *t.replicable;
    // Without a scope: every state row is a record's, and the backfill has given one to every
    // record up to CHECKED; the state rows there are those up to it. Read in the tallies'
    // snapshot, so that a backfill committing meanwhile cannot make records count on neither
    // side.
    std::optional<long long> checked, state_rows_up_to_checked;
    count_fields(t, {&StatusCounts::checksum_total, &StatusCounts::checksummed, &StatusCounts::checksum_failed,
                     &StatusCounts::pending},
                 [&] {
        TimedReader reader(main, deadline, timeout_text);
        TalliedTable states = states_tallied_table(r);
        // Without a scope every state row is a record's (its foreign key cascades), so the
        // states table alone is GitLab's available_verifiables.
        std::optional<TableTallies> tallies;
        if (r.scope.empty())
            tallies = usable_tallies(reader, states);
        if (!tallies)
            tallies = count_tallies(reader, states, in_scope_predicate(r, r.foreign_key));
        t.counts.checksum_total = tallies->ids.count;
        t.counts.checksummed =
            tallied(*tallies, [](const Tally& x) { return verification_is(x, VerificationState::succeeded); });
        t.counts.checksum_failed =
            tallied(*tallies, [](const Tally& x) { return verification_is(x, VerificationState::failed); });
        t.counts.verification_states = by_verification_state(*tallies, [](const Tally&) { return true; });
        t.counts.pending = t.counts.verification_states["pending"] + t.counts.verification_states["started"];
        t.walk = read_walk_progress(reader, state_backfill_walk(r.name));
        if (!r.scope.empty())
            return;  // a state row does not say whether its record is still in scope
        checked = checked_through(reader, *t.walk, r.states_table, r.foreign_key);
        if (checked)
            state_rows_up_to_checked =
                tallies->ids.count - count_rows_above(reader, r.states_table, r.foreign_key, *checked);
    });
    count_fields(t, {&StatusCounts::count}, [&] {
        TimedReader reader(main, deadline, timeout_text);
        if (!state_rows_up_to_checked) {
            t.counts.count = count_in_scope(reader, r);
            return;
        }
        t.counts.count = *state_rows_up_to_checked + count_in_scope(reader, r, *checked);
    });
    std::optional<TimedReader> deep_check_reader;
    count_deep_checks(t, k_primary_deep_check,
                      [&]() -> TimedReader& { return deep_check_reader.emplace(main, deadline, timeout_text); });
}

// A secondary: the registry's tallies, and how many records in scope on the primary have no
// registry row. The records registry consistency has checked (see collect_status) are trusted
// but for the records of the events this secondary has not processed yet, which are looked up.
// Beyond them the primary's records are read, at the same time as the tallies: those above the
// registry's largest id are missing without a doubt (new records not registered yet, the usual
// difference) and are only counted; below it, the digests of both sides are compared, the
// events' records looked up first, and the id ranges compared only if they do not explain the
// difference.
// Without the main database (MAIN null, for MAIN_UNAVAILABLE), what the tracking database holds
// is counted and the records with no registry row are unknown.
void count_on_secondary(pqxx::connection* main, const std::string& main_unavailable, pqxx::connection& geo,
                        TypeStatus& t, std::optional<long long> cursor, Clock::time_point deadline,
                        const std::string& timeout_text) {
    const Replicable& r = *t.replicable;
    StatusCounts& counts = t.counts;
    std::optional<TimedReader> main_reader;
    if (main)
        main_reader.emplace(*main, deadline, timeout_text);
    TimedReader geo_reader(geo, deadline, timeout_text);
    std::optional<TableIds> wanted_ids;
    if (main_reader)
        wanted_ids.emplace(model_ids(*main_reader, r));
    TableIds registered_ids = registry_ids(geo_reader, r);
    auto started = Clock::now();
    std::optional<IdRange> registered_bounds;
    long long first_unchecked = all_ids().first;
    bool registered_unchecked = false;  // registry rows beyond what consistency has checked
    std::vector<long long> suspects;
    std::future<std::pair<RangeDigest, RangeDigest>> primary_digests;
    std::optional<TableTallies> tallies;
    count_fields(t, {&StatusCounts::count, &StatusCounts::registry, &StatusCounts::synced, &StatusCounts::failed,
                     &StatusCounts::verification_total, &StatusCounts::verified, &StatusCounts::verification_failed,
                     &StatusCounts::pending},
                 [&] {
        registered_bounds = registered_ids.bounds();
        t.walk = read_walk_progress(geo_reader, registry_consistency_walk(r.name));
        if (auto checked = checked_through(geo_reader, *t.walk, r.registry_table, r.foreign_key))
            first_unchecked = *checked == all_ids().last ? *checked : *checked + 1;
        registered_unchecked = registered_bounds && registered_bounds->last >= first_unchecked;
        if (main_reader)
            primary_digests = std::async(std::launch::async, [&] {
                if (cursor)
                    suspects = read_records_of_events_after(*main_reader, r, *cursor);
                // Up to the registry's largest id, digested to be compared; above it, counted.
                if (!registered_unchecked) {
                    auto from = first_unchecked == all_ids().first ? std::nullopt
                                                                   : std::optional<long long>(first_unchecked - 1);
                    return std::make_pair(RangeDigest{}, RangeDigest{count_in_scope(*main_reader, r, from), ""});
                }
                auto below = wanted_ids->digest({first_unchecked, registered_bounds->last});
                auto above = count_in_scope(*main_reader, r, registered_bounds->last);
                return std::make_pair(below, RangeDigest{above, ""});
            });
        TalliedTable registry = registry_tallied_table(r);
        tallies = usable_tallies(geo_reader, registry);
        bool tallies_kept = tallies.has_value();
        if (!tallies_kept)
            tallies = count_tallies(geo_reader, registry, "true");
        spdlog::debug("{}: registry {} in {} ms", r.name,
                      tallies_kept ? "tallies read" : "rows counted (no usable tallies)", milliseconds_since(started));
        counts.registry = tallies->ids.count;
        counts.count = tallies->ids.count;
        counts.synced = tallied(*tallies, synced);
        counts.failed = tallied(*tallies, [](const Tally& x) { return x.sync_state == static_cast<int>(SyncState::failed); });
        counts.sync_states = by_sync_state(*tallies);
        counts.pending = counts.sync_states["pending"] + counts.sync_states["started"];
        counts.verification_states = by_verification_state(*tallies, synced);
        if (r.verification_enabled) {
            counts.verification_total = tallied(*tallies, [](const Tally& x) {
                return synced(x) && !verification_is(x, VerificationState::disabled);
            });
            counts.verified = tallied(*tallies, [](const Tally& x) {
                return synced(x) && verification_is(x, VerificationState::succeeded);
            });
            counts.verification_failed = tallied(*tallies, [](const Tally& x) {
                return synced(x) && verification_is(x, VerificationState::failed);
            });
        }
    });
    count_fields(t, {&StatusCounts::missing_on_primary},
                 [&] { counts.missing_on_primary = count_missing_on_primary(geo_reader, r); });
    count_deep_checks(t, k_registry_deep_check, [&]() -> TimedReader& { return geo_reader; });
    if (r.housekeeping_enabled)
        count_fields(t, {&StatusCounts::housekeeping_failed},
                     [&] { counts.housekeeping_failed = housekeeping_table::count_failed(geo_reader, r); });
    count_fields(t, {&StatusCounts::oldest_pending_age}, [&] {
        OldestPending oldest = read_oldest_pending(geo_reader, r);
        if (!oldest.tracked)
            throw CountCancelled{r.registry_table + " has no sync-time triggers (run geo-ssf migrate)"};
        counts.oldest_pending_age = oldest.age_seconds ? static_cast<long long>(std::max(0.0, *oldest.age_seconds)) : 0;
        t.oldest_pending_since = oldest.since;
        t.oldest_pending_unix_time = oldest.unix_time;
    });
    try {
        t.lag = replication_lags::read_lag_status(geo_reader, r);
    } catch (const CountCancelled&) {
        // Left out, as a field that did not finish; the counts say why.
    }
    if (!main_reader) {
        mark_unknown(t, {&StatusCounts::registry_missing}, main_unavailable);
        return;
    }
    count_fields(t, {&StatusCounts::registry_missing}, [&] {
        if (!tallies || !primary_digests.valid())
            throw CountCancelled{t.reason};  // the comparison needs the registry's digest
        auto [wanted_below, wanted_above] = primary_digests.get();
        spdlog::debug("{}: the primary's ids beyond {} read in {} ms", r.name, first_unchecked,
                      milliseconds_since(started));
        std::vector<long long> checked_suspects, unchecked_suspects;
        for (long long id : suspects)
            (id < first_unchecked ? checked_suspects : unchecked_suspects).push_back(id);
        long long missing = count_missing_members(*wanted_ids, registered_ids, checked_suspects);
        std::vector<ComparedRange> start;
        long long top = all_ids().last;
        if (registered_unchecked) {
            IdRange below{first_unchecked, registered_bounds->last};
            // The registry's digest of every id comes with its tallies; of part of them, it is read.
            RangeDigest registered = first_unchecked == all_ids().first ? tallies->ids : registered_ids.digest(below);
            start.push_back({below, wanted_below, registered});
            if (registered_bounds->last < top)
                start.push_back({{registered_bounds->last + 1, top}, wanted_above, RangeDigest{}});
        } else {
            start.push_back({{first_unchecked, top}, wanted_above, RangeDigest{}});  // no registry row there
        }
        missing += count_missing_ids(*wanted_ids, registered_ids, std::move(start), unchecked_suspects);
        counts.registry_missing = missing;
        spdlog::debug("{}: {} missing registry rows counted in {} ms in all", r.name, *counts.registry_missing,
                      milliseconds_since(started));
    });
}

// The event log's position; read from MAIN, which is null when a secondary cannot reach it.
void read_events(Site& site, pqxx::connection* main_database, SiteStatus& status, Clock::time_point deadline,
                 const std::string& timeout_text) {
    try {
        std::optional<long long> cursor;
        if (!site.is_primary()) {
            TimedReader geo(site.geo_database(), deadline, timeout_text);
            cursor = read_event_cursor(geo);
        }
        if (!main_database) {
            status.events_known = false;
            status.events_reason = status.main_unavailable;
            return;
        }
        TimedReader main(*main_database, deadline, timeout_text);
        StandbyState standby = read_standby_state(main);
        status.main_is_standby = standby.is_standby;
        status.db_replication_lag_seconds = standby.lag_seconds;
        status.last_event = read_newest_event(main);
        if (cursor) {
            auto mark = read_event_mark(main, *cursor);
            status.cursor_last_event = mark ? *mark : EventMark{*cursor, std::nullopt, std::nullopt, std::nullopt};
        }
    } catch (const CountCancelled& cancelled) {
        status.events_known = false;
        status.events_reason = cancelled.reason;
    }
}

}  // namespace

std::optional<double> synced_percentage(const StatusCounts& counts) {
    if (!counts.registry || !counts.synced)
        return std::nullopt;
    return *counts.registry == 0 ? 0.0 : static_cast<double>(*counts.synced) / static_cast<double>(*counts.registry) * 100.0;
}

std::optional<double> verified_percentage(const StatusCounts& counts) {
    if (!counts.registry)
        return std::nullopt;
    // With verification disabled GitLab's verified count is nil, and its percentage is
    // computed from zero: 0, not nil.
    long long verified = counts.verified.value_or(0);
    return *counts.registry == 0 ? 0.0 : static_cast<double>(verified) / static_cast<double>(*counts.registry) * 100.0;
}

bool SiteStatus::complete() const {
    if (!events_known)
        return false;
    for (const auto& t : types)
        if (t.outcome == TypeOutcome::unknown || t.outcome == TypeOutcome::partial)
            return false;
    return true;
}

bool SiteStatus::records_failed() const {
    for (const auto& t : types)
        for (CountField field : {&StatusCounts::failed, &StatusCounts::verification_failed,
                                 &StatusCounts::checksum_failed})
            if ((t.counts.*field).value_or(0) > 0)
                return true;
    return false;
}

bool counted_in_status(const Replicable& replicable, Role role) {
    return role == Role::primary ? replicable.verification_enabled : replicable.replication_enabled;
}

std::vector<TypeStatus> select_status_types(const Config& config, Role role, const std::vector<std::string>& names) {
    bool primary = role == Role::primary;
    std::vector<TypeStatus> out;
    if (names.empty()) {
        for (const auto& r : config.replicables)
            if (counted_in_status(r, role))
                out.push_back({&r, TypeOutcome::counted, "", {}, {}, {}, {}, {}, {}});
        return out;
    }
    for (const auto& name : names) {
        const Replicable& r = config.replicable(name);
        bool seen = false;
        for (const auto& t : out)
            seen = seen || t.replicable == &r;
        if (seen)
            continue;
        if (counted_in_status(r, role))
            out.push_back({&r, TypeOutcome::counted, "", {}, {}, {}, {}, {}, {}});
        else
            out.push_back({&r, TypeOutcome::disabled,
                           std::string(primary ? "verification" : "replication") + " is disabled in " + r.file.string(),
                           {},
                           {},
                           {},
                           {},
                           {},
                           {}});
    }
    return out;
}

SiteStatus collect_status(Site& site, std::vector<TypeStatus> types, bool by_storage) {
    const Config& config = site.config();
    SiteStatus status;
    status.site = config.site_name;
    status.role = site.role();
    std::string timeout_text = format_duration(config.status_timeout);
    // A secondary counts what its tracking database holds even while the primary's database
    // cannot be reached; what needs that database is unknown.
    pqxx::connection* main = nullptr;
    try {
        main = &site.main_database();
    } catch (const DatabaseError& e) {
        if (site.is_primary())
            throw;
        status.main_unavailable = first_line(e.what());
    }
    if (main && !site.is_primary())
        site.require_migrated(DatabaseKind::main);
    read_events(site, main, status, Clock::now() + config.status_timeout, timeout_text);

    for (auto& t : types) {
        if (t.outcome != TypeOutcome::counted)
            continue;
        auto deadline = Clock::now() + config.status_timeout;
        if (site.is_primary()) {
            count_on_primary(*main, t, deadline, timeout_text);
        } else {
            std::optional<long long> cursor;
            if (status.events_known)
                cursor = status.cursor_last_event ? status.cursor_last_event->id : 0;
            count_on_secondary(main, status.main_unavailable, site.geo_database(), t, cursor, deadline, timeout_text);
        }
        if (!t.unknown_fields.empty())
            t.outcome = any_counted(t.counts) ? TypeOutcome::partial : TypeOutcome::unknown;
        if (by_storage && t.outcome != TypeOutcome::unknown) {
            const Replicable& r = *t.replicable;
            try {
                TimedReader reader(site.is_primary() ? *main : site.geo_database(),
                                   Clock::now() + config.status_timeout, timeout_text);
                status.by_storage[r.name] = site.is_primary() ? primary_counts_by_storage(reader, r)
                                                              : secondary_counts_by_storage(reader, r);
            } catch (const CountCancelled& cancelled) {
                status.by_storage_unknown[r.name] = cancelled.reason;
            }
        }
    }
    status.types = std::move(types);
    if (!site.is_primary()) {
        try {
            QuarantineUsage total;
            for (const auto& storage : config.storages) {
                QuarantineUsage usage = quarantine_usage(storage.root);
                total.repositories += usage.repositories;
                total.bytes += usage.bytes;
                status.storage_roots.push_back(storage.root);
            }
            status.quarantine = total;
        } catch (const Error& e) {
            spdlog::warn("the quarantine is not counted: {}", e.what());
        }
    }
    return status;
}

std::string status_field_name(const std::string& plural, const std::string& field) { return plural + "_" + field; }

std::string prometheus_gauge_name(const std::string& field_name) {
    static const std::regex suffix("(_count|_total)$");
    return "geo_" + std::regex_replace(field_name, suffix, "");
}

void recount_tallies(Site& site, const std::vector<TypeStatus>& types) {
    pqxx::connection& db = site.role_database();
    auto lock_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(site.config().status_timeout);
    for (const auto& t : types) {
        if (t.outcome != TypeOutcome::counted)
            continue;
        TalliedTable table = tallied_table_of(*t.replicable, site.role());
        if (auto rows = recount_tallies(db, table, lock_timeout))
            spdlog::info("{}: recounted {} rows of {}", t.replicable->name, *rows, table.name);
        else
            spdlog::warn("{}: {} has no tally triggers; its rows are counted every time", t.replicable->name,
                         table.name);
    }
}


}  // namespace geo_ssf
