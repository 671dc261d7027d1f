#include "db/transitions.hpp"

#include <doctest/doctest.h>

#include <stdexcept>
#include <string>

using namespace geo_ssf;
using C = Column;
using P = Parameter;

namespace {

Cell number(long long n) { return Cell{n}; }
Cell of(SyncState s) { return Cell{static_cast<long long>(s)}; }
Cell of(VerificationState s) { return Cell{static_cast<long long>(s)}; }
Cell text(const std::string& t) { return Cell{t}; }
Cell at(double seconds) { return Cell{Time{seconds}}; }
const Cell k_null{};

const Time k_now{1000};

// A registry row whose sync and verification both failed, with their backoffs and a mismatch.
Row failed_registry_row() {
    return {{C::state, of(SyncState::failed)},
            {C::retry_count, number(3)},
            {C::retry_at, at(2000)},
            {C::last_sync_failure, text("Error syncing repository: gone")},
            {C::verification_state, of(VerificationState::failed)},
            {C::verification_retry_count, number(4)},
            {C::verification_retry_at, at(3000)},
            {C::verification_failure, text("Error during verification: mismatch")},
            {C::checksum_mismatch, Cell{true}},
            {C::verification_checksum_mismatched, text("abcd")}};
}

// A registry row synced and verified.
Row verified_registry_row() {
    return {{C::state, of(SyncState::synced)},
            {C::retry_count, number(0)},
            {C::verification_state, of(VerificationState::succeeded)},
            {C::verification_retry_count, number(0)},
            {C::verification_checksum, text("1234")},
            {C::checksum_mismatch, Cell{false}}};
}

Cell cell(const Row& row, Column column) {
    auto it = row.find(column);
    return it == row.end() ? Cell{} : it->second;
}

}  // namespace

TEST_SUITE("transitions") {

TEST_CASE("transitions::sync_pending forgets the retries and disables verification") {
    Row after = transition::sync_pending().apply(failed_registry_row());
    CHECK(cell(after, C::state) == of(SyncState::pending));
    CHECK(cell(after, C::retry_count) == number(0));
    CHECK(cell(after, C::retry_at) == k_null);
    CHECK(cell(after, C::verification_state) == of(VerificationState::disabled));
    // What it does not write stays.
    CHECK(cell(after, C::last_sync_failure) == text("Error syncing repository: gone"));
    CHECK(cell(after, C::verification_retry_count) == number(4));
}

TEST_CASE("transitions::the bulk marks change only the state") {
    Row before = failed_registry_row();
    Row synced = transition::sync_pending_bulk().apply(before);
    Row expected = before;
    expected[C::state] = of(SyncState::pending);
    CHECK(synced == expected);
    Row verified = transition::verification_pending_bulk().apply(before);
    expected = before;
    expected[C::verification_state] = of(VerificationState::pending);
    CHECK(verified == expected);
}

TEST_CASE("transitions::after a promotion a states row is pending without the old primary's checksum") {
    Row before = failed_registry_row();
    Row after = transition::verification_pending_after_promotion().apply(before);
    CHECK(cell(after, C::verification_state) == of(VerificationState::pending));
    CHECK(cell(after, C::verification_checksum) == k_null);
    CHECK(cell(after, C::verification_failure) == k_null);
    CHECK(cell(after, C::verification_retry_count) == number(0));
    CHECK(cell(after, C::verified_at) == k_null);
    // What it does not write stays.
    CHECK(cell(after, C::state) == cell(before, C::state));
}

TEST_CASE("transitions::a claim stamps the state started with the claim time") {
    Parameters claim = {{P::claim_time, text("2026-12-06 10:00:00+00")}};
    Row synced = transition::sync_started().apply(failed_registry_row(), claim);
    CHECK(cell(synced, C::state) == of(SyncState::started));
    CHECK(cell(synced, C::last_synced_at) == text("2026-12-06 10:00:00+00"));
    CHECK(cell(synced, C::verification_state) == of(VerificationState::failed));
    Row verified = transition::verification_started().apply(verified_registry_row(), claim);
    CHECK(cell(verified, C::verification_state) == of(VerificationState::started));
    CHECK(cell(verified, C::verification_started_at) == text("2026-12-06 10:00:00+00"));
    CHECK(cell(verified, C::state) == of(SyncState::synced));
}

TEST_CASE("transitions::sync_succeeded makes verification pending when the primary has a checksum") {
    Parameters outcome = {{P::missing_on_primary, Cell{false}}};
    SUBCASE("a failed verification keeps its backoff and its mismatch") {
        Row after = transition::sync_succeeded(true).apply(failed_registry_row(), outcome, k_now);
        CHECK(cell(after, C::state) == of(SyncState::synced));
        CHECK(cell(after, C::retry_count) == number(0));
        CHECK(cell(after, C::retry_at) == k_null);
        CHECK(cell(after, C::last_sync_failure) == k_null);
        CHECK(cell(after, C::missing_on_primary) == Cell{false});
        CHECK(cell(after, C::verification_state) == of(VerificationState::pending));
        CHECK(cell(after, C::verification_failure) == k_null);
        CHECK(cell(after, C::verification_retry_count) == number(4));
        CHECK(cell(after, C::verification_retry_at) == at(3000));
        CHECK(cell(after, C::checksum_mismatch) == Cell{true});
        CHECK(cell(after, C::verification_checksum_mismatched) == text("abcd"));
    }
    SUBCASE("any other verification starts afresh") {
        Row after = transition::sync_succeeded(true).apply(verified_registry_row(), outcome, k_now);
        CHECK(cell(after, C::verification_state) == of(VerificationState::pending));
        CHECK(cell(after, C::verification_retry_count) == number(0));
        CHECK(cell(after, C::verification_retry_at) == k_null);
        CHECK(cell(after, C::checksum_mismatch) == Cell{false});
        CHECK(cell(after, C::verification_checksum_mismatched) == k_null);
    }
}

TEST_CASE("transitions::sync_succeeded disables verification while the primary has no checksum") {
    Row before = failed_registry_row();
    Row after = transition::sync_succeeded(false).apply(before, {{P::missing_on_primary, Cell{true}}}, k_now);
    CHECK(cell(after, C::state) == of(SyncState::synced));
    CHECK(cell(after, C::missing_on_primary) == Cell{true});
    CHECK(cell(after, C::verification_state) == of(VerificationState::disabled));
    CHECK(cell(after, C::verification_retry_count) == number(4));  // untouched
}

TEST_CASE("transitions::sync_succeeded_while_pending keeps the row pending, as a fresh start") {
    Row before = failed_registry_row();
    before[C::state] = of(SyncState::pending);
    Row after = transition::sync_succeeded_while_pending().apply(before, {{P::missing_on_primary, Cell{false}}});
    CHECK(cell(after, C::state) == of(SyncState::pending));
    CHECK(cell(after, C::retry_count) == number(0));
    CHECK(cell(after, C::retry_at) == k_null);
    CHECK(cell(after, C::last_sync_failure) == k_null);
}

TEST_CASE("transitions::sync_failed records the outcome's failure and backoff") {
    Parameters outcome = {{P::failure, text("Error syncing repository: timeout")},
                          {P::retry_count, number(4)},
                          {P::retry_in, number(271)}};
    Row after = transition::sync_failed().apply(verified_registry_row(), outcome, k_now);
    CHECK(cell(after, C::state) == of(SyncState::failed));
    CHECK(cell(after, C::retry_count) == number(4));
    CHECK(cell(after, C::retry_at) == at(1271));
    CHECK(cell(after, C::last_sync_failure) == text("Error syncing repository: timeout"));
    CHECK(cell(after, C::verification_state) == of(VerificationState::succeeded));
}

TEST_CASE("transitions::a timed-out sync fails with a first failure's backoff") {
    Parameters outcome = {{P::failure, text("Sync timed out after 10800")}, {P::retry_in, number(30)}};
    Row after = transition::sync_timed_out().apply(failed_registry_row(), outcome, k_now);
    CHECK(cell(after, C::state) == of(SyncState::failed));
    CHECK(cell(after, C::retry_count) == number(1));
    CHECK(cell(after, C::retry_at) == at(1030));
    CHECK(cell(after, C::last_sync_failure) == text("Sync timed out after 10800"));
}

TEST_CASE("transitions::removal_failed makes the row failed and due again") {
    Parameters outcome = {{P::failure, text("repository not removed: busy")}, {P::retry_in, number(60)}};
    Row after = transition::removal_failed().apply(verified_registry_row(), outcome, k_now);
    CHECK(cell(after, C::state) == of(SyncState::failed));
    CHECK(cell(after, C::retry_at) == at(1060));
    CHECK(cell(after, C::last_sync_failure) == text("repository not removed: busy"));
    CHECK(cell(after, C::retry_count) == number(0));
}

TEST_CASE("transitions::verification_pending keeps a failure's backoff, on either table") {
    SUBCASE("registry") {
        Row after = transition::verification_pending(VerificationTable::registry).apply(failed_registry_row());
        CHECK(cell(after, C::verification_state) == of(VerificationState::pending));
        CHECK(cell(after, C::verification_failure) == k_null);
        CHECK(cell(after, C::verification_retry_count) == number(4));
        CHECK(cell(after, C::checksum_mismatch) == Cell{true});
        CHECK(cell(after, C::state) == of(SyncState::failed));
    }
    SUBCASE("states") {
        Row states = {{C::verification_state, of(VerificationState::succeeded)},
                      {C::verification_retry_count, number(2)},
                      {C::verification_retry_at, at(5)}};
        auto pending = transition::verification_pending(VerificationTable::states);
        CHECK_FALSE(pending.writes(C::checksum_mismatch));
        Row after = pending.apply(states);
        CHECK(cell(after, C::verification_state) == of(VerificationState::pending));
        CHECK(cell(after, C::verification_retry_count) == number(0));
        CHECK(cell(after, C::verification_retry_at) == k_null);
    }
}

TEST_CASE("transitions::verification outcomes") {
    SUBCASE("succeeded stores the checksum and clears the failure, and on a registry the mismatch") {
        Row after = transition::verification_succeeded(VerificationTable::registry)
                        .apply(failed_registry_row(), {{P::checksum, text("beef")}}, k_now);
        CHECK(cell(after, C::verification_state) == of(VerificationState::succeeded));
        CHECK(cell(after, C::verification_checksum) == text("beef"));
        CHECK(cell(after, C::verification_failure) == k_null);
        CHECK(cell(after, C::verification_retry_count) == number(0));
        CHECK(cell(after, C::verification_retry_at) == k_null);
        CHECK(cell(after, C::verified_at) == at(1000));
        CHECK(cell(after, C::checksum_mismatch) == Cell{false});
        CHECK(cell(after, C::state) == of(SyncState::failed));  // the sync is its own machine
    }
    SUBCASE("failed on a primary clears the checksum") {
        Row states = {{C::verification_state, of(VerificationState::started)}, {C::verification_checksum, text("1")}};
        Parameters outcome = {{P::failure, text("Error during verification: x")},
                              {P::retry_count, number(2)},
                              {P::retry_in, number(31)}};
        Row after = transition::verification_failed().apply(states, outcome, k_now);
        CHECK(cell(after, C::verification_state) == of(VerificationState::failed));
        CHECK(cell(after, C::verification_checksum) == k_null);
        CHECK(cell(after, C::verification_retry_count) == number(2));
        CHECK(cell(after, C::verification_retry_at) == at(1031));
        CHECK(cell(after, C::verified_at) == at(1000));
    }
    SUBCASE("failed on a registry fails the sync too, so that the copy is fetched again") {
        Parameters outcome = {{P::checksum, text("aaaa")},
                              {P::failure, text("Checksum does not match")},
                              {P::retry_count, number(1)},
                              {P::retry_in, number(16)},
                              {P::checksum_mismatch, Cell{true}},
                              {P::mismatched_checksum, text("aaaa")},
                              {P::sync_failure, text("Verification failed with: Checksum does not match")},
                              {P::sync_retry_count, number(1)},
                              {P::sync_retry_in, number(20)}};
        Row after = transition::registry_verification_failed().apply(verified_registry_row(), outcome, k_now);
        CHECK(cell(after, C::verification_state) == of(VerificationState::failed));
        CHECK(cell(after, C::verification_checksum) == text("aaaa"));
        CHECK(cell(after, C::checksum_mismatch) == Cell{true});
        CHECK(cell(after, C::verification_checksum_mismatched) == text("aaaa"));
        CHECK(cell(after, C::state) == of(SyncState::failed));
        CHECK(cell(after, C::retry_count) == number(1));
        CHECK(cell(after, C::retry_at) == at(1020));
        CHECK(cell(after, C::last_sync_failure) == text("Verification failed with: Checksum does not match"));
    }
    SUBCASE("a mismatch that a fetch cannot mend fails the verification alone: the sync stays") {
        Parameters outcome = {{P::checksum, text("aaaa")},
                              {P::failure, text("Checksum does not match the primary's, though ...")},
                              {P::retry_count, number(1)},
                              {P::retry_in, number(16)},
                              {P::checksum_mismatch, Cell{true}},
                              {P::mismatched_checksum, text("aaaa")}};
        Row before = verified_registry_row();
        Row after = transition::registry_verification_failed_without_resync().apply(before, outcome, k_now);
        CHECK(cell(after, C::verification_state) == of(VerificationState::failed));
        CHECK(cell(after, C::verification_retry_at) == at(1016));
        CHECK(cell(after, C::checksum_mismatch) == Cell{true});
        CHECK(cell(after, C::verification_checksum_mismatched) == text("aaaa"));
        for (C column : {C::state, C::retry_count, C::retry_at, C::last_sync_failure})
            CHECK(cell(after, column) == cell(before, column));
    }
    SUBCASE("disabled changes the state alone") {
        Row before = verified_registry_row();
        Row after = transition::verification_disabled().apply(before);
        before[C::verification_state] = of(VerificationState::disabled);
        CHECK(after == before);
    }
    SUBCASE("a success that finds the row restarted keeps the checksum and leaves it pending") {
        Row after = transition::verification_succeeded_while_restarted(VerificationTable::registry)
                        .apply(failed_registry_row(), {{P::checksum, text("cafe")}}, k_now);
        CHECK(cell(after, C::verification_state) == of(VerificationState::pending));
        CHECK(cell(after, C::verification_checksum) == text("cafe"));
        CHECK(cell(after, C::verified_at) == at(1000));
        CHECK(cell(after, C::verification_retry_count) == number(0));
        CHECK(cell(after, C::checksum_mismatch) == Cell{false});
    }
}

TEST_CASE("transitions::a timed-out verification fails the sync only on a registry") {
    Parameters outcome = {{P::failure, text("Verification timed out after 28800")},
                          {P::retry_in, number(16)},
                          {P::sync_failure, text("Verification failed with: Verification timed out after 28800")}};
    Row registry = transition::verification_timed_out(VerificationTable::registry)
                       .apply(verified_registry_row(), outcome, k_now);
    CHECK(cell(registry, C::verification_state) == of(VerificationState::failed));
    CHECK(cell(registry, C::verification_checksum) == k_null);
    CHECK(cell(registry, C::verification_retry_count) == number(1));
    CHECK(cell(registry, C::state) == of(SyncState::failed));
    CHECK(cell(registry, C::retry_count) == number(1));
    CHECK(cell(registry, C::retry_at) == at(1016));
    CHECK(cell(registry, C::last_sync_failure) == text("Verification failed with: Verification timed out after 28800"));

    auto states = transition::verification_timed_out(VerificationTable::states);
    CHECK_FALSE(states.writes(C::state));
    CHECK_FALSE(states.writes(C::last_sync_failure));
}

TEST_CASE("transitions::released and restored put a claim back") {
    Row started = verified_registry_row();
    started[C::state] = of(SyncState::started);
    CHECK(cell(transition::released(C::state).apply(started), C::state) == of(SyncState::pending));
    CHECK(cell(transition::restored(C::state).apply(started, {{P::state, number(3)}}), C::state) ==
          of(SyncState::failed));
    started[C::verification_state] = of(VerificationState::started);
    CHECK(cell(transition::released(C::verification_state).apply(started), C::verification_state) ==
          of(VerificationState::pending));
}

TEST_CASE("transitions::set_list renders each write with the enums' values") {
    CHECK(transition::sync_pending().set_list("g") ==
          "state = 0, retry_at = NULL, retry_count = 0, verification_state = 4");
    CHECK(transition::sync_failed().set_list("g") ==
          "state = 3, retry_count = o.retry_count, retry_at = now() + make_interval(secs => o.retry_in), "
          "last_sync_failure = o.failure");
    CHECK(transition::verification_pending(VerificationTable::states).set_list("") ==
          "verification_state = 0, verification_failure = NULL, verification_retry_count = CASE WHEN "
          "verification_state = 3 THEN verification_retry_count ELSE 0 END, verification_retry_at = CASE WHEN "
          "verification_state = 3 THEN verification_retry_at ELSE NULL END");
    CHECK(transition::verification_succeeded(VerificationTable::states).set_list("s", [](Parameter p) {
        return std::string("$") + parameter_name(p);
    }) == "verification_state = 2, verification_checksum = decode($checksum, 'hex'), verification_failure = NULL, "
          "verification_retry_count = 0, verification_retry_at = NULL, verified_at = now()");
}

TEST_CASE("transitions::then lets the later part win and lists each parameter once") {
    Transition first = {{C::state, Value::of(SyncState::failed)}, {C::last_sync_failure, Value::parameter(P::failure)}};
    Transition combined = first.then({{C::state, Value::of(SyncState::synced)},
                                      {C::retry_at, Value::now_plus_parameter(P::retry_in)},
                                      {C::verification_failure, Value::parameter(P::failure)}});
    CHECK(combined.set_list("") == "last_sync_failure = o.failure, state = 2, retry_at = now() + "
                                   "make_interval(secs => o.retry_in), verification_failure = o.failure");
    CHECK(combined.parameters() == std::vector<Parameter>{P::failure, P::retry_in});
    CHECK(outcome_records_sql(combined.parameters(), 1) ==
          "jsonb_to_recordset($1::jsonb) AS o(failure text, retry_in double precision)");
}

TEST_CASE("transitions::the due predicates come from the enums") {
    CHECK(sql::sync_pending() == "state = 0");
    CHECK(sql::sync_failed_and_due() == "state = 3 AND (retry_at IS NULL OR retry_at < now())");
    CHECK(sql::verification_pending() == "verification_state = 0");
    CHECK(sql::registry_synced() == "state = 2");
    CHECK(sql::verification_restarted(2) ==
          "((verification_state = 0 AND verification_started_at = $2::timestamptz) OR (verification_state = 1 AND "
          "verification_started_at > $2::timestamptz))");
}


TEST_CASE("transitions::a deep check passes: due an interval on, its failures and repairs forgotten") {
    Row failed = {{C::deep_check_state, of(VerificationState::failed)},
                  {C::deep_check_due_at, at(500)},
                  {C::deep_check_failure, text("git fsck: missing blob 1a2b")},
                  {C::deep_check_retry_count, number(2)},
                  {C::deep_check_retry_at, at(900)},
                  {C::deep_check_repairs, number(1)}};
    Row started = transition::deep_check_started().apply(failed, {{P::claim_time, text("2026-12-10 10:00:00+00")}});
    CHECK(cell(started, C::deep_check_state) == of(VerificationState::started));
    CHECK(cell(started, C::deep_check_started_at) == text("2026-12-10 10:00:00+00"));
    Row passed = transition::deep_check_succeeded().apply(started, {{P::seconds, number(3)}, {P::due_in, number(2592000)}},
                                                          k_now);
    CHECK(cell(passed, C::deep_check_state) == of(VerificationState::succeeded));
    CHECK(cell(passed, C::deep_checked_at) == at(1000));
    CHECK(cell(passed, C::deep_check_seconds) == number(3));
    CHECK(cell(passed, C::deep_check_due_at) == at(1000 + 2592000));
    CHECK(cell(passed, C::deep_check_failure) == k_null);
    CHECK(cell(passed, C::deep_check_retry_count) == number(0));
    CHECK(cell(passed, C::deep_check_retry_at) == k_null);
    CHECK(cell(passed, C::deep_check_repairs) == number(0));
}

TEST_CASE("transitions::a deep check fails: the failure, its backoff and the repairs; the schedule stays") {
    Row scheduled = {{C::deep_check_state, of(VerificationState::started)}, {C::deep_check_due_at, at(500)}};
    Parameters outcome = {{P::failure, text("git fsck: missing blob 1a2b")},
                          {P::seconds, number(2)},
                          {P::retry_count, number(1)},
                          {P::retry_in, number(16)},
                          {P::repairs, number(1)}};
    Row failed = transition::deep_check_failed().apply(scheduled, outcome, k_now);
    CHECK(cell(failed, C::deep_check_state) == of(VerificationState::failed));
    CHECK(cell(failed, C::deep_checked_at) == at(1000));
    CHECK(cell(failed, C::deep_check_failure) == text("git fsck: missing blob 1a2b"));
    CHECK(cell(failed, C::deep_check_retry_count) == number(1));
    CHECK(cell(failed, C::deep_check_retry_at) == at(1016));
    CHECK(cell(failed, C::deep_check_repairs) == number(1));
    CHECK(cell(failed, C::deep_check_due_at) == at(500));
    Row timed_out = transition::deep_check_timed_out().apply(
        scheduled, {{P::failure, text("Deep check timed out after 28800")}, {P::retry_in, number(30)}}, k_now);
    CHECK(cell(timed_out, C::deep_check_state) == of(VerificationState::failed));
    CHECK(cell(timed_out, C::deep_check_retry_count) == number(1));
    CHECK(cell(timed_out, C::deep_check_retry_at) == at(1030));
    // reverify --deep: due now, the failure kept until the next result.
    Row due = transition::deep_check_due().apply(failed, {}, k_now);
    CHECK(cell(due, C::deep_check_state) == of(VerificationState::pending));
    CHECK(cell(due, C::deep_check_due_at) == at(1000));
    CHECK(cell(due, C::deep_check_failure) == text("git fsck: missing blob 1a2b"));
    CHECK(cell(transition::released(C::deep_check_state).apply(scheduled), C::deep_check_state) ==
          of(VerificationState::pending));
}

TEST_CASE("transitions::a copy that failed its deep check is synced afresh, or with backoff after a fresh clone") {
    Row repaired = transition::copy_repaired().apply(verified_registry_row(), {}, k_now);
    CHECK(cell(repaired, C::state) == of(SyncState::pending));
    CHECK(cell(repaired, C::verification_state) == of(VerificationState::disabled));
    Parameters outcome = {{P::failure, text("Error syncing repository: a fresh clone failed its deep check again")},
                          {P::retry_count, number(1)},
                          {P::retry_in, number(20)}};
    Row backed_off = transition::copy_repair_backed_off().apply(verified_registry_row(), outcome, k_now);
    CHECK(cell(backed_off, C::state) == of(SyncState::failed));
    CHECK(cell(backed_off, C::retry_count) == number(1));
    CHECK(cell(backed_off, C::retry_at) == at(1020));
    CHECK(cell(backed_off, C::last_sync_failure) ==
          text("Error syncing repository: a fresh clone failed its deep check again"));
    CHECK(cell(backed_off, C::verification_state) == of(VerificationState::disabled));
}

TEST_CASE("transitions::housekeeping: requested after a sync, a fresh copy to be packed whole; its outcomes") {
    Row done = {{C::housekeeping_state, of(VerificationState::succeeded)},
                {C::housekeeping_fresh_copy, Cell{false}},
                {C::full_repacked_at, at(10)}};
    CHECK(cell(transition::housekeeping_requested().apply(done), C::housekeeping_state) ==
          of(VerificationState::pending));
    CHECK(cell(transition::housekeeping_requested().apply(done), C::housekeeping_fresh_copy) == Cell{false});
    Row fresh = transition::housekeeping_requested_for_fresh_copy().apply(done);
    CHECK(cell(fresh, C::housekeeping_fresh_copy) == Cell{true});

    Parameters full = {{P::tasks, text("full repack, commit-graph")}, {P::full_repack, Cell{true}}, {P::seconds, number(2)}};
    Row packed = transition::housekeeping_succeeded().apply(fresh, full, k_now);
    CHECK(cell(packed, C::housekeeping_state) == of(VerificationState::succeeded));
    CHECK(cell(packed, C::housekept_at) == at(1000));
    CHECK(cell(packed, C::housekeeping_tasks) == text("full repack, commit-graph"));
    CHECK(cell(packed, C::housekeeping_fresh_copy) == Cell{false});
    CHECK(cell(packed, C::full_repacked_at) == at(1000));
    Parameters light = {{P::tasks, text("nothing to do")}, {P::full_repack, Cell{false}}, {P::seconds, number(0)}};
    CHECK(cell(transition::housekeeping_succeeded().apply(done, light, k_now), C::full_repacked_at) == at(10));

    Parameters failure = {{P::tasks, text("full repack")},
                          {P::failure, text("full repack failed: bad config")},
                          {P::seconds, number(1)},
                          {P::retry_count, number(1)},
                          {P::retry_in, number(16)}};
    Row failed = transition::housekeeping_failed().apply(fresh, failure, k_now);
    CHECK(cell(failed, C::housekeeping_state) == of(VerificationState::failed));
    CHECK(cell(failed, C::housekeeping_failure) == text("full repack failed: bad config"));
    CHECK(cell(failed, C::housekeeping_retry_at) == at(1016));
    CHECK(cell(failed, C::housekeeping_fresh_copy) == Cell{true});  // the retry packs it whole
    CHECK(transition::housekeeping_succeeded().set_list("g").find(
              "full_repacked_at = CASE WHEN o.full_repack THEN now() ELSE g.full_repacked_at END") != std::string::npos);
}

TEST_CASE("transitions::the deep checks' and housekeeping's predicates come from the enums") {
    CHECK(sql::deep_check_scheduled_and_due() == "deep_check_state IN (0, 2) AND deep_check_due_at <= now()");
    CHECK(sql::deep_check_failed_and_due() ==
          "deep_check_state = 3 AND (deep_check_retry_at IS NULL OR deep_check_retry_at < now())");
    CHECK(sql::housekeeping_pending() == "housekeeping_state = 0");
    CHECK(sql::housekeeping_started_for("cool_widget", "g", "cool_widget_id") ==
          "EXISTS (SELECT FROM geo_ssf_housekeeping w WHERE w.replicable = 'cool_widget' AND w.record_id = "
          "g.cool_widget_id AND w.housekeeping_state = 1)");
    CHECK_THROWS_AS(sql::type_literal("x'; DROP TABLE y; --"), std::logic_error);
}

}
