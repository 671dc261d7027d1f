// A progress line for long bulk work, on stderr when it is a terminal.
#pragma once

#include <unistd.h>

#include <cstdio>
#include <string>

namespace geo_ssf::cli {

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
