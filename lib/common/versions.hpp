// What --version prints: geo-ssf's version and those of the libraries it runs with.
#pragma once

#include <string>

namespace geo_ssf {

// "geo-ssf 0.1.0\nlibgit2 1.5.1\nlibpqxx 6.4.4\nlibpq 15.5\n": libgit2 and libpq as loaded at
// run time, libpqxx as built against (it has no run-time query).
std::string version_text();

}  // namespace geo_ssf
