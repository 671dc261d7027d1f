// geo-ssf verify: checksum the repositories whose verification is due, and record the results.
#include "command.hpp"
#include "common/error.hpp"
#include "common/logging.hpp"
#include "output.hpp"
#include "common/stop.hpp"
#include "primary/verify.hpp"

#include <nlohmann/json.hpp>

#include <iostream>

namespace geo_ssf::cli {

namespace {

struct VerifyOptions {
    std::vector<std::string> replicables;
    RunLimitOptions limits;
    std::string format = "table";
};

void print_totals(const std::vector<VerifyTotals>& totals, const std::string& format) {
    long long claimed = 0, succeeded = 0, failed = 0;
    for (const auto& t : totals) {
        claimed += t.claimed;
        succeeded += t.succeeded;
        failed += t.failed;
    }
    if (format == "json") {
        nlohmann::json out = {{"claimed", claimed}, {"succeeded", succeeded}, {"failed", failed},
                              {"replicables", nlohmann::json::array()}};
        for (const auto& t : totals) {
            nlohmann::json failures = nlohmann::json::array();
            for (const auto& f : t.failures)
                failures.push_back({{"id", f.id}, {"reason", f.reason}});
            out["replicables"].push_back({{"name", t.replicable}, {"claimed", t.claimed}, {"succeeded", t.succeeded},
                                          {"failed", t.failed}, {"released", t.released}, {"failures", failures}});
        }
        std::cout << out.dump() << "\n";
        return;
    }
    std::string line = "verify: " + std::to_string(claimed) + " claimed, " + std::to_string(succeeded) + " succeeded, " +
                       std::to_string(failed) + " failed";
    for (const auto& t : totals)
        line += "; " + t.replicable + ": " + std::to_string(t.claimed) + " claimed, " + std::to_string(t.succeeded) +
                " succeeded, " + std::to_string(t.failed) + " failed";
    std::cout << line << "\n";
}

}  // namespace

Runner define_verify(CLI::App& app) {
    auto options = std::make_shared<VerifyOptions>();
    app.description("Checksum the repositories whose verification is due and record the results. On a primary "
                    "every success publishes a checksum_succeeded event; on a secondary each synced copy is compared "
                    "with the primary's checksum, and a mismatch names the refs that differ and makes the next sync "
                    "fetch it again. Exit status 1 if any record failed.");
    app.add_option("replicable", options->replicables, "Only these types (default: every verification-enabled type)");
    options->limits.add_to(app, "verification", "Repositories checksummed at once");
    app.add_option("--format", options->format, "Summary format")->check(CLI::IsMember({"table", "json"}));
    app.footer(R"(Examples:
  geo-ssf verify
  geo-ssf verify cool_widget --jobs 4 --max-runtime 55s
  * * * * *  geo-ssf verify --max-runtime 55s --format json >>/var/log/geo-ssf/verify.log)");

    return [options](Invocation& invocation) {
        Site& site = invocation.required_site();
        RunLimits limits = options->limits.resolve(site.config().verification);
        site.require_migrated(site.is_primary() ? DatabaseKind::main : DatabaseKind::geo);
        install_stop_handlers();
        auto totals = site.is_primary() ? verify_primary(site, options->replicables, limits)
                                        : verify_secondary(site, options->replicables, limits);
        if (!quiet_output()) print_totals(totals, options->format);
        for (const auto& t : totals)
            if (t.failed > 0)
                return 1;
        return 0;
    };
}

}  // namespace geo_ssf::cli
