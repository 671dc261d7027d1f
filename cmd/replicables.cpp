// geo-ssf replicables: the data types this site knows, and what is enabled for each.
#include "command.hpp"
#include "common/error.hpp"
#include "common/text_table.hpp"

#include <nlohmann/json.hpp>

#include <iostream>
#include <memory>
#include <string>
#include <vector>

namespace geo_ssf::cli {

Runner define_replicables(CLI::App& app) {
    auto format = std::make_shared<std::string>("table");
    auto names = std::make_shared<bool>(false);
    app.description("List the replicable types defined for this site and what is enabled for each.");
    app.add_option("--format", *format, "Output format")->check(CLI::IsMember({"table", "json"}));
    app.add_flag("--names", *names, "Print only the names, one a line (for scripts and shell completion)")
        ->excludes("--format");
    app.footer(R"(Examples:
  geo-ssf replicables
  geo-ssf replicables --names
  geo-ssf replicables --format json | jq -r '.[] | select(.verification_enabled) | .name')");

    return [format, names](Invocation& invocation) {
        const Config& config = invocation.required_site().config();
        if (*names) {
            for (const auto& r : config.replicables)
                std::cout << r.name << "\n";
            return ExitStatus::ok;
        }
        auto yes_no = [](bool value) { return std::string(value ? "yes" : "no"); };
        if (*format == "json") {
            nlohmann::json out = nlohmann::json::array();
            for (const auto& r : config.replicables)
                out.push_back({{"name", r.name},
                               {"title_plural", r.title_plural},
                               {"kind", r.kind},
                               {"replication_enabled", r.replication_enabled},
                               {"verification_enabled", r.verification_enabled},
                               {"model_table", r.model_table},
                               {"model_key", r.model_key},
                               {"registry_table", r.registry_table},
                               {"states_table", r.states_table},
                               {"repository_path", r.repository_path.text()},
                               {"file", r.file.string()}});
            std::cout << out.dump(2) << "\n";
            return ExitStatus::ok;
        }
        std::vector<std::vector<std::string>> rows;
        for (const auto& r : config.replicables)
            rows.push_back({r.name, r.title_plural, r.kind, yes_no(r.replication_enabled),
                            yes_no(r.verification_enabled), r.model_table, r.registry_table, r.states_table});
        std::cout << format_table({"NAME", "TITLE", "KIND", "REPLICATION", "VERIFICATION", "MODEL TABLE",
                                   "REGISTRY TABLE", "STATES TABLE"},
                                  rows);
        if (rows.empty() && config.role == Role::primary)
            std::cout << "(no replicables in " << config.replicables_dir.string()
                      << "; create one with geo-ssf generate replicable NAME)\n";
        else if (rows.empty())  // a secondary's types are its primary's
            std::cout << "(no replicables in " << config.replicables_dir.string()
                      << "; copy the primary's replicables/ and migrations/ folders here, then run geo-ssf migrate)\n";
        return ExitStatus::ok;
    };
}

}  // namespace geo_ssf::cli
