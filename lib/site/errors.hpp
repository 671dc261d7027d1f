// The one translation of whatever a command throws into geo-ssf's error hierarchy
// (common/error.hpp), made where errors reach the user: cmd/main.cpp.
#pragma once

#include "common/error.hpp"

#include <exception>

namespace geo_ssf {

class Site;

// The Error that EXCEPTION (not null) stands for:
// * geo-ssf's own errors (libgit2's GitError among them) as they are;
// * a libpqxx failure as a DatabaseError: a lost connection names the database of SITE that is
//   gone, when SITE (which may be null) knows which ("lost the connection to the tracking
//   database (databases.geo, database app_geo): ..."), else "lost the connection to the
//   database: ..."; any other failure is "database query failed: ...";
// * a filesystem error as a RuntimeError naming its path and reason ("/srv/a: Permission
//   denied");
// * a failed allocation ("out of memory"), any other exception and anything else thrown as a
//   RuntimeError.
Error translated_error(const std::exception_ptr& exception, const Site* site);

}  // namespace geo_ssf
