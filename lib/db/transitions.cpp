#include "db/transitions.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>
#include <utility>

namespace geo_ssf {

namespace {

constexpr std::array<const char*, 34> k_column_names = {
    "state",
    "retry_count",
    "retry_at",
    "last_sync_failure",
    "last_synced_at",
    "missing_on_primary",
    "verification_state",
    "verification_started_at",
    "verified_at",
    "verification_checksum",
    "verification_failure",
    "verification_retry_count",
    "verification_retry_at",
    "checksum_mismatch",
    "verification_checksum_mismatched",
    "deep_check_state",
    "deep_check_started_at",
    "deep_check_due_at",
    "deep_checked_at",
    "deep_check_seconds",
    "deep_check_failure",
    "deep_check_retry_count",
    "deep_check_retry_at",
    "deep_check_repairs",
    "housekeeping_state",
    "housekeeping_started_at",
    "housekeeping_fresh_copy",
    "housekept_at",
    "housekeeping_tasks",
    "housekeeping_seconds",
    "housekeeping_failure",
    "housekeeping_retry_count",
    "housekeeping_retry_at",
    "full_repacked_at",
};
static_assert(k_column_names.size() == static_cast<size_t>(Column::full_repacked_at) + 1);

struct ParameterSpec {
    const char* name;
    const char* type;
};
constexpr std::array<ParameterSpec, 18> k_parameters = {{
    {"id", "bigint"},
    {"state", "smallint"},
    {"claim_time", "timestamptz"},
    {"checksum", "text"},
    {"failure", "text"},
    {"retry_count", "integer"},
    {"retry_in", "double precision"},
    {"missing_on_primary", "boolean"},
    {"checksum_mismatch", "boolean"},
    {"mismatched_checksum", "text"},
    {"sync_failure", "text"},
    {"sync_retry_count", "integer"},
    {"sync_retry_in", "double precision"},
    {"seconds", "double precision"},
    {"due_in", "double precision"},
    {"repairs", "integer"},
    {"tasks", "text"},
    {"full_repack", "boolean"},
}};
static_assert(k_parameters.size() == static_cast<size_t>(Parameter::full_repack) + 1);

std::string default_parameter_sql(Parameter p) { return std::string("o.") + parameter_name(p); }

Cell cell_of(const Row& row, Column column) {
    auto it = row.find(column);
    return it == row.end() ? Cell{} : it->second;
}

std::string constant_sql(const Cell& cell) {
    if (std::holds_alternative<std::monostate>(cell))
        return "NULL";
    if (const auto* n = std::get_if<long long>(&cell))
        return std::to_string(*n);
    if (const auto* b = std::get_if<bool>(&cell))
        return *b ? "true" : "false";
    throw std::logic_error("a transition writes only numbers, flags and NULL as constants");
}

std::string outcome_columns(const std::vector<Parameter>& columns) {
    std::string out;
    for (Parameter p : columns)
        out += (out.empty() ? "" : ", ") + std::string(parameter_name(p)) + " " + parameter_type(p);
    return out;
}

}  // namespace

const char* column_name(Column column) { return k_column_names.at(static_cast<size_t>(column)); }
const char* parameter_name(Parameter parameter) { return k_parameters.at(static_cast<size_t>(parameter)).name; }
const char* parameter_type(Parameter parameter) { return k_parameters.at(static_cast<size_t>(parameter)).type; }

Value Value::number(long long n) {
    Value v;
    v.m_constant = n;
    return v;
}
Value Value::of(SyncState state) { return number(static_cast<long long>(state)); }
Value Value::of(VerificationState state) { return number(static_cast<long long>(state)); }
Value Value::flag(bool b) {
    Value v;
    v.m_constant = b;
    return v;
}
Value Value::null() { return Value(); }
Value Value::now() {
    Value v;
    v.m_kind = Kind::now;
    return v;
}
Value Value::parameter(Parameter p) {
    Value v;
    v.m_kind = Kind::parameter;
    v.m_parameter = p;
    return v;
}
Value Value::hex_parameter(Parameter p) {
    Value v = parameter(p);
    v.m_kind = Kind::hex_parameter;
    return v;
}
Value Value::now_plus_parameter(Parameter p) {
    Value v = parameter(p);
    v.m_kind = Kind::now_plus_parameter;
    return v;
}
Value Value::now_if_parameter(Parameter p) {
    Value v = parameter(p);
    v.m_kind = Kind::now_if_parameter;
    return v;
}
Value Value::kept_if_verification_failed(Value otherwise) {
    Value v;
    v.m_kind = Kind::kept_if_verification_failed;
    v.m_otherwise = std::make_shared<const Value>(std::move(otherwise));
    return v;
}

std::string Value::sql(Column column, const std::string& row_alias,
                       const std::function<std::string(Parameter)>& parameter_sql) const {
    auto own = [&](Column c) { return (row_alias.empty() ? "" : row_alias + ".") + column_name(c); };
    switch (m_kind) {
    case Kind::constant:
        return constant_sql(m_constant);
    case Kind::now:
        return "now()";
    case Kind::parameter:
        return parameter_sql(m_parameter);
    case Kind::hex_parameter:
        return "decode(" + parameter_sql(m_parameter) + ", 'hex')";
    case Kind::now_plus_parameter:
        return "now() + make_interval(secs => " + parameter_sql(m_parameter) + ")";
    case Kind::now_if_parameter:
        return "CASE WHEN " + parameter_sql(m_parameter) + " THEN now() ELSE " + own(column) + " END";
    case Kind::kept_if_verification_failed:
        return "CASE WHEN " + own(Column::verification_state) + " = " + sql::value(VerificationState::failed) +
               " THEN " + own(column) + " ELSE " + m_otherwise->sql(column, row_alias, parameter_sql) + " END";
    }
    return {};
}

Cell Value::evaluate(Column column, const Row& before, const Parameters& parameters, Time now) const {
    auto given = [&] {
        auto it = parameters.find(m_parameter);
        return it == parameters.end() ? Cell{} : it->second;
    };
    switch (m_kind) {
    case Kind::constant:
        return m_constant;
    case Kind::now:
        return now;
    case Kind::parameter:
    case Kind::hex_parameter:
        return given();
    case Kind::now_plus_parameter: {
        Cell seconds = given();
        if (const auto* n = std::get_if<long long>(&seconds))
            return Time{now.seconds + static_cast<double>(*n)};
        return Cell{};
    }
    case Kind::now_if_parameter:
        if (given() == Cell{true})
            return now;
        return cell_of(before, column);
    case Kind::kept_if_verification_failed:
        if (cell_of(before, Column::verification_state) ==
            Cell{static_cast<long long>(VerificationState::failed)})
            return cell_of(before, column);
        return m_otherwise->evaluate(column, before, parameters, now);
    }
    return {};
}

void Value::add_parameters(std::vector<Parameter>& out) const {
    if (m_kind == Kind::parameter || m_kind == Kind::hex_parameter || m_kind == Kind::now_plus_parameter ||
        m_kind == Kind::now_if_parameter)
        if (std::find(out.begin(), out.end(), m_parameter) == out.end())
            out.push_back(m_parameter);
    if (m_otherwise)
        m_otherwise->add_parameters(out);
}

Transition::Transition(std::initializer_list<Write> writes) : m_writes(writes) {}

Transition Transition::then(const Transition& more) const {
    std::vector<Write> writes;
    for (const auto& w : m_writes)
        if (!more.writes(w.column))
            writes.push_back(w);
    writes.insert(writes.end(), more.m_writes.begin(), more.m_writes.end());
    return Transition(std::move(writes));
}

std::string Transition::set_list(const std::string& row_alias) const {
    return set_list(row_alias, default_parameter_sql);
}

std::string Transition::set_list(const std::string& row_alias,
                                 const std::function<std::string(Parameter)>& parameter_sql) const {
    std::string out;
    for (const auto& w : m_writes)
        out += (out.empty() ? "" : ", ") + std::string(column_name(w.column)) + " = " +
               w.value.sql(w.column, row_alias, parameter_sql);
    return out;
}

Row Transition::apply(const Row& before, const Parameters& parameters, Time now) const {
    Row after = before;
    for (const auto& w : m_writes)
        after[w.column] = w.value.evaluate(w.column, before, parameters, now);
    return after;
}

std::vector<Parameter> Transition::parameters() const {
    std::vector<Parameter> out;
    for (const auto& w : m_writes)
        w.value.add_parameters(out);
    return out;
}

bool Transition::writes(Column column) const {
    return std::any_of(m_writes.begin(), m_writes.end(), [&](const Write& w) { return w.column == column; });
}

std::string outcome_records_sql(const std::vector<Parameter>& columns, int n) {
    return "jsonb_to_recordset($" + std::to_string(n) + "::jsonb) AS o(" + outcome_columns(columns) + ")";
}

std::string outcome_record_sql(const std::vector<Parameter>& columns, int n) {
    return "jsonb_to_record($" + std::to_string(n) + "::jsonb) AS o(" + outcome_columns(columns) + ")";
}

namespace transition {

using C = Column;
using P = Parameter;
using V = Value;

Transition sync_pending() {
    return {{C::state, V::of(SyncState::pending)},
            {C::retry_at, V::null()},
            {C::retry_count, V::number(0)},
            {C::verification_state, V::of(VerificationState::disabled)}};
}

Transition sync_pending_bulk() { return {{C::state, V::of(SyncState::pending)}}; }

Transition sync_started() {
    return {{C::state, V::of(SyncState::started)}, {C::last_synced_at, V::parameter(P::claim_time)}};
}

Transition sync_succeeded(bool primary_verified) {
    Transition synced = {{C::state, V::of(SyncState::synced)},
                         {C::retry_count, V::number(0)},
                         {C::retry_at, V::null()},
                         {C::last_sync_failure, V::null()},
                         {C::missing_on_primary, V::parameter(P::missing_on_primary)}};
    return synced.then(primary_verified ? verification_pending(VerificationTable::registry)
                                        : Transition{{C::verification_state, V::of(VerificationState::disabled)}});
}

Transition sync_succeeded_while_pending() {
    return {{C::retry_count, V::number(0)},
            {C::retry_at, V::null()},
            {C::last_sync_failure, V::null()},
            {C::missing_on_primary, V::parameter(P::missing_on_primary)}};
}

Transition sync_failed() {
    return {{C::state, V::of(SyncState::failed)},
            {C::retry_count, V::parameter(P::retry_count)},
            {C::retry_at, V::now_plus_parameter(P::retry_in)},
            {C::last_sync_failure, V::parameter(P::failure)}};
}

Transition sync_timed_out() {
    return {{C::state, V::of(SyncState::failed)},
            {C::last_sync_failure, V::parameter(P::failure)},
            {C::retry_count, V::number(1)},
            {C::retry_at, V::now_plus_parameter(P::retry_in)}};
}

Transition removal_failed() {
    return {{C::state, V::of(SyncState::failed)},
            {C::retry_at, V::now_plus_parameter(P::retry_in)},
            {C::last_sync_failure, V::parameter(P::failure)}};
}

Transition verification_pending(VerificationTable table) {
    Transition pending = {{C::verification_state, V::of(VerificationState::pending)},
                          {C::verification_failure, V::null()},
                          {C::verification_retry_count, V::kept_if_verification_failed(V::number(0))},
                          {C::verification_retry_at, V::kept_if_verification_failed(V::null())}};
    if (table == VerificationTable::states)
        return pending;
    return pending.then({{C::checksum_mismatch, V::kept_if_verification_failed(V::flag(false))},
                         {C::verification_checksum_mismatched, V::kept_if_verification_failed(V::null())}});
}

Transition verification_pending_bulk() { return {{C::verification_state, V::of(VerificationState::pending)}}; }

Transition verification_pending_after_promotion() {
    return {{C::verification_state, V::of(VerificationState::pending)},
            {C::verification_checksum, V::null()},
            {C::verification_failure, V::null()},
            {C::verification_retry_count, V::number(0)},
            {C::verification_retry_at, V::null()},
            {C::verified_at, V::null()},
            {C::verification_started_at, V::null()}};
}

Transition verification_started() {
    return {{C::verification_state, V::of(VerificationState::started)},
            {C::verification_started_at, V::parameter(P::claim_time)}};
}

namespace {

// What clears a registry's mismatch: any outcome but a failure.
Transition mismatch_cleared() {
    return {{C::checksum_mismatch, V::flag(false)}, {C::verification_checksum_mismatched, V::null()}};
}

}  // namespace

Transition verification_succeeded(VerificationTable table) {
    Transition succeeded = {{C::verification_state, V::of(VerificationState::succeeded)},
                            {C::verification_checksum, V::hex_parameter(P::checksum)},
                            {C::verification_failure, V::null()},
                            {C::verification_retry_count, V::number(0)},
                            {C::verification_retry_at, V::null()},
                            {C::verified_at, V::now()}};
    return table == VerificationTable::states ? succeeded : succeeded.then(mismatch_cleared());
}

Transition verification_failed() {
    return {{C::verification_state, V::of(VerificationState::failed)},
            {C::verification_checksum, V::null()},
            {C::verification_failure, V::parameter(P::failure)},
            {C::verification_retry_count, V::parameter(P::retry_count)},
            {C::verification_retry_at, V::now_plus_parameter(P::retry_in)},
            {C::verified_at, V::now()}};
}

Transition registry_verification_failed_without_resync() {
    return verification_failed().then(
        {{C::verification_checksum, V::hex_parameter(P::checksum)},
         {C::checksum_mismatch, V::parameter(P::checksum_mismatch)},
         {C::verification_checksum_mismatched, V::hex_parameter(P::mismatched_checksum)}});
}

Transition registry_verification_failed() {
    return registry_verification_failed_without_resync().then(
        {{C::state, V::of(SyncState::failed)},
         {C::retry_count, V::parameter(P::sync_retry_count)},
         {C::retry_at, V::now_plus_parameter(P::sync_retry_in)},
         {C::last_sync_failure, V::parameter(P::sync_failure)}});
}

Transition verification_disabled() { return {{C::verification_state, V::of(VerificationState::disabled)}}; }

Transition verification_succeeded_while_restarted(VerificationTable table) {
    Transition restarted = {{C::verification_state, V::of(VerificationState::pending)},
                            {C::verification_checksum, V::hex_parameter(P::checksum)},
                            {C::verified_at, V::now()},
                            {C::verification_failure, V::null()},
                            {C::verification_retry_count, V::number(0)},
                            {C::verification_retry_at, V::null()}};
    return table == VerificationTable::states ? restarted : restarted.then(mismatch_cleared());
}

Transition verification_timed_out(VerificationTable table) {
    Transition timed_out = {{C::verification_state, V::of(VerificationState::failed)},
                            {C::verification_failure, V::parameter(P::failure)},
                            {C::verification_checksum, V::null()},
                            {C::verification_retry_count, V::number(1)},
                            {C::verification_retry_at, V::now_plus_parameter(P::retry_in)},
                            {C::verified_at, V::now()}};
    if (table == VerificationTable::states)
        return timed_out;
    return timed_out.then({{C::state, V::of(SyncState::failed)},
                           {C::last_sync_failure, V::parameter(P::sync_failure)},
                           {C::retry_count, V::number(1)},
                           {C::retry_at, V::now_plus_parameter(P::retry_in)}});
}

Transition deep_check_due() {
    return {{C::deep_check_state, V::of(VerificationState::pending)}, {C::deep_check_due_at, V::now()}};
}

Transition deep_check_started() {
    return {{C::deep_check_state, V::of(VerificationState::started)},
            {C::deep_check_started_at, V::parameter(P::claim_time)}};
}

Transition deep_check_succeeded() {
    return {{C::deep_check_state, V::of(VerificationState::succeeded)},
            {C::deep_checked_at, V::now()},
            {C::deep_check_seconds, V::parameter(P::seconds)},
            {C::deep_check_due_at, V::now_plus_parameter(P::due_in)},
            {C::deep_check_failure, V::null()},
            {C::deep_check_retry_count, V::number(0)},
            {C::deep_check_retry_at, V::null()},
            {C::deep_check_repairs, V::number(0)}};
}

Transition deep_check_failed() {
    return {{C::deep_check_state, V::of(VerificationState::failed)},
            {C::deep_checked_at, V::now()},
            {C::deep_check_seconds, V::parameter(P::seconds)},
            {C::deep_check_failure, V::parameter(P::failure)},
            {C::deep_check_retry_count, V::parameter(P::retry_count)},
            {C::deep_check_retry_at, V::now_plus_parameter(P::retry_in)},
            {C::deep_check_repairs, V::parameter(P::repairs)}};
}

Transition deep_check_timed_out() {
    return {{C::deep_check_state, V::of(VerificationState::failed)},
            {C::deep_check_failure, V::parameter(P::failure)},
            {C::deep_check_retry_count, V::number(1)},
            {C::deep_check_retry_at, V::now_plus_parameter(P::retry_in)}};
}

Transition copy_repaired() { return sync_pending(); }

Transition copy_repair_backed_off() { return sync_failed().then(verification_disabled()); }

Transition housekeeping_requested() { return {{C::housekeeping_state, V::of(VerificationState::pending)}}; }

Transition housekeeping_requested_for_fresh_copy() {
    return housekeeping_requested().then({{C::housekeeping_fresh_copy, V::flag(true)}});
}

Transition housekeeping_started() {
    return {{C::housekeeping_state, V::of(VerificationState::started)},
            {C::housekeeping_started_at, V::parameter(P::claim_time)}};
}

Transition housekeeping_succeeded() {
    return {{C::housekeeping_state, V::of(VerificationState::succeeded)},
            {C::housekept_at, V::now()},
            {C::housekeeping_tasks, V::parameter(P::tasks)},
            {C::housekeeping_seconds, V::parameter(P::seconds)},
            {C::housekeeping_failure, V::null()},
            {C::housekeeping_retry_count, V::number(0)},
            {C::housekeeping_retry_at, V::null()},
            {C::housekeeping_fresh_copy, V::flag(false)},
            {C::full_repacked_at, V::now_if_parameter(P::full_repack)}};
}

Transition housekeeping_failed() {
    return {{C::housekeeping_state, V::of(VerificationState::failed)},
            {C::housekept_at, V::now()},
            {C::housekeeping_tasks, V::parameter(P::tasks)},
            {C::housekeeping_seconds, V::parameter(P::seconds)},
            {C::housekeeping_failure, V::parameter(P::failure)},
            {C::housekeeping_retry_count, V::parameter(P::retry_count)},
            {C::housekeeping_retry_at, V::now_plus_parameter(P::retry_in)}};
}

Transition housekeeping_timed_out() {
    return {{C::housekeeping_state, V::of(VerificationState::failed)},
            {C::housekeeping_failure, V::parameter(P::failure)},
            {C::housekeeping_retry_count, V::number(1)},
            {C::housekeeping_retry_at, V::now_plus_parameter(P::retry_in)}};
}

Transition released(Column state_column) {
    return {{state_column, state_column == C::state ? V::of(SyncState::pending) : V::of(VerificationState::pending)}};
}

Transition restored(Column state_column) { return {{state_column, V::parameter(P::state)}}; }

}  // namespace transition

namespace sql {

std::string value(SyncState state) { return std::to_string(static_cast<int>(state)); }
std::string value(VerificationState state) { return std::to_string(static_cast<int>(state)); }

std::string sync_pending() { return "state = " + value(SyncState::pending); }

std::string sync_failed_and_due() {
    return "state = " + value(SyncState::failed) + " AND (retry_at IS NULL OR retry_at < now())";
}

std::string verification_pending() { return "verification_state = " + value(VerificationState::pending); }

std::string verification_failed_and_due() {
    return "verification_state = " + value(VerificationState::failed) +
           " AND (verification_retry_at IS NULL OR verification_retry_at < now())";
}

std::string registry_synced() { return "state = " + value(SyncState::synced); }

std::string verification_restarted(int n) {
    const std::string claim = "$" + std::to_string(n) + "::timestamptz";
    return "((verification_state = " + value(VerificationState::pending) + " AND verification_started_at = " + claim +
           ") OR (verification_state = " + value(VerificationState::started) + " AND verification_started_at > " +
           claim + "))";
}

std::string deep_check_scheduled_and_due() {
    return "deep_check_state IN (" + value(VerificationState::pending) + ", " + value(VerificationState::succeeded) +
           ") AND deep_check_due_at <= now()";
}

std::string deep_check_failed_and_due() {
    return deep_check_failed() + " AND (deep_check_retry_at IS NULL OR deep_check_retry_at < now())";
}

std::string deep_check_failed() { return "deep_check_state = " + value(VerificationState::failed); }

std::string housekeeping_pending() { return "housekeeping_state = " + value(VerificationState::pending); }

std::string housekeeping_failed_and_due() {
    return "housekeeping_state = " + value(VerificationState::failed) +
           " AND (housekeeping_retry_at IS NULL OR housekeeping_retry_at < now())";
}

namespace {

std::string started_for(const char* table, const char* state_column, const std::string& type,
                        const std::string& alias, const std::string& key) {
    return std::string("EXISTS (SELECT FROM ") + table + " w WHERE w.replicable = " + type_literal(type) +
           " AND w.record_id = " + alias + "." + key + " AND w." + state_column + " = " +
           value(VerificationState::started) + ")";
}

}  // namespace

std::string deep_check_started_for(const std::string& type, const std::string& alias, const std::string& key) {
    return started_for("geo_ssf_deep_checks", "deep_check_state", type, alias, key);
}

std::string housekeeping_started_for(const std::string& type, const std::string& alias, const std::string& key) {
    return started_for("geo_ssf_housekeeping", "housekeeping_state", type, alias, key);
}

std::string type_literal(const std::string& type) {
    bool identifier = !type.empty() && !(type[0] >= '0' && type[0] <= '9');
    for (char c : type)
        identifier = identifier && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_');
    if (!identifier)
        throw std::logic_error("a type's name in SQL must be an SQL identifier");
    return "'" + type + "'";
}

}  // namespace sql

}  // namespace geo_ssf
