#include "common/paths.hpp"

#include "build_config.hpp"
#include "common/error.hpp"

#include <cstdlib>

namespace geo_ssf {

namespace {

bool has_data(const std::filesystem::path& dir) {
    std::error_code ec;
    return std::filesystem::is_directory(dir / "templates", ec) &&
           std::filesystem::is_directory(dir / "migrations", ec);
}

bool is_inside(const std::filesystem::path& path, const std::filesystem::path& dir) {
    auto rel = path.lexically_relative(dir);
    return !rel.empty() && *rel.begin() != "..";
}

}  // namespace

std::filesystem::path data_dir() {
    if (const char* env = std::getenv("GEO_SSF_DATADIR"); env && *env) {
        if (!has_data(env))
            throw RuntimeError(std::string("GEO_SSF_DATADIR=") + env + " has no templates/ and migrations/");
        return env;
    }
    std::error_code ec;
    auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        if (is_inside(exe, GEO_SSF_BUILD_DIR) && has_data(GEO_SSF_SOURCE_DIR))
            return GEO_SSF_SOURCE_DIR;
        auto beside = exe.parent_path().parent_path() / "share" / "geo-ssf";
        if (has_data(beside))
            return beside;
    }
    if (has_data(GEO_SSF_INSTALLED_DATADIR))
        return GEO_SSF_INSTALLED_DATADIR;
    if (has_data(GEO_SSF_SOURCE_DIR))
        return GEO_SSF_SOURCE_DIR;
    throw RuntimeError("cannot find geo-ssf's templates and migrations (looked in " +
                       std::string(GEO_SSF_INSTALLED_DATADIR) + "); set GEO_SSF_DATADIR");
}

std::filesystem::path templates_dir() { return data_dir() / "templates"; }
std::filesystem::path builtin_migrations_dir() { return data_dir() / "migrations"; }

}  // namespace geo_ssf
