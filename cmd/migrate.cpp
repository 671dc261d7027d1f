// geo-ssf migrate: apply pending schema migrations, or show which are applied.
#include "command.hpp"
#include "common/error.hpp"
#include "common/logging.hpp"
#include "common/paths.hpp"
#include "common/text_table.hpp"
#include "site/migrations.hpp"

#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace geo_ssf::cli {

namespace {

struct MigrateOptions {
    std::string database = "all";
    bool status = false;
    bool dry_run = false;
};

std::vector<DatabaseKind> selected_databases(const std::string& choice, const Site& site) {
    if (choice == "main")
        return {DatabaseKind::main};
    if (choice == "geo")
        return {DatabaseKind::geo};
    // "all": the databases this site owns. A secondary's main database is the primary's.
    return {site.role_database_kind()};
}

void print_status(Site& site, DatabaseKind kind, const std::vector<Migration>& all) {
    std::map<std::string, AppliedMigration> applied;
    for (auto& a : applied_migrations(site.database(kind)))
        applied.emplace(a.version, a);
    std::vector<std::vector<std::string>> rows;
    for (const auto& m : all) {
        auto it = applied.find(m.version);
        rows.push_back({database_kind_name(kind), m.version, m.name,
                        it == applied.end() ? "pending" : "applied " + it->second.applied_at,
                        m.builtin ? "geo-ssf" : m.file.string()});
        if (it != applied.end())
            applied.erase(it);
    }
    for (const auto& [version, a] : applied)
        rows.push_back({database_kind_name(kind), version, a.name, "applied " + a.applied_at, "(no file)"});
    std::cout << format_table({"DATABASE", "VERSION", "NAME", "STATUS", "SOURCE"}, rows);
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
    app.footer(R"(Examples:
  geo-ssf migrate                       # on a primary: the main database
  geo-ssf -c secondary.yml migrate      # on a secondary: the tracking database
  geo-ssf migrate --status
  geo-ssf migrate --database main --dry-run)");

    return [options](Invocation& invocation) {
        Site& site = invocation.required_site();
        for (DatabaseKind kind : selected_databases(options->database, site)) {
            auto all = discover_migrations(kind, builtin_migrations_dir(), site.config().migrations_dir);
            const char* label = database_kind_name(kind);
            if (options->status) {
                print_status(site, kind, all);
                continue;
            }
            if (kind == DatabaseKind::main && !site.is_primary())
                throw UsageError("the main database belongs to the primary; run 'geo-ssf migrate' on the primary site");
            if (options->dry_run) {
                auto pending = pending_migrations(site.database(kind), all);
                for (const auto& m : pending)
                    std::cout << "would apply " << label << " " << m.version << "_" << m.name << "\n";
                if (pending.empty())
                    std::cout << label << ": no pending migrations\n";
                continue;
            }
            // -q: nothing on success; --status and --dry-run print what was asked for.
            auto applied = apply_pending_migrations(site.database(kind), all, [&](const Migration& m) {
                if (!quiet_output())
                    std::cout << "applied " << label << " " << m.version << "_" << m.name << std::endl;
            });
            if (applied.empty() && !quiet_output())
                std::cout << label << ": no pending migrations\n";
        }
        return ExitStatus::ok;
    };
}

}  // namespace geo_ssf::cli
