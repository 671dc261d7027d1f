// The follow mode on a primary (run/follow.hpp): notified of each event as it is committed, it
// checksums the records that created and updated events name at once, and every
// follow.pass_interval it does the due batches of a verify run (state rows, re-verification,
// retries).
#pragma once

#include "run/follow.hpp"

#include <memory>

namespace geo_ssf::primary {

std::unique_ptr<Follower> make_follower();

}  // namespace geo_ssf::primary
