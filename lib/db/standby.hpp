// What a secondary sees of the primary's database when it reads a streaming standby: the
// primary as it was when the standby's last replayed transaction committed.
#pragma once

#include <pqxx/pqxx>

#include <string>

namespace geo_ssf {

// "Now" on the primary's clock, as the database being read can tell: now() on the primary
// itself; on a standby, the commit time of the last transaction it replayed. So an event a
// lagging, paused or cut-off standby shows is not taken for old only because the standby is
// behind (a standby that has replayed all it received may have lost its primary).
std::string primary_now_sql();

// The SELECT list of a standby's state: whether the database is a standby, and its replication
// lag in seconds as GitLab reports it (0 when it has replayed all it received, else the time
// since the last transaction it replayed committed; NULL on a primary or before any replay).
std::string standby_state_sql();

// Whether the database TX reads is a standby (in recovery).
bool in_recovery(pqxx::transaction_base& tx);

}  // namespace geo_ssf
