// What a deep check of one record says in a run's results, on either role: "passed (git fsck,
// 1.23 s)", or "deep check: " and the reason.
#pragma once

#include "db/deep_checks.hpp"
#include "run/run_loop.hpp"

#include <cstdio>
#include <string>

namespace geo_ssf {

inline RecordResult deep_check_record_result(long long id, const deep_checks::DeepCheckOutcome& check,
                                             const char* method) {
    if (!check.passed)
        return {id, RecordResult::Kind::failed, "deep check: " + check.failure.value_or("")};
    char seconds[32];
    std::snprintf(seconds, sizeof seconds, "%.2f s", check.seconds);
    return {id, RecordResult::Kind::succeeded, std::string("passed (") + method + ", " + seconds + ")"};
}

}  // namespace geo_ssf
