// Logging to stderr through spdlog: quiet by default (warnings and errors), more with -v,
// only errors with -q; text for people, one JSON object a line for log shippers.
//
// Text:  2026-01-31T09:15:02.125Z geo-ssf: warning: cool_widget 12: Error syncing repository: ...
// JSON:  {"time":"2026-01-31T09:15:02.125Z","level":"warning","message":"Error syncing repository: ...",
//         "site":"secondary-1","command":"sync","type":"cool_widget","id":12}
#pragma once

#include "common/error.hpp"

#include <spdlog/common.h>

#include <optional>
#include <string>
#include <string_view>

namespace geo_ssf {

enum class LogFormat { text, json };

// VERBOSITY: -1 quiet, 0 default, 1 info (-v), 2 debug (-vv).
void setup_logging(int verbosity, LogFormat format);

LogFormat log_format();
// Whether -q was given: commands then print nothing on stdout when they succeed (summaries,
// "applied ..." lines); output that was asked for (a listing, --status, --dry-run) still prints.
bool quiet_output();

// HOOK, unless null, is called before each log line is written to stderr, on the logging
// thread, so that a progress line can clear itself first. One hook at a time.
void set_before_log_line(void (*hook)());

// The site's name and the command, set once at start-up and carried by every JSON line.
void set_log_context(std::string site, std::string command);

// Fields of one log line about a record or a piece of work; unset fields are left out.
struct LogFields {
    std::string type;                      // the replicable, e.g. cool_widget
    std::optional<long long> id;           // the record's id
    std::optional<long long> duration_ms;  // how long the work took
};

// Logs MESSAGE at LEVEL with FIELDS: in JSON as keys of the line, in text as a prefix
// "cool_widget 12: MESSAGE" (the type, then the id) and a suffix " (35 ms)".
void log_record(spdlog::level::level_enum level, const LogFields& fields, std::string_view message);
inline void log_record(spdlog::level::level_enum level, const std::string& type, long long id, std::string_view message) {
    log_record(level, LogFields{type, id, std::nullopt}, message);
}

// While it lives, every JSON line this thread logs (spdlog::warn(...) included) carries FIELDS,
// unless the line sets its own. Text lines are unchanged.
class LogFieldsScope {
public:
    explicit LogFieldsScope(LogFields fields);
    ~LogFieldsScope();
    LogFieldsScope(const LogFieldsScope&) = delete;
    LogFieldsScope& operator=(const LogFieldsScope&) = delete;

private:
    LogFields m_fields;
    const LogFields* m_previous;
};

// The one line that reports a failed command on stderr: "geo-ssf: error: MESSAGE" in text
// (no time, so that scripts can match its start), a JSON line with level "error" and
// "exit_status" in JSON. Only MESSAGE's first line is shown, with URL passwords redacted.
void print_error_line(std::string_view message, ExitStatus exit_status);
// The same line for an error the command goes on after (a repository checksum cannot read),
// in JSON without "exit_status": only the line that ends the command has one.
void print_error_line(std::string_view message);

}  // namespace geo_ssf
