// geo-ssf migrate: apply pending schema migrations, or show which are applied.
#include "command.hpp"
#include "common/error.hpp"
#include "common/logging.hpp"
#include "common/paths.hpp"
#include "common/text_table.hpp"
#include "site/migrations.hpp"

#include <nlohmann/json.hpp>

#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace geo_ssf::cli {

namespace {

struct MigrateOptions {
    std::string database = "all";
    bool status = false;
    bool dry_run = false;
    std::string format = "table";
};

// The table's STATUS of an applied migration: "applied 2026-03-12 09:45:01 UTC".
std::string applied_words(const std::string& applied_at) {
    if (applied_at.size() != 20 || applied_at[10] != 'T' || applied_at[19] != 'Z')
        return "applied " + applied_at;
    return "applied " + applied_at.substr(0, 10) + " " + applied_at.substr(11, 8) + " UTC";
}

nlohmann::ordered_json migration_json(const Migration& m) {
    return {{"version", m.version}, {"name", m.name}, {"source", m.builtin ? "geo-ssf" : m.file.string()}};
}

std::vector<DatabaseKind> selected_databases(const std::string& choice, const Site& site) {
    if (choice == "main")
        return {DatabaseKind::main};
    if (choice == "geo")
        return {DatabaseKind::geo};
    // "all": the databases this site owns. A secondary's main database is the primary's.
    return {site.role_database_kind()};
}

// --status: every migration of KIND, applied and pending, as table rows or as JSON items.
void add_status(Site& site, DatabaseKind kind, const std::vector<Migration>& all,
                std::vector<std::vector<std::string>>& rows, nlohmann::ordered_json& items) {
    std::map<std::string, AppliedMigration> applied;
    for (auto& a : applied_migrations(site.database(kind)))
        applied.emplace(a.version, a);
    auto add = [&](const std::string& version, const std::string& name, const std::string* applied_at,
                   const std::optional<std::string>& source) {
        rows.push_back({database_kind_name(kind), version, name, applied_at ? applied_words(*applied_at) : "pending",
                        source.value_or("(no file)")});
        items.push_back({{"version", version},
                         {"name", name},
                         {"status", applied_at ? "applied" : "pending"},
                         {"applied_at", applied_at ? nlohmann::ordered_json(*applied_at) : nullptr},
                         {"source", source ? nlohmann::ordered_json(*source) : nullptr}});
    };
    for (const auto& m : all) {
        auto it = applied.find(m.version);
        add(m.version, m.name, it == applied.end() ? nullptr : &it->second.applied_at,
            m.builtin ? "geo-ssf" : m.file.string());
        if (it != applied.end())
            applied.erase(it);
    }
    for (const auto& [version, a] : applied)
        add(version, a.name, &a.applied_at, std::nullopt);
}

}  // namespace

Runner define_migrate(CLI::App& app) {
    auto options = std::make_shared<MigrateOptions>();
    app.description("Apply pending migrations, geo-ssf's own and the generated types', in version order, "
                    "each in its own transaction.");
    app.add_option("--database", options->database,
                   "Which database: main, geo, or all (the ones this site owns: main on a primary, geo on a secondary)")
        ->check(CLI::IsMember({"main", "geo", "all"}));
    app.add_flag("--status", options->status, "List applied and pending migrations; change nothing");
    app.add_flag("--dry-run", options->dry_run, "Print the migrations that would be applied; change nothing");
    app.add_option("--format", options->format,
                   "Output format: table prints a line per migration as it is applied; json prints one object at "
                   "the end (with --status, applied_at as an ISO 8601 time in UTC)")
        ->check(CLI::IsMember({"table", "json"}));
    app.footer(R"(Examples:
  geo-ssf migrate                       # on a primary: the main database
  geo-ssf -c secondary.yml migrate      # on a secondary: the tracking database
  geo-ssf migrate --status
  geo-ssf migrate --database main --dry-run
  geo-ssf migrate --status --format json | jq -r '.databases[].migrations[] | select(.status == "pending") | .version')");

    return [options](Invocation& invocation) {
        Site& site = invocation.required_site();
        bool json = options->format == "json";
        std::vector<std::vector<std::string>> status_rows;
        nlohmann::ordered_json databases = nlohmann::ordered_json::array();
        for (DatabaseKind kind : selected_databases(options->database, site)) {
            auto all = discover_migrations(kind, builtin_migrations_dir(), site.config().migrations_dir);
            const char* label = database_kind_name(kind);
            nlohmann::ordered_json items = nlohmann::ordered_json::array();
            if (options->status) {
                add_status(site, kind, all, status_rows, items);
                databases.push_back({{"database", label}, {"migrations", std::move(items)}});
                continue;
            }
            if (kind == DatabaseKind::main && !site.is_primary())
                throw UsageError("the main database belongs to the primary; run 'geo-ssf migrate' on the primary site");
            if (options->dry_run) {
                auto pending = pending_migrations(site.database(kind), all);
                for (const auto& m : pending) {
                    items.push_back(migration_json(m));
                    if (!json)
                        std::cout << "would apply " << label << " " << m.version << "_" << m.name << "\n";
                }
                if (pending.empty() && !json)
                    std::cout << label << ": no pending migrations\n";
                databases.push_back({{"database", label}, {"would_apply", std::move(items)}});
                continue;
            }
            // -q: nothing on success; --status and --dry-run print what was asked for.
            auto applied = apply_pending_migrations(site.database(kind), all, [&](const Migration& m) {
                items.push_back(migration_json(m));
                if (!quiet_output() && !json)
                    std::cout << "applied " << label << " " << m.version << "_" << m.name << std::endl;
            });
            if (applied.empty() && !quiet_output() && !json)
                std::cout << label << ": no pending migrations\n";
            databases.push_back({{"database", label}, {"applied", std::move(items)}});
        }
        if (json && (options->status || options->dry_run || !quiet_output()))
            std::cout << nlohmann::ordered_json{{"databases", std::move(databases)}}.dump(2) << "\n";
        else if (options->status)
            std::cout << format_table({"DATABASE", "VERSION", "NAME", "STATUS", "SOURCE"}, status_rows);
        return ExitStatus::ok;
    };
}

}  // namespace geo_ssf::cli
