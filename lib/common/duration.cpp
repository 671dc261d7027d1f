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

std::optional<std::chrono::milliseconds> parse_interval(std::string_view text) {
    // Each "<number>ms" part is taken out; what is left is a parse_duration text, or nothing.
    long long milliseconds = 0;
    std::string rest;
    size_t i = 0;
    while (i < text.size()) {
        size_t start = i;
        while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])))
            ++i;
        if (i == start || i - start > 9)
            return std::nullopt;
        if (text.substr(i, 2) == "ms") {
            milliseconds += std::stoll(std::string(text.substr(start, i - start)));
            i += 2;
            continue;
        }
        if (i < text.size())
            ++i;  // the unit, checked by parse_duration
        rest += text.substr(start, i - start);
    }
    if (!rest.empty()) {
        auto seconds = parse_duration(rest);
        if (!seconds)
            return std::nullopt;
        milliseconds += seconds->count() * 1000;
    }
    if (milliseconds <= 0)
        return std::nullopt;
    return std::chrono::milliseconds(milliseconds);
}

std::string format_interval(std::chrono::milliseconds value) {
    long long ms = value.count();
    std::string out = ms >= 1000 ? format_duration(std::chrono::seconds(ms / 1000)) : "";
    if (ms % 1000 != 0 || out.empty())
        out += std::to_string(ms % 1000) + "ms";
    return out;
}

}  // namespace geo_ssf
