// geo-ssf generate replicable NAME: scaffold a new replicable type.
#include "command.hpp"
#include "common/error.hpp"
#include "common/paths.hpp"
#include "scaffold/scaffold.hpp"

#include <chrono>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

namespace geo_ssf::cli {

namespace {

struct GenerateOptions {
    std::string what;
    std::string name;
    std::optional<std::string> plural;
    std::optional<std::string> model_table;
    std::optional<std::string> model_key;
    std::optional<std::string> scope;
    std::optional<std::string> repository_path;
    std::optional<std::string> output_dir;
    bool dry_run = false;
    bool force = false;
};

std::string shown(const std::filesystem::path& path) {
    auto relative = path.lexically_relative(std::filesystem::current_path());
    return !relative.empty() && *relative.begin() != ".." ? relative.string() : path.string();
}

}  // namespace

Runner define_generate(CLI::App& app) {
    auto options = std::make_shared<GenerateOptions>();
    app.description("Scaffold a new replicable type: its registry and states migrations, database "
                    "dictionary entries and definition file.");
    app.add_option("what", options->what, "What to generate: replicable")
        ->required()
        ->check(CLI::IsMember({"replicable"}));
    app.add_option("name", options->name, "Type name: CoolWidget, cool_widget or \"Cool Widget\"")->required();
    app.add_option("--plural", options->plural, "Plural of NAME when English rules get it wrong");
    app.add_option("--model-table", options->model_table, "Model table in the main database (default: the plural)");
    app.add_option("--model-key", options->model_key,
                   "The model table's column that identifies a record: a unique, NOT NULL integer (default: id)");
    app.add_option("--repository-path", options->repository_path,
                   "Repository path under the storage root, over the model's columns "
                   "(default: <model table>/{KEY}.git, KEY the model key)");
    app.add_option("--scope", options->scope,
                   "SQL predicate over the model table's columns: only the records it matches replicate "
                   "(default: all)");
    app.add_option("--output-dir", options->output_dir,
                   "Write under this folder (default: the config file's folder, else the current one)");
    app.add_flag("--dry-run", options->dry_run, "Print what would be written; write nothing");
    app.add_flag("--force", options->force, "Overwrite an existing type of the same name");
    app.footer(R"(Examples:
  geo-ssf generate replicable CoolWidget
  geo-ssf generate replicable "Design Management Repository" --model-table design_management_repositories
  geo-ssf generate replicable SalesPerson --repository-path "people/{id}.git" --dry-run
  geo-ssf generate replicable Snippet --model-table snippet_repositories --model-key snippet_id

When a config names the main database, generate reads the model table there and refuses a
--model-key that is not a unique, NOT NULL integer column, a {column} of --repository-path the
table does not have, or a --scope PostgreSQL does not accept. With --dry-run, without a config,
or when the database or the table is not there yet, it warns and trusts the options.)");

    return [options](Invocation& invocation) {
        ScaffoldRequest request;
        request.name = options->name;
        request.plural = options->plural;
        request.model_table = options->model_table;
        request.model_key = options->model_key;
        request.repository_path = options->repository_path;
        request.scope = options->scope.value_or("");
        request.force = options->force;
        if (options->output_dir) {
            std::filesystem::path root = std::filesystem::absolute(*options->output_dir);
            request.docs_root = root;
            request.replicables_dir = root / "replicables";
            request.migrations_dir = root / "migrations";
        } else if (invocation.site) {
            const Config& config = invocation.site->config();
            request.docs_root = config.file.parent_path();
            request.replicables_dir = config.replicables_dir;
            request.migrations_dir = config.migrations_dir;
        } else {
            std::filesystem::path root = std::filesystem::current_path();
            request.docs_root = root;
            request.replicables_dir = root / "replicables";
            request.migrations_dir = root / "migrations";
        }

        Scaffold scaffold = plan_scaffold(request, templates_dir(), std::chrono::system_clock::now());
        if (options->dry_run)
            warn_model_table_unread(scaffold, "--dry-run reads no database");
        else if (invocation.site)
            check_against_model_table(scaffold, invocation.site->config().main_database);
        else
            warn_model_table_unread(scaffold, "no config file names a main database");
        if (options->dry_run) {
            for (const auto& file : scaffold.files)
                std::cout << "==> " << shown(file.path) << (file.exists ? " (would overwrite)" : " (would create)")
                          << " <==\n"
                          << file.content << "\n";
            return ExitStatus::ok;
        }
        write_scaffold(scaffold);
        for (const auto& file : scaffold.files)
            std::cout << (file.exists ? "overwrote " : "created ") << shown(file.path) << "\n";
        return ExitStatus::ok;
    };
}

}  // namespace geo_ssf::cli
