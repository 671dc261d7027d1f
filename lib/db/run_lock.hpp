// Which run owns a `started` row.
//
// A run stamps each batch of rows it claims with the batch's claim time
// (verification_started_at, or last_synced_at for syncs) and, until the batch is recorded,
// holds a PostgreSQL advisory lock named by that time. The lock goes when the run's connection
// goes, however the run ends, even by kill -9. So a later run can tell an abandoned row (its
// lock is free) from one that a live run is still working on (its lock is held), and finish
// abandoned rows at once instead of waiting hours for a timeout as GitLab does.
#pragma once

#include <pqxx/pqxx>

#include <string>
#include <string_view>

namespace geo_ssf {

class RunLock {
public:
    // Picks a claim time on CONNECTION's server and takes its lock (retrying on the rare clash
    // with another run that picked the same microsecond).
    explicit RunLock(pqxx::connection& connection);
    ~RunLock();
    RunLock(const RunLock&) = delete;
    RunLock& operator=(const RunLock&) = delete;

    // The claim time, as PostgreSQL prints a timestamptz; pass it back as $n::timestamptz.
    const std::string& claim_time() const { return m_claim_time; }

private:
    pqxx::connection& m_connection;
    std::string m_claim_time;
};

// The advisory lock key of the run whose claim time is in the SQL expression TIME.
std::string run_lock_key_sql(std::string_view time);

}  // namespace geo_ssf
