#include "common/time_words.hpp"

#include <algorithm>
#include <cmath>
#include <ctime>

namespace geo_ssf {

std::string duration_in_words(double seconds) {
    struct Unit {
        const char* name;
        double seconds;
    };
    static constexpr Unit k_units[] = {{"day", 86400}, {"hour", 3600}, {"minute", 60}, {"second", 1}};
    seconds = std::max(seconds, 0.0);
    for (const auto& unit : k_units) {
        if (seconds < unit.seconds && unit.seconds > 1)
            continue;
        auto n = static_cast<long long>(std::floor(seconds / unit.seconds));
        return std::to_string(n) + " " + unit.name + (n == 1 ? "" : "s");
    }
    return "0 seconds";
}

std::string retry_in_words(double seconds_from_now) {
    if (seconds_from_now < 1)
        return "due now";
    return "in " + duration_in_words(seconds_from_now);
}

std::string relative_time_in_words(double seconds_from_now) {
    if (std::fabs(seconds_from_now) < 1)
        return "just now";
    if (seconds_from_now > 0)
        return "in " + duration_in_words(seconds_from_now);
    return duration_in_words(-seconds_from_now) + " ago";
}

std::string readable_timestamp(const std::string& iso) {
    // YYYY-MM-DD?HH:MM:SS, then an optional fraction, then the offset.
    if (iso.size() < 19 || (iso[10] != 'T' && iso[10] != ' ') || iso[13] != ':' || iso[16] != ':')
        return iso;
    std::string out = iso.substr(0, 10) + " " + iso.substr(11, 8);
    size_t rest = 19;
    if (rest < iso.size() && iso[rest] == '.')
        while (++rest < iso.size() && iso[rest] >= '0' && iso[rest] <= '9') {
        }
    return out + iso.substr(rest);
}

std::string format_utc(std::chrono::system_clock::time_point time, const char* format) {
    std::time_t t = std::chrono::system_clock::to_time_t(time);
    std::tm utc{};
    gmtime_r(&t, &utc);
    char text[64];
    return std::string(text, std::strftime(text, sizeof text, format, &utc));
}

}  // namespace geo_ssf
