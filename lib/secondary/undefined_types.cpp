#include "secondary/undefined_types.hpp"

#include "common/error.hpp"
#include "db/primary_reads.hpp"
#include "db/type_tables.hpp"

#include <algorithm>

namespace geo_ssf::secondary {

namespace {

std::string joined(const std::vector<std::string>& words) {
    std::string out;
    for (const auto& word : words)
        out += (out.empty() ? "" : ", ") + word;
    return out;
}

}  // namespace

std::optional<std::string> undefined_types(const Config& config, const std::vector<std::string>& primary_states_tables) {
    std::vector<std::string> undefined;
    for (const auto& table : primary_states_tables)
        if (std::none_of(config.replicables.begin(), config.replicables.end(),
                         [&](const Replicable& r) { return r.states_table == table; }))
            undefined.push_back(table);
    if (undefined.empty() && !config.replicables.empty())
        return std::nullopt;
    std::string fix = "copy the primary's replicables/ and migrations/ folders to " + config.replicables_dir.string() +
                      " and " + config.migrations_dir.string() + ", then run geo-ssf migrate";
    if (config.replicables.empty())
        return "this site defines no replicable type (" + config.replicables_dir.string() + " has none)" +
               (undefined.empty() ? "" : ", and the primary's database has states tables: " + joined(undefined)) +
               "; " + fix;
    return "the primary's database has states tables of types this site does not define: " + joined(undefined) + "; " +
           fix;
}

std::optional<std::string> undefined_types(Site& site) {
    auto tables = read_primary(site.main_database(), [](pqxx::transaction_base& tx) { return tallied_states_tables(tx); });
    return undefined_types(site.config(), tables);
}

void require_every_type_defined(Site& site) {
    if (auto missing = undefined_types(site))
        throw ConfigError(*missing);
}

}  // namespace geo_ssf::secondary
