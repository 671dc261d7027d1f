#include "common/error.hpp"
#include "site/replicable.hpp"

#include <doctest/doctest.h>

using namespace geo_ssf;

TEST_SUITE("error") {

TEST_CASE("error::printable escapes control characters and cuts long input") {
    CHECK(printable("cool_widget") == "cool_widget");
    CHECK(printable(std::string("refs/heads/a\x1b[31m\n", 18)) == "refs/heads/a\\x1b[31m\\x0a");
    CHECK(printable("x\x7fy") == "x\\x7fy");
    CHECK(printable(std::string(300, '9')) == std::string(64, '9') + "...");
    CHECK(printable(std::string(64, 'a')) == std::string(64, 'a'));
}

TEST_CASE("replicable::RepositoryPathTemplate refuses rendered paths that are not one repository's") {
    auto slug = RepositoryPathTemplate::parse("cool_widgets/{slug}");
    CHECK(slug.render({"a"}) == "cool_widgets/a");
    CHECK_THROWS_WITH_AS(slug.render({""}), doctest::Contains("it ends with '/'"), RuntimeError);
    CHECK_THROWS_WITH_AS(slug.render({".."}), doctest::Contains("'..' segment"), RuntimeError);
    CHECK_THROWS_WITH_AS(slug.render({"a//b"}), doctest::Contains("empty segment"), RuntimeError);
    CHECK_THROWS_WITH_AS(slug.render({std::string("a\0b", 3)}), doctest::Contains("NUL"), RuntimeError);
    auto leading = RepositoryPathTemplate::parse("{group}/{id}.git");
    CHECK_THROWS_WITH_AS(leading.render({"", "1"}), doctest::Contains("starts with '/'"), RuntimeError);
}

TEST_CASE("replicable::RepositoryPathTemplate::matches only what the template renders") {
    auto by_id = RepositoryPathTemplate::parse("cool_widgets/{id}.git");
    CHECK(by_id.matches("cool_widgets/42.git"));
    CHECK(by_id.matches("cool_widgets/x.y.git"));
    CHECK_FALSE(by_id.matches("cool_widgets"));
    CHECK_FALSE(by_id.matches("cool_widgets/"));
    CHECK_FALSE(by_id.matches("cool_widgets/.git"));
    CHECK_FALSE(by_id.matches("cool_widgets/1.git/objects"));
    CHECK_FALSE(by_id.matches("cool_widgets/a/b.git"));
    CHECK_FALSE(by_id.matches("cool_widgets/...git/"));
    CHECK_FALSE(by_id.matches("gadgets/1.git"));
    CHECK_FALSE(by_id.matches(""));
    auto nested = RepositoryPathTemplate::parse("g/{ns}/{id}-{ns}");
    CHECK(nested.matches("g/7/1-7"));
    CHECK_FALSE(nested.matches("g/7/1-8"));
    CHECK_FALSE(nested.matches("g/../1-.."));
}

}  // TEST_SUITE
