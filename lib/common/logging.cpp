#include "common/logging.hpp"

#include "common/error.hpp"
#include "common/redact.hpp"
#include "common/time_words.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

namespace geo_ssf {

namespace {

LogFormat g_format = LogFormat::text;
bool g_quiet = false;
std::string g_site;
std::string g_command;
// The fields of the line being logged (log_record), and those of the innermost LogFieldsScope.
thread_local const LogFields* t_line_fields = nullptr;
thread_local const LogFields* t_scope_fields = nullptr;
std::atomic<void (*)()> g_before_line{nullptr};

std::string utc_time(std::chrono::system_clock::time_point time) {
    auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count() % 1000;
    char with_millis[48];
    std::snprintf(with_millis, sizeof with_millis, "%s.%03dZ", format_utc(time, "%Y-%m-%dT%H:%M:%S").c_str(),
                  static_cast<int>(millis));
    return with_millis;
}

nlohmann::json json_line(std::chrono::system_clock::time_point time, std::string_view level, std::string_view message) {
    nlohmann::json line = {{"time", utc_time(time)}, {"level", level}, {"message", message}};
    if (!g_site.empty())
        line["site"] = g_site;
    if (!g_command.empty())
        line["command"] = g_command;
    for (const LogFields* fields : {t_scope_fields, t_line_fields}) {
        if (!fields)
            continue;
        if (!fields->type.empty())
            line["type"] = fields->type;
        if (fields->id)
            line["id"] = *fields->id;
        if (fields->duration_ms)
            line["duration_ms"] = *fields->duration_ms;
    }
    return line;
}

std::string dump(const nlohmann::json& line) {
    return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

class JsonFormatter : public spdlog::formatter {
public:
    void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
        auto level = spdlog::level::to_string_view(msg.level);
        std::string text = dump(json_line(msg.time, std::string_view(level.data(), level.size()),
                                          std::string_view(msg.payload.data(), msg.payload.size())));
        dest.append(text.data(), text.data() + text.size());
    }
    std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<JsonFormatter>(); }
};

// Formats with INNER, then redacts URL passwords: no log line shows a secret, whoever wrote it.
class RedactingFormatter : public spdlog::formatter {
public:
    explicit RedactingFormatter(std::unique_ptr<spdlog::formatter> inner) : m_inner(std::move(inner)) {}
    void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
        spdlog::memory_buf_t line;
        m_inner->format(msg, line);
        std::string text = redact_url_credentials(std::string_view(line.data(), line.size()));
        dest.append(text.data(), text.data() + text.size());
    }
    std::unique_ptr<spdlog::formatter> clone() const override {
        return std::make_unique<RedactingFormatter>(m_inner->clone());
    }

private:
    std::unique_ptr<spdlog::formatter> m_inner;
};

// stderr, after the hook of set_before_log_line.
class StderrSink : public spdlog::sinks::base_sink<std::mutex> {
protected:
    void sink_it_(const spdlog::details::log_msg& msg) override {
        spdlog::memory_buf_t line;
        formatter_->format(msg, line);
        if (auto hook = g_before_line.load())
            hook();
        std::fwrite(line.data(), 1, line.size(), stderr);
        std::fflush(stderr);
    }
    void flush_() override { std::fflush(stderr); }
};

}  // namespace

void set_before_log_line(void (*hook)()) { g_before_line = hook; }

void setup_logging(int verbosity, LogFormat format) {
    g_format = format;
    g_quiet = verbosity < 0;
    auto logger = spdlog::get("geo-ssf");
    if (!logger) {
        logger = std::make_shared<spdlog::logger>("geo-ssf", std::make_shared<StderrSink>());
        spdlog::register_logger(logger);
    }
    if (format == LogFormat::json)
        logger->set_formatter(std::make_unique<RedactingFormatter>(std::make_unique<JsonFormatter>()));
    else
        logger->set_formatter(std::make_unique<RedactingFormatter>(std::make_unique<spdlog::pattern_formatter>(
            "%Y-%m-%dT%H:%M:%S.%eZ geo-ssf: %l: %v", spdlog::pattern_time_type::utc)));
    spdlog::level::level_enum level = spdlog::level::warn;
    if (verbosity < 0)
        level = spdlog::level::err;
    else if (verbosity == 1)
        level = spdlog::level::info;
    else if (verbosity >= 2)
        level = spdlog::level::debug;
    logger->set_level(level);
    spdlog::set_default_logger(logger);
}

LogFormat log_format() { return g_format; }

bool quiet_output() { return g_quiet; }

void set_log_context(std::string site, std::string command) {
    g_site = std::move(site);
    g_command = std::move(command);
}

void log_record(spdlog::level::level_enum level, const LogFields& fields, std::string_view message) {
    if (!spdlog::should_log(level))
        return;
    if (g_format == LogFormat::json) {
        const LogFields* previous = t_line_fields;
        t_line_fields = &fields;
        spdlog::log(level, "{}", message);
        t_line_fields = previous;
        return;
    }
    std::string text;
    if (!fields.type.empty())
        text += fields.type + (fields.id ? " " + std::to_string(*fields.id) : std::string()) + ": ";
    else if (fields.id)
        text += std::to_string(*fields.id) + ": ";
    text += message;
    if (fields.duration_ms)
        text += " (" + std::to_string(*fields.duration_ms) + " ms)";
    spdlog::log(level, "{}", text);
}

LogFieldsScope::LogFieldsScope(LogFields fields) : m_fields(std::move(fields)), m_previous(t_scope_fields) {
    t_scope_fields = &m_fields;
}

LogFieldsScope::~LogFieldsScope() { t_scope_fields = m_previous; }

namespace {

void print_error(std::string_view raw_message, std::optional<ExitStatus> exit_status) {
    if (auto hook = g_before_line.load())
        hook();
    std::string message = redact_url_credentials(first_line(std::string(raw_message)));
    if (g_format == LogFormat::json) {
        nlohmann::json line = json_line(std::chrono::system_clock::now(), "error", message);
        if (exit_status)
            line["exit_status"] = static_cast<int>(*exit_status);
        std::cerr << dump(line) << std::flush;
        return;
    }
    std::cerr << "geo-ssf: error: " << message << std::endl;
}

}  // namespace

void print_error_line(std::string_view message, ExitStatus exit_status) { print_error(message, exit_status); }

void print_error_line(std::string_view message) { print_error(message, std::nullopt); }

}  // namespace geo_ssf
