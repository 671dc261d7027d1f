// Durations in config files and options: "90s", "5m", "8h", "7d", "1h30m", or plain seconds.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace geo_ssf {

// nullopt when the text is not a duration; zero and negative durations are not durations.
std::optional<std::chrono::seconds> parse_duration(std::string_view text);

// The shortest text parse_duration reads back as the same value, for example "1h30m".
std::string format_duration(std::chrono::seconds value);

// A duration that may be shorter than a second: what parse_duration reads, and also
// milliseconds ("250ms", "1s500ms"). nullopt when the text is not one, or is zero.
std::optional<std::chrono::milliseconds> parse_interval(std::string_view text);
// The shortest text parse_interval reads back as the same value: "500ms", "2s", "1m30s".
std::string format_interval(std::chrono::milliseconds value);

// Seconds since START on the steady clock, for the timings runs record.
inline double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Whole milliseconds since START on the steady clock, for timings in debug logs.
inline long long milliseconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace geo_ssf
