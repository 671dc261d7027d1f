#include "db/timed_reader.hpp"

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

void TimedReader::throw_if_cancelled(const pqxx::sql_error& e) const {
    if (e.sqlstate() != "57014")  // query_canceled
        return;
    std::string message = describe_database_error(e);
    throw CountCancelled{message.find("statement timeout") != std::string::npos ? timed_out() : message};
}

std::string TimedReader::timed_out() const {
    return "counting did not finish within status.timeout (" + m_timeout_text + ")";
}

}  // namespace geo_ssf
