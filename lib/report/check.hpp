// `geo-ssf check`: is this site ready to run? Each check passes or fails with its reason.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace geo_ssf {

struct CheckResult {
    std::string name;    // "main database reachable"
    bool passed = false;
    std::string detail;  // what was found, or why it failed
};

// Runs every check, reporting each through REPORT as soon as it is known. It only reads: the
// databases are opened read-only and the storage probe file is removed again.
// CONFIG_FILE is the located config file (nullopt: none found).
std::vector<CheckResult> check_site(const std::optional<std::filesystem::path>& config_file,
                                    const std::function<void(const CheckResult&)>& report);

}  // namespace geo_ssf
