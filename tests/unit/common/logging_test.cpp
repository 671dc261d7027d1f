#include "common/logging.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <unistd.h>

#include <sstream>

using namespace geo_ssf;

namespace {

// What FN writes on stderr, one entry a line.
template <typename Fn>
std::vector<std::string> stderr_lines(Fn fn) {
    test::TempDir dir;
    auto file = dir / "stderr";
    int saved = dup(STDERR_FILENO);
    int fd = open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(fd, STDERR_FILENO);
    close(fd);
    fn();
    spdlog::default_logger()->flush();
    std::fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    std::vector<std::string> lines;
    std::istringstream in(test::read_file(file));
    for (std::string line; std::getline(in, line);)
        lines.push_back(line);
    return lines;
}

}  // namespace

TEST_SUITE("logging") {

TEST_CASE("logging: log_record's fields are JSON keys, and a prefix in text") {
    set_log_context("secondary-1", "sync");
    setup_logging(1, LogFormat::json);
    auto json = stderr_lines([] {
        log_record(spdlog::level::warn, "cool_widget", 12, "Error syncing repository: gone");
        log_record(spdlog::level::info, LogFields{"cool_widget", std::nullopt, 35}, "claimed 10");
        {
            LogFieldsScope scope(LogFields{"snippet_repository", 7, std::nullopt});
            spdlog::warn("inside a scope");
        }
        spdlog::warn("outside");
        log_record(spdlog::level::debug, "cool_widget", 1, "not logged at -v");
    });
    REQUIRE(json.size() == 4);
    auto first = nlohmann::json::parse(json[0]);
    CHECK(first["level"] == "warning");
    CHECK(first["message"] == "Error syncing repository: gone");
    CHECK(first["type"] == "cool_widget");
    CHECK(first["id"] == 12);
    CHECK(first["site"] == "secondary-1");
    CHECK(first["command"] == "sync");
    CHECK_FALSE(first.contains("duration_ms"));
    auto second = nlohmann::json::parse(json[1]);
    CHECK(second["duration_ms"] == 35);
    CHECK_FALSE(second.contains("id"));
    auto scoped = nlohmann::json::parse(json[2]);
    CHECK(scoped["type"] == "snippet_repository");
    CHECK(scoped["id"] == 7);
    CHECK_FALSE(nlohmann::json::parse(json[3]).contains("type"));

    setup_logging(1, LogFormat::text);
    auto text = stderr_lines([] {
        log_record(spdlog::level::warn, "cool_widget", 12, "Error syncing repository: gone");
        log_record(spdlog::level::info, LogFields{"cool_widget", std::nullopt, 35}, "claimed 10");
    });
    REQUIRE(text.size() == 2);
    CHECK(text[0].ends_with("Z geo-ssf: warning: cool_widget 12: Error syncing repository: gone"));
    CHECK(text[1].ends_with("Z geo-ssf: info: cool_widget: claimed 10 (35 ms)"));
    CHECK(text[0].size() == std::string("2026-01-31T09:15:02.125Z ").size() +
                                std::string("geo-ssf: warning: cool_widget 12: Error syncing repository: gone").size());

    set_log_context("", "");
    setup_logging(0, LogFormat::text);
}

TEST_CASE("logging: print_error_line is one line, in the log format; only a line that ends the command has a status") {
    set_log_context("", "checksum");
    setup_logging(0, LogFormat::text);
    auto text = stderr_lines([] {
        print_error_line("cannot fetch https://user:t0k3n@host/a.git: refused\ndetail", ExitStatus::runtime);
        print_error_line("/srv/a.git: repository does not exist  ");
    });
    REQUIRE(text.size() == 2);
    CHECK(text[0] == "geo-ssf: error: cannot fetch https://***@host/a.git: refused");
    CHECK(text[1] == "geo-ssf: error: /srv/a.git: repository does not exist");

    setup_logging(0, LogFormat::json);
    auto json = stderr_lines([] {
        print_error_line("cannot fetch https://user:t0k3n@host/a.git: refused\ndetail", ExitStatus::runtime);
        print_error_line("/srv/a.git: repository does not exist");
    });
    REQUIRE(json.size() == 2);
    auto final_line = nlohmann::json::parse(json[0]);
    CHECK(final_line["level"] == "error");
    CHECK(final_line["message"] == "cannot fetch https://***@host/a.git: refused");
    CHECK(final_line["exit_status"] == 5);
    CHECK(final_line["command"] == "checksum");
    auto going_on = nlohmann::json::parse(json[1]);
    CHECK(going_on["level"] == "error");
    CHECK(going_on["message"] == "/srv/a.git: repository does not exist");
    CHECK_FALSE(going_on.contains("exit_status"));

    set_log_context("", "");
    setup_logging(0, LogFormat::text);
}

}
