// Output helpers the commands share.
#pragma once

#include "duration.hpp"
#include "error.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <optional>
#include <string>

namespace geo_ssf::cli {

// --max-runtime and friends: a UsageError for text that is not a duration.
inline std::optional<std::chrono::seconds> duration_option(const std::optional<std::string>& text, const char* option) {
    if (!text)
        return std::nullopt;
    auto value = parse_duration(*text);
    if (!value)
        throw UsageError(std::string("invalid ") + option + " \"" + *text + "\": expected a duration such as 90s, 5m or 1h");
    return value;
}

// A progress line on stderr, redrawn in place, shown only when stderr is a terminal.
class ProgressLine {
public:
    ProgressLine() : m_enabled(isatty(STDERR_FILENO) == 1) {}
    ~ProgressLine() { finish(); }
    ProgressLine(const ProgressLine&) = delete;
    ProgressLine& operator=(const ProgressLine&) = delete;

    void show(const std::string& text) {
        if (!m_enabled)
            return;
        std::fprintf(stderr, "\r%s\033[K", text.c_str());
        std::fflush(stderr);
        m_shown = true;
    }
    void finish() {
        if (m_shown)
            std::fputc('\n', stderr);
        m_shown = false;
    }

private:
    bool m_enabled;
    bool m_shown = false;
};

}  // namespace geo_ssf::cli
