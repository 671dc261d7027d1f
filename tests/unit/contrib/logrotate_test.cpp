// contrib/logrotate/geo-ssf: logrotate rotates the cron runs' logs as the user and group of its
// su line, and as that user it cannot give a new log to a group the user is not in (it would
// end up in the user's group, or nogroup): the create line names su's user and group.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

namespace {

std::string read_contrib(const std::string& name) {
    const char* root = std::getenv("GEO_SSF_SOURCE_ROOT");
    REQUIRE_MESSAGE(root, "GEO_SSF_SOURCE_ROOT is not set (meson test sets it)");
    std::ifstream in(std::filesystem::path(root) / "contrib" / name);
    REQUIRE_MESSAGE(in, name);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

}  // namespace

TEST_SUITE("logrotate") {

TEST_CASE("logrotate: new logs are created with the user and group logrotate rotates them as") {
    std::string text = read_contrib("logrotate/geo-ssf");
    std::smatch su, create;
    REQUIRE(std::regex_search(text, su, std::regex(R"(\n\s*su\s+(\S+)\s+(\S+)\s*\n)")));
    REQUIRE(std::regex_search(text, create, std::regex(R"(\n\s*create\s+(\d+)\s+(\S+)\s+(\S+)\s*\n)")));
    CHECK(create[2].str() == su[1].str());
    CHECK(create[3].str() == su[2].str());
    CHECK(create[1].str() == "0640");  // not for every user to read
    // The cron.d file writes the logs as that user.
    CHECK(read_contrib("cron/geo-ssf").find("*  " + su[1].str() + "  geo-ssf ") != std::string::npos);
}

}
