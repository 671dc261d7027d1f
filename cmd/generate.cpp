// geo-ssf generate replicable NAME: scaffold a new replicable type.
#include "command.hpp"
#include "common/error.hpp"
#include "common/paths.hpp"
#include "scaffold/scaffold.hpp"

#include <iostream>

namespace geo_ssf::cli {

namespace {

struct GenerateOptions {
    std::string what;
    std::string name;
    std::optional<std::string> plural;
    std::optional<std::string> model_table;
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
    app.add_option("--repository-path", options->repository_path,
                   "Repository path under the storage root, over the model's columns (default: <model table>/{id}.git)");
    app.add_option("--output-dir", options->output_dir,
                   "Write under this folder (default: the config file's folder, else the current one)");
    app.add_flag("--dry-run", options->dry_run, "Print what would be written; write nothing");
    app.add_flag("--force", options->force, "Overwrite an existing type of the same name");
    app.footer(R"(Examples:
  geo-ssf generate replicable CoolWidget
  geo-ssf generate replicable "Design Management Repository" --model-table design_management_repositories
  geo-ssf generate replicable SalesPerson --repository-path "people/{id}.git" --dry-run)");

    return [options](Invocation& invocation) {
        ScaffoldRequest request;
        request.name = options->name;
        request.plural = options->plural;
        request.model_table = options->model_table;
        request.repository_path = options->repository_path;
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
        if (options->dry_run) {
            for (const auto& file : scaffold.files)
                std::cout << "==> " << shown(file.path) << (file.exists ? " (would overwrite)" : " (would create)")
                          << " <==\n"
                          << file.content << "\n";
            return 0;
        }
        write_scaffold(scaffold);
        for (const auto& file : scaffold.files)
            std::cout << (file.exists ? "overwrote " : "created ") << shown(file.path) << "\n";
        return 0;
    };
}

}  // namespace geo_ssf::cli
