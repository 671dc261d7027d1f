// How far apart two words are, for "did you mean" suggestions: the optimal string alignment
// distance (Damerau-Levenshtein without repeated edits of one substring), as git's help.c uses.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace geo_ssf {

// The fewest insertions, deletions, substitutions and swaps of two adjacent characters that
// turn A into B: "stauts" is 1 from "status".
std::size_t edit_distance(std::string_view a, std::string_view b);

// The CANDIDATES closest to WORD, in their order, when close enough to be a likely typo: at
// most 2 edits (a third of WORD's length for long words), or WORD is a prefix of them. Empty
// when none is.
std::vector<std::string> closest_words(std::string_view word, const std::vector<std::string>& candidates);

// " (did you mean 'a'?)", " (did you mean 'a' or 'b'?)", or "" when WORDS is empty.
std::string did_you_mean(const std::vector<std::string>& words);

}  // namespace geo_ssf
