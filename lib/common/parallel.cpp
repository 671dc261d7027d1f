#include "common/parallel.hpp"

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

namespace geo_ssf {

void parallel_for(size_t count, int jobs, const std::function<void(size_t)>& work) {
    std::atomic<size_t> next{0};
    auto drain = [&] {
        for (size_t i = next++; i < count; i = next++)
            work(i);
    };
    size_t extra = std::min(count, static_cast<size_t>(std::max(jobs, 1))) - (count > 0 ? 1 : 0);
    std::vector<std::jthread> threads;
    for (size_t t = 0; t < extra; ++t)
        threads.emplace_back(drain);
    drain();
}

}  // namespace geo_ssf
