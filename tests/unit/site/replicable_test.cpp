#include "common/error.hpp"
#include "site/replicable.hpp"

#include "common/error.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace geo_ssf;

namespace {

bool meet(const std::string& a, const std::string& b) {
    return can_render_same_path(RepositoryPathTemplate::parse(a), RepositoryPathTemplate::parse(b));
}

bool nested(const std::string& outer, const std::string& inner) {
    return can_render_nested_path(RepositoryPathTemplate::parse(outer), RepositoryPathTemplate::parse(inner));
}

}  // namespace

TEST_SUITE("replicable") {

TEST_CASE("replicable::rendered paths stay out of geo-ssf's own folders and within PATH_MAX") {
    auto anywhere = RepositoryPathTemplate::parse("{path}");
    for (const char* own : {".geo-ssf-tmp/1-2-3", ".geo-ssf-removed/cool_widget", ".geo-ssf-removed/cool_widget/7/"
                                                                                   "20261201T000000Z.git"}) {
        CAPTURE(own);
        CHECK_THROWS_WITH_AS(anywhere.render({own}),
                             doctest::Contains("a folder of geo-ssf's own"), RuntimeError);
        CHECK_FALSE(anywhere.matches(own));
    }
    CHECK(anywhere.render({"a/.geo-ssf-tmp/b"}) == "a/.geo-ssf-tmp/b");  // only the top of the root is geo-ssf's
    CHECK_THROWS_WITH_AS(anywhere.render({std::string(k_max_repository_path_bytes + 1, 'a')}),
                         doctest::Contains("longer than 4096 bytes"), RuntimeError);
    CHECK(anywhere.render({std::string(k_max_repository_path_bytes, 'a')}).size() == k_max_repository_path_bytes);
}

TEST_CASE("replicable::matches takes a long path in one pass and refuses one over PATH_MAX") {
    auto by_id = RepositoryPathTemplate::parse("cool_widgets/{id}.git");
    std::string long_id(4000, '7');
    CHECK(by_id.matches("cool_widgets/" + long_id + ".git"));
    CHECK_FALSE(by_id.matches("cool_widgets/" + long_id + "x.gi"));
    // Ten megabytes of one segment: refused by its length before any matching.
    CHECK_FALSE(by_id.matches("cool_widgets/" + std::string(10'000'000, '1') + ".git"));
    auto two = RepositoryPathTemplate::parse("{namespace}/{name}.wiki.git");
    CHECK(two.matches("group/project.wiki.git"));
    CHECK(two.matches("group/pro.wiki.ject.wiki.git"));
    CHECK_FALSE(two.matches("group/project.git"));
    CHECK_FALSE(two.matches("a/b/project.wiki.git"));
}

TEST_CASE("replicable::can_render_same_path finds templates that can meet for plain values") {
    CHECK(meet("cool_widgets/{id}.git", "cool_widgets/{id}.git"));
    CHECK(meet("cool_widgets/{id}.git", "cool_widgets/{name}.git"));
    CHECK(meet("a/{x}.git", "{y}/b.git"));  // a/b.git
    CHECK(meet("{group}/{id}.git", "cool_widgets/{id}.git"));
    CHECK(meet("w-{a}.git", "{b}-x.git"));  // w-x.git
    CHECK_FALSE(meet("cool_widgets/{id}.git", "gadgets/{id}.git"));
    CHECK_FALSE(meet("cool_widgets/{id}.git", "cool_widgets/{id}.wiki"));
    // GitLab's project and wiki repositories side by side: a hash never ends with ".wiki".
    CHECK_FALSE(meet("@hashed/{hash}.git", "@hashed/{hash}.wiki.git"));
    // Different depths: only a value holding '/' could make them meet.
    CHECK_FALSE(meet("{namespace}/{path}.git", "{slug}.git"));
}

TEST_CASE("replicable::can_render_nested_path finds a template whose paths can hold the other's") {
    CHECK(nested("nest/{id}.git", "nest/{id}.git/{x}.git"));
    CHECK(nested("{slug}", "cool_widgets/{id}.git"));  // {slug} = "cool_widgets"
    CHECK(nested("{a}/{b}", "x/y/{z}.git"));
    CHECK_FALSE(nested("cool_widgets/{id}.git", "gadgets/{id}.git"));
    CHECK_FALSE(nested("cool_widgets/{id}.git", "cool_widgets/{id}.git"));
    CHECK_FALSE(nested("cool_widgets/{id}", "cool_widgets/{id}.git"));
}

}
