// The one error hierarchy of geo-ssf. Every failure that reaches the user is one of these;
// cmd/main.cpp turns it into a one-line message and the exit status documented in geo-ssf(1).
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace geo_ssf {

enum class ExitStatus : int {
    ok = 0,
    records_failed = 1,  // the run finished, but some records (or checks) failed
    usage = 2,
    config = 3,
    database = 4,
    runtime = 5,
};

class Error : public std::runtime_error {
public:
    Error(ExitStatus status, const std::string& message)
        : std::runtime_error(message), m_status(status) {}
    ExitStatus status() const noexcept { return m_status; }

private:
    ExitStatus m_status;
};

// Bad arguments: a NAME that is not an identifier, an unknown replicable, a bad ID.
class UsageError : public Error {
public:
    explicit UsageError(const std::string& message) : Error(ExitStatus::usage, message) {}
};

// The config file or a replicable definition is missing, malformed or inconsistent.
class ConfigError : public Error {
public:
    explicit ConfigError(const std::string& message) : Error(ExitStatus::config, message) {}
};

// A database cannot be reached, or a statement failed.
class DatabaseError : public Error {
public:
    explicit DatabaseError(const std::string& message) : Error(ExitStatus::database, message) {}
};

// Anything else that stops a command: unwritable files, a missing data directory, git.
class RuntimeError : public Error {
public:
    explicit RuntimeError(const std::string& message) : Error(ExitStatus::runtime, message) {}
};

// The first line of a (possibly multi-line) message, without trailing blanks: libpq and
// PostgreSQL messages carry detail lines that do not belong in a one-line error.
std::string first_line(const std::string& message);

// User input (a name, an id, a ref name) as it may be shown in a one-line message or stored in a
// failure column: control characters and DEL escaped as \xNN, and cut after MAX_LENGTH
// characters with "...".
std::string printable(std::string_view name, size_t max_length = 64);

}  // namespace geo_ssf
