// Where geo-ssf's own data (templates/ and migrations/) is.
#pragma once

#include <filesystem>

namespace geo_ssf {

// $GEO_SSF_DATADIR if set; the source tree for a binary run from its build tree; otherwise
// <prefix>/share/geo-ssf beside the installed binary, or the prefix it was built for.
std::filesystem::path data_dir();

std::filesystem::path templates_dir();
std::filesystem::path builtin_migrations_dir();

}  // namespace geo_ssf
