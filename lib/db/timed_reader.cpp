#include "db/timed_reader.hpp"

#include "db/primary_reads.hpp"
#include "site/database.hpp"

#include <algorithm>
#include <climits>

namespace geo_ssf {

TimedReader::TimedReader(pqxx::connection& connection, Clock::time_point deadline, std::string timeout_text)
    : m_tx(connection), m_deadline(deadline), m_timeout_text(std::move(timeout_text)) {}

void TimedReader::start_statement() {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(m_deadline - Clock::now()).count();
    if (left < 1)
        throw CountCancelled{timed_out()};
    // PostgreSQL takes at most INT_MAX milliseconds (24.8 days).
    m_tx.exec("SET LOCAL statement_timeout = " + std::to_string(std::min<long long>(left, INT_MAX)));
}

void TimedReader::throw_if_cancelled(const pqxx::failure& e) const {
    // A standby's replay cancelled the statement: the count is unknown this time, as with a
    // timeout; status is not a batch of work that a retry would have to finish.
    if (is_recovery_conflict(e))
        throw CountCancelled{describe_database_error(e)};
    const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e);
    if (!sql || sql->sqlstate() != "57014")  // query_canceled
        return;
    std::string message = describe_database_error(e);
    throw CountCancelled{message.find("statement timeout") != std::string::npos ? timed_out() : message};
}

std::string TimedReader::timed_out() const {
    return "counting did not finish within status.timeout (" + m_timeout_text + ")";
}

}  // namespace geo_ssf
