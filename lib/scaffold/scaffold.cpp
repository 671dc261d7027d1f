#include "scaffold/scaffold.hpp"

#include "common/time_words.hpp"

#include "common/error.hpp"
#include "site/replicable.hpp"

#include <kainjow/mustache.hpp>

#include <unistd.h>

#include <cstring>
#include <ctime>
#include <fstream>
#include <regex>
#include <sstream>

namespace geo_ssf {

namespace {

using WallClock = std::chrono::system_clock;  // migration versions are UTC timestamps

std::string read_text(const std::filesystem::path& file) {
    std::ifstream in(file);
    if (!in)
        throw RuntimeError("cannot read template " + file.string());
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

std::string render(const std::filesystem::path& template_file, const kainjow::mustache::data& data) {
    kainjow::mustache::mustache tmpl(read_text(template_file));
    if (!tmpl.is_valid())
        throw RuntimeError("template " + template_file.string() + " is broken: " + tmpl.error_message());
    return tmpl.render(data);
}

std::string format_version(WallClock::time_point when) {
    return format_utc(when, "%Y%m%d%H%M%S");
}

WallClock::time_point parse_version(const std::string& version) {
    std::tm utc{};
    strptime(version.c_str(), "%Y%m%d%H%M%S", &utc);
    return WallClock::from_time_t(timegm(&utc));
}

struct MigrationFolder {
    std::optional<std::filesystem::path> existing;  // this type's migration, if there is one
    std::string newest_version;
};

MigrationFolder scan_migrations(const std::filesystem::path& dir, const std::string& migration_name) {
    static const std::regex file_name("^([0-9]{14})_([a-z0-9_]+)\\.sql$");
    MigrationFolder folder;
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec))
        return folder;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        std::string base = entry.path().filename().string();
        std::smatch match;
        if (!std::regex_match(base, match, file_name))
            continue;
        folder.newest_version = std::max(folder.newest_version, std::string(match[1]));
        if (match[2] == migration_name)
            folder.existing = entry.path();
    }
    return folder;
}

std::string next_version(const MigrationFolder& folder, WallClock::time_point now) {
    std::string version = format_version(now);
    if (!folder.newest_version.empty() && version <= folder.newest_version)
        version = format_version(parse_version(folder.newest_version) + std::chrono::seconds(1));
    return version;
}

bool file_exists(const std::filesystem::path& p) {
    std::error_code ec;
    return std::filesystem::exists(p, ec);
}

}  // namespace

Scaffold plan_scaffold(const ScaffoldRequest& request, const std::filesystem::path& templates,
                       WallClock::time_point now) {
    Scaffold scaffold;
    scaffold.names = derive_names(request.name, request.plural);
    scaffold.schema = derive_schema_names(scaffold.names, request.model_table);
    const Names& n = scaffold.names;
    const SchemaNames& s = scaffold.schema;

    std::string repository_path = request.repository_path.value_or(s.model_table + "/{id}.git");
    try {
        RepositoryPathTemplate::parse(repository_path);
    } catch (const ConfigError& e) {
        throw UsageError("invalid --repository-path \"" + repository_path + "\": " + e.what());
    }

    kainjow::mustache::data data;
    data.set("name", n.singular);
    data.set("plural", n.plural);
    data.set("title", n.title);
    data.set("title_plural", n.title_plural);
    data.set("class_name", n.class_name);
    data.set("camel", n.camel);
    data.set("repository_path", repository_path);
    data.set("model_table", s.model_table);
    data.set("registry_table", s.registry_table);
    data.set("states_table", s.states_table);
    data.set("foreign_key", s.foreign_key);
    data.set("registry_foreign_key_index", s.registry_foreign_key_index);
    data.set("registry_retry_at_index", s.registry_retry_at_index);
    data.set("registry_state_index", s.registry_state_index);
    data.set("registry_failed_verification_index", s.registry_failed_verification_index);
    data.set("registry_needs_verification_index", s.registry_needs_verification_index);
    data.set("registry_pending_verification_index", s.registry_pending_verification_index);
    data.set("registry_missing_on_primary_index", s.registry_missing_on_primary_index);
    data.set("registry_started_verification_index", s.registry_started_verification_index);
    data.set("registry_verification_failure_check", s.registry_verification_failure_check);
    data.set("registry_last_sync_failure_check", s.registry_last_sync_failure_check);
    data.set("states_foreign_key_index", s.states_foreign_key_index);
    data.set("states_foreign_key_constraint", s.states_foreign_key_constraint);
    data.set("states_verification_state_index", s.states_verification_state_index);
    data.set("states_pending_verification_index", s.states_pending_verification_index);
    data.set("states_failed_verification_index", s.states_failed_verification_index);
    data.set("states_needs_verification_index", s.states_needs_verification_index);
    data.set("states_succeeded_verification_index", s.states_succeeded_verification_index);
    data.set("states_verification_failure_check", s.states_verification_failure_check);

    std::string registry_migration = "create_" + s.registry_table;
    std::string states_migration = "create_" + s.states_table;
    MigrationFolder geo = scan_migrations(request.migrations_dir / "geo", registry_migration);
    MigrationFolder main = scan_migrations(request.migrations_dir / "main", states_migration);
    auto migration_path = [&](const MigrationFolder& folder, const char* sub, const std::string& name) {
        return folder.existing ? *folder.existing
                               : request.migrations_dir / sub / (next_version(folder, now) + "_" + name + ".sql");
    };

    std::filesystem::path definition = request.replicables_dir / (n.singular + ".yml");
    std::vector<std::pair<std::filesystem::path, const char*>> outputs = {
        {migration_path(geo, "geo", registry_migration), "registry_migration.sql.mustache"},
        {migration_path(main, "main", states_migration), "states_migration.sql.mustache"},
        {request.docs_root / "db" / "geo" / "docs" / (s.registry_table + ".yml"), "registry_dictionary.yml.mustache"},
        {request.docs_root / "db" / "docs" / (s.states_table + ".yml"), "states_dictionary.yml.mustache"},
        {definition, "replicable.yml.mustache"},
    };

    if (!request.force) {
        for (const auto& [path, unused] : outputs) {
            (void)unused;
            if (file_exists(path))
                throw UsageError("replicable " + n.singular + " already exists (" + path.string() +
                                 "); use --force to overwrite it");
        }
    }
    for (const auto& [path, template_name] : outputs)
        scaffold.files.push_back({path, render(templates / template_name, data), file_exists(path)});
    return scaffold;
}

void write_scaffold(const Scaffold& scaffold) {
    std::vector<std::pair<std::filesystem::path, std::filesystem::path>> staged;  // temporary, final
    auto discard = [&] {
        std::error_code ec;
        for (const auto& [temporary, final_path] : staged)
            std::filesystem::remove(temporary, ec);
    };
    try {
        for (const auto& file : scaffold.files) {
            std::filesystem::create_directories(file.path.parent_path());
            std::filesystem::path temporary = file.path;
            temporary += ".tmp." + std::to_string(getpid());
            staged.emplace_back(temporary, file.path);
            std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
            out << file.content;
            out.close();
            if (!out)
                throw RuntimeError("cannot write " + temporary.string() + ": " + std::strerror(errno));
        }
        for (const auto& [temporary, final_path] : staged)
            std::filesystem::rename(temporary, final_path);
    } catch (const std::filesystem::filesystem_error& e) {
        discard();
        throw RuntimeError(e.code().message() + ": " + e.path1().string());
    } catch (...) {
        discard();
        throw;
    }
}

}  // namespace geo_ssf
