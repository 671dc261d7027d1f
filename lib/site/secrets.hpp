// The environment variables that hold secrets geo-ssf is given: libpq's password and the
// primary's. No program geo-ssf runs needs them (git gets the primary's password from its
// credential helper's own variables, for the primary's host alone), so none is passed on.
#pragma once

#include <array>
#include <string_view>

namespace geo_ssf {

inline constexpr std::array<std::string_view, 2> k_secret_variables = {"PGPASSWORD", "GEO_SSF_PRIMARY_PASSWORD"};

}  // namespace geo_ssf
