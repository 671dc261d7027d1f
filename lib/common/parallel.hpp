// A fixed number of threads working through a list.
#pragma once

#include <cstddef>
#include <functional>

namespace geo_ssf {

// Calls WORK(i) for every i in [0, COUNT) on JOBS threads (the caller's thread is one of them)
// and returns when all calls have returned. WORK must not throw.
void parallel_for(size_t count, int jobs, const std::function<void(size_t)>& work);

}  // namespace geo_ssf
