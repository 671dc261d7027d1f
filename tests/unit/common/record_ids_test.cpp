#include "common/error.hpp"
#include "common/record_ids.hpp"

#include <doctest/doctest.h>

#include <sstream>
#include <string>
#include <vector>

using namespace geo_ssf;

TEST_CASE("record ids: a positive whole number, nothing else") {
    CHECK(parse_record_id("1") == 1);
    CHECK(parse_record_id("9223372036854775807") == 9223372036854775807LL);
    for (std::string bad : {"", "0", "-1", "+1", " 1", "1 ", "1x", "0x10", "1.0", "9223372036854775808"})
        CHECK_THROWS_AS(parse_record_id(bad), UsageError);
}

TEST_CASE("record ids: the error names the text, made printable") {
    try {
        parse_record_id("4\x1b[2J");
        FAIL("no error");
    } catch (const UsageError& error) {
        std::string message = error.what();
        CHECK(message.find("invalid ID") != std::string::npos);
        CHECK(message.find('\x1b') == std::string::npos);
    }
}

TEST_CASE("record ids: a list fails on its first bad id") {
    CHECK(parse_record_ids({"3", "1", "2"}) == std::vector<long long>{3, 1, 2});
    CHECK(parse_record_ids({}).empty());
    CHECK_THROWS_AS(parse_record_ids({"3", "x"}), UsageError);
}

TEST_CASE("record ids: standard input in batches, any white space between ids") {
    std::istringstream in("1 2\n3\t4\n\n5\r\n");
    std::vector<std::vector<long long>> batches;
    long long total = read_record_ids(in, 2, [&](const std::vector<long long>& ids) { batches.push_back(ids); });
    CHECK(total == 5);
    CHECK(batches == std::vector<std::vector<long long>>{{1, 2}, {3, 4}, {5}});

    std::istringstream empty("  \n");
    CHECK(read_record_ids(empty, 2, [&](const std::vector<long long>&) { FAIL("no ids to consume"); }) == 0);

    std::istringstream bad("1 2 x");
    CHECK_THROWS_AS(read_record_ids(bad, 10, [](const std::vector<long long>&) {}), UsageError);
}
