// geo-ssf check: is this site ready? Config, databases, migrations, storage. With --promotion:
// would promoting this secondary now lose anything?
#include "command.hpp"
#include "common/error.hpp"
#include "report/check.hpp"
#include "report/promotion_format.hpp"
#include "secondary/promotion.hpp"

#include <nlohmann/json.hpp>

#include <iostream>
#include <memory>
#include <string>

namespace geo_ssf::cli {

namespace {

struct CheckOptions {
    bool promotion = false;
    std::string format = "table";
};

ExitStatus check_promotion(Invocation& invocation, bool json) {
    if (!invocation.config_file)
        throw no_config_file_error();
    invocation.site = std::make_unique<Site>(load_config(*invocation.config_file));
    Site& site = *invocation.site;
    if (site.config().role != Role::secondary)
        throw UsageError("check --promotion runs on a secondary site; " + site.config().file.string() + " is a primary");
    site.require_migrated(DatabaseKind::geo);
    auto result = secondary::check_promotion(site, [&](const secondary::PreflightCheck& check) {
        if (!json)
            std::cout << format_preflight_line(check) << std::endl;
    });
    if (json)
        std::cout << promotion_check_json(result).dump() << "\n";
    else
        std::cout << format_preflight_summary(result) << "\n";
    return result.passed() ? ExitStatus::ok : ExitStatus::records_failed;
}

}  // namespace

Runner define_check(CLI::App& app) {
    auto options = std::make_shared<CheckOptions>();
    app.description("Check that this site is ready: the config is valid, each database is reachable and "
                    "migrated, the storage root is readable (primary) or writable and owned by this user "
                    "(secondary), and a secondary can read the primary's repositories as this user. With --promotion, on a secondary: whether "
                    "promoting it now would lose anything, record by record. Exit status 1 if any check failed "
                    "(with --promotion: if promoting now would lose or leave unproven any record).");
    app.add_flag("--promotion", options->promotion,
                 "On a secondary: the promotion preflight (every record's copy verified with the primary's "
                 "checksum, every event replayed, the standby's replay done, nothing outside the scope); read-only");
    app.add_option("--format", options->format, "Output format: table prints each check as it is known; json prints "
                                                "one object at the end (every lost record with --promotion)")
        ->check(CLI::IsMember({"table", "json"}));
    app.footer(R"(Examples:
  geo-ssf check
  geo-ssf -c /etc/geo-ssf/secondary.yml check || echo "site not ready"
  geo-ssf check --format json | jq -r '.checks[] | select(.passed | not) | .name'
  geo-ssf -c /etc/geo-ssf/secondary.yml check --promotion
  geo-ssf check --promotion --format json | jq '.replicables[].lost[].id')");

    return [options](Invocation& invocation) {
        bool json = options->format == "json";
        if (options->promotion)
            return check_promotion(invocation, json);
        auto results = check_site(invocation.config_file, [json](const CheckResult& result) {
            if (!json)
                std::cout << (result.passed ? "passed  " : "FAILED  ") << result.name << ": " << result.detail
                          << std::endl;
        });
        int failed = 0;
        nlohmann::ordered_json checks = nlohmann::ordered_json::array();
        for (const auto& result : results) {
            failed += result.passed ? 0 : 1;
            checks.push_back({{"name", result.name}, {"passed", result.passed}, {"detail", result.detail}});
        }
        if (json) {
            nlohmann::ordered_json out;
            out["passed"] = failed == 0;
            out["checks_failed"] = failed;
            out["checks"] = checks;
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
