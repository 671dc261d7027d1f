// Reading under a deadline: status and its checks count whole tables, which on a busy or huge
// site may take longer than an admin or a monitoring system will wait (status.timeout).
#pragma once

#include "common/error.hpp"

#include <pqxx/pqxx>

#include <chrono>
#include <string>

namespace geo_ssf {

// A statement cancelled by statement_timeout (or by an administrator, or by a recovery conflict
// on a standby): what it counted is unknown. Should one reach the user, it is a database error.
struct CountCancelled : DatabaseError {
    explicit CountCancelled(const std::string& why) : DatabaseError(why), reason(why) {}
    std::string reason;
};

// A read-only transaction with one snapshot, whose every statement may run only until the
// deadline: statement_timeout is set to the time left before each statement.
class TimedReader {
public:
    using Clock = std::chrono::steady_clock;

    TimedReader(pqxx::connection& connection, Clock::time_point deadline, std::string timeout_text);

    // Throws CountCancelled when the deadline has passed or the statement was cancelled.
    template <typename... Args>
    pqxx::result exec(const std::string& sql, Args&&... args) {
        start_statement();
        try {
            return m_tx.exec_params(sql, std::forward<Args>(args)...);
        } catch (const pqxx::failure& e) {
            throw_if_cancelled(e);
            throw;
        }
    }

private:
    void start_statement();
    void throw_if_cancelled(const pqxx::failure& e) const;
    std::string timed_out() const;

    pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> m_tx;
    Clock::time_point m_deadline;
    std::string m_timeout_text;
};

}  // namespace geo_ssf
