#include "common/duration.hpp"

#include <cctype>
#include <limits>

namespace geo_ssf {

namespace {

std::optional<long long> unit_seconds(char unit) {
    switch (unit) {
    case 's': return 1;
    case 'm': return 60;
    case 'h': return 3600;
    case 'd': return 86400;
    case 'w': return 7 * 86400;
    default: return std::nullopt;
    }
}

}  // namespace

std::optional<std::chrono::seconds> parse_duration(std::string_view text) {
    if (text.empty())
        return std::nullopt;
    long long total = 0;
    size_t i = 0;
    while (i < text.size()) {
        if (!std::isdigit(static_cast<unsigned char>(text[i])))
            return std::nullopt;
        long long number = 0;
        while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
            if (number > std::numeric_limits<int>::max())
                return std::nullopt;
            number = number * 10 + (text[i] - '0');
            ++i;
        }
        long long scale = 1;
        if (i < text.size()) {
            auto unit = unit_seconds(text[i]);
            if (!unit)
                return std::nullopt;
            scale = *unit;
            ++i;
        } else if (total != 0) {
            return std::nullopt;  // "1h30" is ambiguous
        }
        total += number * scale;
        if (total > std::numeric_limits<int>::max())
            return std::nullopt;
    }
    if (total <= 0)
        return std::nullopt;
    return std::chrono::seconds(total);
}

std::string format_duration(std::chrono::seconds value) {
    long long s = value.count();
    if (s <= 0)
        return "0s";
    std::string out;
    for (char unit : {'d', 'h', 'm', 's'}) {
        long long scale = *unit_seconds(unit);
        if (s >= scale) {
            out += std::to_string(s / scale) + unit;
            s %= scale;
        }
    }
    return out;
}

}  // namespace geo_ssf
