#include "common/logging.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <ctime>

namespace geo_ssf {

namespace {

class JsonFormatter : public spdlog::formatter {
public:
    void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
        auto seconds = std::chrono::system_clock::to_time_t(msg.time);
        auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(msg.time.time_since_epoch()).count() % 1000;
        std::tm utc{};
        gmtime_r(&seconds, &utc);
        char stamp[32];
        std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &utc);
        char with_millis[48];
        std::snprintf(with_millis, sizeof with_millis, "%s.%03dZ", stamp, static_cast<int>(millis));
        nlohmann::json line = {
            {"time", with_millis},
            {"level", std::string(spdlog::level::to_string_view(msg.level).data(),
                                  spdlog::level::to_string_view(msg.level).size())},
            {"message", std::string(msg.payload.data(), msg.payload.size())},
        };
        std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
        dest.append(text.data(), text.data() + text.size());
    }
    std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<JsonFormatter>(); }
};

}  // namespace

void setup_logging(int verbosity, LogFormat format) {
    auto logger = spdlog::stderr_logger_mt("geo-ssf");
    if (format == LogFormat::json)
        logger->set_formatter(std::make_unique<JsonFormatter>());
    else
        logger->set_pattern("geo-ssf: %l: %v");
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

}  // namespace geo_ssf
