// geo-ssf check: is this site ready? Config, databases, migrations, storage.
#include "command.hpp"
#include "common/error.hpp"
#include "report/check.hpp"

#include <nlohmann/json.hpp>

#include <iostream>
#include <memory>
#include <string>

namespace geo_ssf::cli {

Runner define_check(CLI::App& app) {
    app.description("Check that this site is ready: the config is valid, each database is reachable and "
                    "migrated, the storage root is readable (primary) or writable (secondary), and a secondary "
                    "can read the primary's repositories as this user. Exit status 1 if any check failed.");
    auto format = std::make_shared<std::string>("table");
    app.add_option("--format", *format, "Output format: table prints each check as it is known; json prints "
                                        "one object at the end")
        ->check(CLI::IsMember({"table", "json"}));
    app.footer(R"(Examples:
  geo-ssf check
  geo-ssf -c /etc/geo-ssf/secondary.yml check || echo "site not ready"
  geo-ssf check --format json | jq -r '.checks[] | select(.passed | not) | .name')");

    return [format](Invocation& invocation) {
        bool json = *format == "json";
        auto results = check_site(invocation.config_file, [json](const CheckResult& result) {
            if (!json)
                std::cout << (result.passed ? "passed  " : "FAILED  ") << result.name << ": " << result.detail
                          << std::endl;
        });
        int failed = 0;
        for (const auto& result : results)
            failed += result.passed ? 0 : 1;
        if (json) {
            nlohmann::ordered_json out;
            out["passed"] = failed == 0;
            out["checks_failed"] = failed;
            out["checks"] = nlohmann::ordered_json::array();
            for (const auto& result : results)
                out["checks"].push_back({{"name", result.name}, {"passed", result.passed}, {"detail", result.detail}});
            std::cout << out.dump(2) << "\n";
        } else {
            std::cout << (failed == 0 ? "all " + std::to_string(results.size()) + " checks passed"
                                      : std::to_string(failed) + " of " + std::to_string(results.size()) +
                                            " checks failed")
                      << "\n";
        }
        return failed == 0 ? ExitStatus::ok : ExitStatus::records_failed;
    };
}

}  // namespace geo_ssf::cli
