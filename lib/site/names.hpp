// Names of a replicable type: the six placeholders of the seed checklist, derived from one NAME,
// and the PostgreSQL identifiers built from them.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace geo_ssf {

// PostgreSQL keeps the first 63 bytes of an identifier and drops the rest without a word.
inline constexpr size_t k_max_identifier_bytes = 63;

struct Names {
    std::string title_plural;  // Cool Widgets
    std::string title;         // Cool Widget
    std::string plural;        // cool_widgets
    std::string singular;      // cool_widget
    std::string class_name;    // CoolWidget
    std::string camel;         // coolWidget
};

// Splits CoolWidget, cool_widget, "Cool Widget" or coolWidget into lower-case words.
// Throws UsageError naming what is wrong when TEXT is not an identifier of letters and digits
// separated by spaces, underscores or case changes.
std::vector<std::string> split_name_words(std::string_view text, std::string_view what = "NAME");

// The English plural of one lower-case word (widget→widgets, box→boxes, person→people).
std::string pluralize_word(std::string_view word);

// Derives every placeholder from NAME; PLURAL overrides the plural (in any of NAME's forms).
Names derive_names(std::string_view name, std::optional<std::string_view> plural = std::nullopt);

// True for an unquoted, lower-case SQL identifier of at most 63 bytes.
bool is_sql_identifier(std::string_view text);

// True for PostgreSQL's reserved key words ("as", "user", "select", "order", ...), which no
// table or column may be named unquoted.
bool is_reserved_sql_word(std::string_view text);

// True for the tables geo-ssf itself owns: geo_events, geo_ssf_tallies, event_log_states,
// schema_migrations, geo_ssf_schema_migrations.
bool is_geo_ssf_table(std::string_view text);

// IDENTIFIER itself when it fits in 63 bytes; otherwise its first 54 bytes, '_', and the first
// 8 hex digits of its SHA-256, so two long names never collapse into one.
std::string fit_identifier(std::string_view identifier);

// Rails' names for constraints, which GitLab's schema keeps: check_<10 hex of SHA-256 of
// "<table>_<column>_check_max_length"> and fk_rails_<10 hex of SHA-256 of "<table>_<column>_fk">.
std::string text_limit_constraint_name(std::string_view table, std::string_view column);
std::string foreign_key_constraint_name(std::string_view table, std::string_view column);

std::string sha256_hex(std::string_view data);

// Every table, column, index and constraint name that a type's two migrations create, each at
// most 63 bytes and all different.
struct SchemaNames {
    std::string model_table;     // cool_widgets
    std::string registry_table;  // cool_widget_registry
    std::string states_table;    // cool_widget_states
    std::string foreign_key;     // cool_widget_id

    std::string registry_foreign_key_index;          // index_cool_widget_registry_on_cool_widget_id
    std::string registry_retry_at_index;             // index_cool_widget_registry_on_retry_at
    std::string registry_state_index;                // index_cool_widget_registry_on_state
    std::string registry_failed_verification_index;  // cool_widget_registry_failed_verification
    std::string registry_needs_verification_index;   // cool_widget_registry_needs_verification
    std::string registry_pending_verification_index; // cool_widget_registry_pending_verification
    std::string registry_missing_on_primary_index;   // cool_widget_registry_missing_on_primary (ours)
    std::string registry_started_verification_index; // cool_widget_registry_started_verification (ours)
    std::string registry_verification_failure_check;
    std::string registry_last_sync_failure_check;

    std::string states_foreign_key_index;            // index_cool_widget_states_on_cool_widget_id
    std::string states_foreign_key_constraint;       // fk_rails_<hash>
    std::string states_verification_state_index;     // index_cool_widget_states_on_verification_state
    std::string states_pending_verification_index;   // index_cool_widget_states_pending_verification
    std::string states_failed_verification_index;    // index_cool_widget_states_failed_verification
    std::string states_needs_verification_index;     // index_cool_widget_states_needs_verification
    std::string states_succeeded_verification_index; // index_cool_widget_states_succeeded_verification (ours)
    std::string states_verification_failure_check;

    std::vector<std::string> all() const;
};

// MODEL_TABLE defaults to the plural. Tables and columns are never shortened: a NAME that would
// make one longer than 63 bytes is a UsageError. Index and constraint names go through
// fit_identifier.
SchemaNames derive_schema_names(const Names& names, std::optional<std::string_view> model_table = std::nullopt);

}  // namespace geo_ssf
