// Times as people read them: "in 3 minutes", "5 hours ago", "due now".
#pragma once

#include <chrono>
#include <string>

namespace geo_ssf {

// A span of SECONDS (>= 0) in its largest whole unit: "45 seconds", "1 minute", "3 hours",
// "2 days". Rounded down, so "in 59 minutes" is never shown for something 61 minutes away.
std::string duration_in_words(double seconds);

// A retry SECONDS_FROM_NOW away on the database's clock: "in 3 minutes", or "due now" when
// that moment has come (zero or negative).
std::string retry_in_words(double seconds_from_now);

// Any moment relative to now: "in 3 minutes", "5 hours ago", "just now" (within a second).
std::string relative_time_in_words(double seconds_from_now);

// PostgreSQL's ISO 8601 text of a timestamp ("2026-03-12T09:45:01.123456+00:00", or with a
// space for the T) to the second, for a table: "2026-03-12 09:45:01+00:00". Text in any other
// shape is returned unchanged.
std::string readable_timestamp(const std::string& iso);

// TIME in UTC by strftime's FORMAT, to the second: format_utc(t, "%Y%m%dT%H%M%SZ").
std::string format_utc(std::chrono::system_clock::time_point time, const char* format);

}  // namespace geo_ssf
