// The follow mode on a secondary (run/follow.hpp): it replays the primary's events as they are
// committed (notified when databases.main is the primary's own database, asked every
// follow.poll_interval when it is a standby, which has no LISTEN), syncs the records they name
// at once, and verifies each copy as soon as the primary's checksum of it is there; every
// follow.pass_interval, the due batches of a sync run and a verify run.
#pragma once

#include "run/follow.hpp"

#include <memory>

namespace geo_ssf::secondary {

std::unique_ptr<Follower> make_follower();

}  // namespace geo_ssf::secondary
