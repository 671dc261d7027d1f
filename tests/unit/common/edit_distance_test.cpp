#include "common/edit_distance.hpp"

#include <doctest/doctest.h>

using namespace geo_ssf;

TEST_SUITE("edit_distance") {

TEST_CASE("edit_distance: insertions, deletions, substitutions and swaps") {
    CHECK(edit_distance("", "") == 0);
    CHECK(edit_distance("status", "status") == 0);
    CHECK(edit_distance("", "sync") == 4);
    CHECK(edit_distance("stauts", "status") == 1);  // one swap, not two substitutions
    CHECK(edit_distance("--max-runtim", "--max-runtime") == 1);
    CHECK(edit_distance("lst", "list") == 1);
    CHECK(edit_distance("verfiy", "verify") == 1);
    CHECK(edit_distance("sync", "show") == 3);
    CHECK(edit_distance("ca", "abc") == 3);  // optimal string alignment: no edit of a swapped pair
}

TEST_CASE("closest_words: likely typos only, the closest first") {
    const std::vector<std::string> commands = {"status", "show", "sync", "resync", "verify", "reverify", "list"};
    CHECK(closest_words("stauts", commands) == std::vector<std::string>{"status"});
    CHECK(closest_words("verfy", commands) == std::vector<std::string>{"verify"});
    CHECK(closest_words("synk", commands) == std::vector<std::string>{"sync"});
    CHECK(closest_words("stat", commands) == std::vector<std::string>{"status"});
    CHECK(closest_words("frobnicate", commands).empty());
    CHECK(closest_words("", commands).empty());
    CHECK(closest_words("status", commands).empty());
    CHECK(closest_words("shw", commands) == std::vector<std::string>{"show"});
}

TEST_CASE("did_you_mean: one, two or more suggestions") {
    CHECK(did_you_mean({}).empty());
    CHECK(did_you_mean({"status"}) == " (did you mean 'status'?)");
    CHECK(did_you_mean({"a", "b"}) == " (did you mean 'a' or 'b'?)");
    CHECK(did_you_mean({"a", "b", "c"}) == " (did you mean 'a', 'b' or 'c'?)");
}

}
