// The transitions of the state machines (states.hpp) as data: what each one writes to each
// column of a registry or states row. One description serves twice: rendered as the SET list of
// the statement that applies it to many rows at once (set_list), and applied to one row in
// memory (apply), which the unit tests check transition by transition. So the SQL cannot drift
// from the rule it is tested against.
//
// A value is read from the row as it was before the transition (as SQL's SET does), from the
// outcome being recorded (a Parameter, o.<name> in SQL), or is a constant, NULL or the time.
#pragma once

#include "db/states.hpp"

#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <string>
#include <variant>
#include <vector>

namespace geo_ssf {

// The columns of registry and states rows that transitions write (the first six and the two
// mismatch columns are a registry's only), then those of geo-ssf's own tables of deep checks
// (geo_ssf_deep_checks) and housekeeping (geo_ssf_housekeeping).
enum class Column {
    state,
    retry_count,
    retry_at,
    last_sync_failure,
    last_synced_at,
    missing_on_primary,
    verification_state,
    verification_started_at,
    verified_at,
    verification_checksum,
    verification_failure,
    verification_retry_count,
    verification_retry_at,
    checksum_mismatch,
    verification_checksum_mismatched,
    deep_check_state,
    deep_check_started_at,
    deep_check_due_at,
    deep_checked_at,
    deep_check_seconds,
    deep_check_failure,
    deep_check_retry_count,
    deep_check_retry_at,
    deep_check_repairs,
    housekeeping_state,
    housekeeping_started_at,
    housekeeping_fresh_copy,
    housekept_at,
    housekeeping_tasks,
    housekeeping_seconds,
    housekeeping_failure,
    housekeeping_retry_count,
    housekeeping_retry_at,
    full_repacked_at,
};
const char* column_name(Column column);

// What a transition takes from the outcome it records, with its SQL type: the statement reads
// the outcomes as jsonb records `o` of these columns (outcome_columns_sql).
enum class Parameter {
    id,                // the record's id (the row's foreign key)
    state,             // a state to put back
    claim_time,        // the run's claim time (run_lock.hpp)
    checksum,          // hex
    failure,           // a failure text, within its column's 255 characters
    retry_count,
    retry_in,          // seconds until the next retry
    missing_on_primary,
    checksum_mismatch,
    mismatched_checksum,  // hex
    sync_failure,      // the failure a failed verification gives the sync
    sync_retry_count,
    sync_retry_in,
    seconds,       // how long the work took
    due_in,        // seconds until the next deep check
    repairs,       // fresh clones of a copy since it last passed its deep check
    tasks,         // what housekeeping did
    full_repack,   // whether housekeeping packed the copy whole
};
const char* parameter_name(Parameter parameter);
const char* parameter_type(Parameter parameter);  // "text", "integer", ...

// A time as the pure side sees it: seconds on any clock, the same for a row and for `now`.
struct Time {
    double seconds = 0;
    bool operator==(const Time& other) const = default;
};
// One cell of a row: NULL, a number (states, counts), a flag, a time, or text (failures, and
// checksums in hex).
using Cell = std::variant<std::monostate, long long, bool, Time, std::string>;
using Row = std::map<Column, Cell>;  // a column absent from the map is NULL
using Parameters = std::map<Parameter, Cell>;

// What a transition writes to one column.
class Value {
public:
    static Value number(long long n);
    static Value of(SyncState state);
    static Value of(VerificationState state);
    static Value flag(bool b);
    static Value null();
    static Value now();
    static Value parameter(Parameter p);
    static Value hex_parameter(Parameter p);       // bytea from hex (decode(o.x, 'hex'))
    static Value now_plus_parameter(Parameter p);  // now() + P seconds; NULL when P is NULL
    static Value now_if_parameter(Parameter p);    // now() when the flag P is true, else the column's own value
    // The column's own value when the row's verification failed (so that a failed row keeps
    // its backoff), else OTHERWISE.
    static Value kept_if_verification_failed(Value otherwise);

    // The SQL expression for column COLUMN; ROW_ALIAS qualifies the row's own columns ("g").
    std::string sql(Column column, const std::string& row_alias,
                    const std::function<std::string(Parameter)>& parameter_sql) const;
    Cell evaluate(Column column, const Row& before, const Parameters& parameters, Time now) const;
    void add_parameters(std::vector<Parameter>& out) const;

private:
    enum class Kind {
        constant,
        now,
        parameter,
        hex_parameter,
        now_plus_parameter,
        now_if_parameter,
        kept_if_verification_failed
    };
    Kind m_kind = Kind::constant;
    Cell m_constant;
    Parameter m_parameter = Parameter::id;
    std::shared_ptr<const Value> m_otherwise;
};

struct Write {
    Column column;
    Value value;
};

class Transition {
public:
    Transition(std::initializer_list<Write> writes);
    // This transition's writes and then MORE's, MORE's winning where both write a column: how
    // a coupled transition is built from its parts.
    Transition then(const Transition& more) const;

    // "state = <synced>, retry_count = 0, ...": the SET list of an UPDATE whose table is aliased
    // ROW_ALIAS and whose outcome record is o (or PARAMETER_SQL's expressions).
    std::string set_list(const std::string& row_alias = "g") const;
    std::string set_list(const std::string& row_alias, const std::function<std::string(Parameter)>& parameter_sql) const;
    // The row after this transition, for the outcome PARAMETERS at time NOW.
    Row apply(const Row& before, const Parameters& parameters = {}, Time now = {}) const;
    // The parameters the transition reads, each once.
    std::vector<Parameter> parameters() const;
    bool writes(Column column) const;

private:
    explicit Transition(std::vector<Write> writes) : m_writes(std::move(writes)) {}
    std::vector<Write> m_writes;
};

// "jsonb_to_recordset($N::jsonb) AS o(id bigint, failure text, ...)": the outcome records of a
// statement, from a JSON array given as parameter $N (outcome_json fills it).
std::string outcome_records_sql(const std::vector<Parameter>& columns, int n);
// "jsonb_to_record($N::jsonb) AS o(...)": one outcome record for every row.
std::string outcome_record_sql(const std::vector<Parameter>& columns, int n);

// Which table a transition of the verification machine is for: a registry also keeps the
// mismatch columns.
enum class VerificationTable { states, registry };

namespace transition {

// Sync (registry rows) ------------------------------------------------------------------------

// Any → pending (GitLab's pending!): retries forgotten, verification disabled until the next
// successful sync.
Transition sync_pending();
// The bulk mark of resync --all and --failed: only the state changes, so that the counts of
// what was synced do not collapse while everything is fetched again.
Transition sync_pending_bulk();
// Claimed by the run whose claim time is the claim_time parameter.
Transition sync_started();
// Started → synced, with the coupled verification transition: pending when the primary's
// verification succeeded (PRIMARY_VERIFIED), else disabled, for there is nothing to compare.
Transition sync_succeeded(bool primary_verified);
// Synced, but marked pending while it was fetched (a resync, an event): it stays pending, a
// fresh start without the retries and failure of before, as GitLab's synced! leaves it.
Transition sync_succeeded_while_pending();
// Any → failed: the outcome's failure, retry count and backoff.
Transition sync_failed();
// Started too long ago by a run that is alive but stuck: failed, a first failure's backoff.
Transition sync_timed_out();
// A copy that could not be removed: failed and due again in the retry_in parameter's time.
Transition removal_failed();

// Verification (states and registry rows) -----------------------------------------------------

// Any → pending. From failed only the failure text is cleared, so that the backoff stays
// progressive; from any other state the retry fields (and a registry's mismatch) are reset.
Transition verification_pending(VerificationTable table);
// The bulk mark of reverify --all and --failed: only the state changes.
Transition verification_pending_bulk();
// A states row of a record whose copy was not verified equal when its site was promoted: pending,
// without the old primary's checksum (which the repository here may not have), a fresh start.
Transition verification_pending_after_promotion();
Transition verification_started();
// Started → succeeded with the checksum parameter.
Transition verification_succeeded(VerificationTable table);
// Started → failed: the outcome's failure and backoff, checksum cleared.
Transition verification_failed();
// A registry's failed verification (a mismatch, or a copy that cannot be checksummed), coupled
// with the sync: it fails too, so that the next sync fetches the copy again.
Transition registry_verification_failed();
// A registry's mismatch that fetching again cannot mend (the copy has every ref the primary
// advertises): the verification fails with its backoff and mismatch columns, the sync stays.
Transition registry_verification_failed_without_resync();
// The primary has not verified the record yet: nothing to compare with.
Transition verification_disabled();
// Succeeded, but restarted while the checksum was computed (GitLab's track_checksum_attempt!):
// the checksum and its time are kept, and the row is pending again.
Transition verification_succeeded_while_restarted(VerificationTable table);
// Started too long ago by a live run: failed, a first failure's backoff; on a registry the
// sync fails too (GitLab's VerifiableRegistry).
Transition verification_timed_out(VerificationTable table);

// Deep checks (geo_ssf_deep_checks rows) ------------------------------------------------------

// Due now (reverify --deep): pending, due at once; a failure and its retries stay until the next
// result, as verification_pending_bulk leaves them.
Transition deep_check_due();
Transition deep_check_started();
// Started → succeeded: the check's time, its duration (seconds), and the next one due_in
// seconds away; failures, retries and repairs forgotten.
Transition deep_check_succeeded();
// Started → failed: the failure, its duration, retry count and backoff, and the repairs so far.
// The schedule stays: the next check after a pass is due an interval after that pass.
Transition deep_check_failed();
// Started too long ago by a live run: failed, a first failure's backoff.
Transition deep_check_timed_out();

// What a secondary's deep check that failed does to the copy's registry row (copy_repaired, the
// copy moved to the quarantine): pending, so that the next sync clones it again, as a resync
// does; or, when a fresh clone failed its deep check again (copy_repair_backed_off), sync
// failed with the failure, its retry count and backoff, as a failed sync, and verification
// disabled until the copy is there again.
Transition copy_repaired();
Transition copy_repair_backed_off();

// Housekeeping (geo_ssf_housekeeping rows) ----------------------------------------------------

// A sync fetched into the copy: pending. A copy cloned afresh is to be packed whole.
Transition housekeeping_requested();
Transition housekeeping_requested_for_fresh_copy();
Transition housekeeping_started();
// Started → succeeded: what it did (tasks) and how long it took; a full repack's time when it
// packed the copy whole (full_repack); failures and retries forgotten.
Transition housekeeping_succeeded();
// Started → failed: what it tried, the failure, its retry count and backoff. The copy stays
// marked fresh, so that the retry packs it whole.
Transition housekeeping_failed();
Transition housekeeping_timed_out();

// Claims put back ------------------------------------------------------------------------------

// Started by a run that is gone: pending again at once, keeping its retries.
Transition released(Column state_column);
// Claimed but never worked: the state it had (the state parameter).
Transition restored(Column state_column);

}  // namespace transition

// SQL predicates over a row's states, their values from the enums -----------------------------

namespace sql {

std::string value(SyncState state);          // "2"
std::string value(VerificationState state);  // "2"

// Registry rows whose sync is due: pending, or failed and past the retry time.
std::string sync_pending();
std::string sync_failed_and_due();
// Rows whose verification is due: pending, or failed and past the retry time.
std::string verification_pending();
std::string verification_failed_and_due();
// Registry rows verification applies to: synced ones (GitLab's available_verifiables).
std::string registry_synced();
// Rows whose verification the run with claim time $N started, but which were restarted while it
// computed the checksum: marked pending (a reverify, an event), or claimed by a later run.
std::string verification_restarted(int n);

// geo_ssf_deep_checks rows whose check is due by its schedule (pending or succeeded, due_at
// past), or that failed and are past their retry time; the rows of failed checks.
std::string deep_check_scheduled_and_due();
std::string deep_check_failed_and_due();
std::string deep_check_failed();
// geo_ssf_housekeeping rows whose housekeeping is due: pending, or failed and past the retry time.
std::string housekeeping_pending();
std::string housekeeping_failed_and_due();
// A row of geo_ssf_deep_checks or geo_ssf_housekeeping of type TYPE (its name, an SQL identifier)
// whose record is that of the row aliased ALIAS's KEY column, and whose work is started: another
// kind of work holds that record's copy.
std::string deep_check_started_for(const std::string& type, const std::string& alias, const std::string& key);
std::string housekeeping_started_for(const std::string& type, const std::string& alias, const std::string& key);
// TYPE as an SQL string literal; a std::logic_error unless it is an SQL identifier.
std::string type_literal(const std::string& type);

}  // namespace sql

}  // namespace geo_ssf
