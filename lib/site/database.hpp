// Connections to the main and tracking databases.
#pragma once

#include "common/error.hpp"

#include <pqxx/pqxx>

#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace geo_ssf {

enum class Access { read_write, read_only };

// What every geo-ssf session sets first: its application_name, and read-only transactions for
// Access::read_only; again after a reconnection.
void set_up_session(pqxx::connection& connection, Access access);

// Lifts the read-only default of a session set up with Access::read_only: a secondary's main
// database, once the site is its primary.
void allow_writes(pqxx::connection& connection);

// Opens a connection with libpq's CONNINFO (so PG* variables, ~/.pgpass and service files
// apply). A read-only connection refuses every write, so a secondary cannot change the
// primary's database by mistake. Throws DatabaseError naming LABEL ("main", "geo").
std::unique_ptr<pqxx::connection> connect_database(const std::string& conninfo, std::string_view label,
                                                   Access access);

// Passes the server's notices on a connection (NOTICE, WARNING: what libpqxx drops unless told)
// to the log at debug level, for as long as it lives; it must not outlive the connection.
class NoticeLog : public pqxx::errorhandler {
public:
    NoticeLog(pqxx::connection_base& connection, std::string label)
        : pqxx::errorhandler(connection), m_label(std::move(label)) {}
    bool operator()(const char message[]) noexcept override;

private:
    std::string m_label;
};

// TEXT with every password in a connection URI or key=value string replaced by ***: libpq
// repeats a malformed URI in its error message, and no password may reach a log.
std::string redact_passwords(const std::string& text);

// TEXT redacted as above, and also every piece of it that is the password CONNINFO holds (in
// key=value or URI form, as written and percent-decoded, and each part of it after an '@',
// which libpq takes for a host name): libpq messages about a malformed CONNINFO quote pieces of
// it that no pattern recognizes as a password.
std::string redact_passwords(const std::string& text, const std::string& conninfo);

// One line describing a libpqxx failure, for DatabaseError messages; passwords redacted.
std::string describe_database_error(const std::exception& e);

// The DatabaseError a libpqxx failure that reached no closer handler stands for: a lost
// connection, or a statement that failed.
DatabaseError database_error(const pqxx::failure& e);

}  // namespace geo_ssf
