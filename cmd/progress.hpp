// A progress line for long bulk work, on stderr when it is a terminal.
#pragma once

#include "common/duration.hpp"
#include "common/logging.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <string>

namespace geo_ssf::cli {

// "LABEL: DONE/TOTAL (P%), R/s, T left" on stderr, redrawn in place at most five times a second.
// Shown only when stderr is a terminal, and never with -q, --log-format json or a JSON summary
// (JSON_OUTPUT): cron, log shippers and scripts get no control characters. A log line clears it
// first, and the next update draws it again below. update() may be called from any thread.
class ProgressLine {
public:
    explicit ProgressLine(bool json_output = false)
        : m_enabled(isatty(STDERR_FILENO) == 1 && !quiet_output() && log_format() == LogFormat::text && !json_output) {
        ProgressLine* none = nullptr;
        if (m_enabled && s_active.compare_exchange_strong(none, this))
            set_before_log_line(&clear_active);
        else
            m_enabled = false;  // one line at a time
    }
    ~ProgressLine() {
        finish();
        if (m_enabled) {
            set_before_log_line(nullptr);
            s_active = nullptr;
        }
    }
    ProgressLine(const ProgressLine&) = delete;
    ProgressLine& operator=(const ProgressLine&) = delete;

    bool enabled() const { return m_enabled; }

    void update(const std::string& label, long long done, long long total) {
        if (!m_enabled)
            return;
        std::lock_guard lock(m_mutex);
        auto now = Clock::now();
        if (label != m_label) {
            m_label = label;
            m_started = now;
        } else if (m_shown && now - m_drawn < std::chrono::milliseconds(200) && done < total) {
            return;
        }
        m_drawn = now;
        std::fprintf(stderr, "\r%s\033[K", describe(done, total, now).c_str());
        std::fflush(stderr);
        m_shown = true;
    }
    // Leaves the last line as it is and moves below it.
    void finish() {
        std::lock_guard lock(m_mutex);
        if (m_shown)
            std::fputc('\n', stderr);
        m_shown = false;
    }

private:
    using Clock = std::chrono::steady_clock;

    std::string describe(long long done, long long total, Clock::time_point now) const {
        std::string text = m_label + ": " + std::to_string(done) + "/" + std::to_string(total);
        if (total > 0)
            text += " (" + std::to_string(done * 100 / total) + "%)";
        double seconds = std::chrono::duration<double>(now - m_started).count();
        if (done > 0 && seconds >= 1) {
            double rate = static_cast<double>(done) / seconds;
            char per_second[32];
            std::snprintf(per_second, sizeof per_second, ", %.1f/s", rate);
            text += per_second;
            if (total > done)
                text += ", " + format_duration(std::chrono::seconds(1 + static_cast<long long>((total - done) / rate))) +
                        " left";
        }
        return text;
    }
    static void clear_active() {
        if (ProgressLine* line = s_active.load()) {
            std::lock_guard lock(line->m_mutex);
            if (line->m_shown)
                std::fputs("\r\033[K", stderr);
            line->m_shown = false;
        }
    }

    bool m_enabled;
    std::mutex m_mutex;
    bool m_shown = false;
    std::string m_label;
    Clock::time_point m_started;
    Clock::time_point m_drawn;
    static inline std::atomic<ProgressLine*> s_active{nullptr};
};

}  // namespace geo_ssf::cli
