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

// Whole milliseconds since START on the steady clock, for timings in debug logs.
inline long long milliseconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace geo_ssf
