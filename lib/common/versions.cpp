#include "common/versions.hpp"

#include "build_config.hpp"

#include <git2/common.h>
#include <libpq-fe.h>
#include <pqxx/version.hxx>

namespace geo_ssf {

namespace {

// PQlibVersion: 150005 for 15.5; before PostgreSQL 10, 90624 for 9.6.24.
std::string libpq_version() {
    int number = PQlibVersion();
    if (number >= 100000)
        return std::to_string(number / 10000) + "." + std::to_string(number % 10000);
    return std::to_string(number / 10000) + "." + std::to_string(number / 100 % 100) + "." + std::to_string(number % 100);
}

}  // namespace

std::string version_text() {
    int major = 0, minor = 0, revision = 0;
    git_libgit2_version(&major, &minor, &revision);
    return std::string("geo-ssf ") + GEO_SSF_VERSION + "\n" + "libgit2 " + std::to_string(major) + "." +
           std::to_string(minor) + "." + std::to_string(revision) + "\n" + "libpqxx " + PQXX_VERSION + "\n" +
           "libpq " + libpq_version() + "\n";
}

}  // namespace geo_ssf
