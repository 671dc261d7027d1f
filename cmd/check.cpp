// geo-ssf check: is this site ready? Config, databases, migrations, storage.
#include "command.hpp"
#include "common/error.hpp"
#include "report/check.hpp"

#include <iostream>
#include <string>

namespace geo_ssf::cli {

Runner define_check(CLI::App& app) {
    app.description("Check that this site is ready: the config is valid, each database is reachable and "
                    "migrated, the storage root is readable (primary) or writable (secondary), and a secondary "
                    "can read the primary's repositories as this user. Exit status 1 if any check failed.");
    app.footer(R"(Examples:
  geo-ssf check
  geo-ssf -c /etc/geo-ssf/secondary.yml check || echo "site not ready")");

    return [](Invocation& invocation) {
        auto results = check_site(invocation.config_file, [](const CheckResult& result) {
            std::cout << (result.passed ? "passed  " : "FAILED  ") << result.name << ": " << result.detail
                      << std::endl;
        });
        int failed = 0;
        for (const auto& result : results)
            failed += result.passed ? 0 : 1;
        std::cout << (failed == 0 ? "all " + std::to_string(results.size()) + " checks passed"
                                  : std::to_string(failed) + " of " + std::to_string(results.size()) +
                                        " checks failed")
                  << "\n";
        return failed == 0 ? ExitStatus::ok : ExitStatus::records_failed;
    };
}

}  // namespace geo_ssf::cli
