#include "scaffold/scaffold.hpp"

#include "common/time_words.hpp"

#include "common/error.hpp"
#include "db/model_table.hpp"
#include "site/database.hpp"
#include "site/replicable.hpp"

#include <kainjow/mustache.hpp>
#include <spdlog/spdlog.h>

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <fstream>
#include <memory>
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

std::string checked_model_key(const std::optional<std::string>& option) {
    if (!option)
        return "id";
    if (!is_sql_identifier(*option))
        throw UsageError("invalid --model-key \"" + printable(*option) +
                         "\": expected a lower-case SQL identifier of at most 63 bytes");
    if (is_reserved_sql_word(*option))
        throw UsageError("invalid --model-key \"" + *option + "\": it is an SQL reserved word");
    return *option;
}

// SCOPE as the inside of a YAML double-quoted scalar.
std::string yaml_quoted_scope(const std::string& scope) {
    std::string out;
    for (char c : scope) {
        if (static_cast<unsigned char>(c) < 0x20)
            throw UsageError("invalid --scope: it may not contain control characters; write it on one line");
        if (c == '"' || c == '\\')
            out += '\\';
        out += c;
    }
    return out;
}

// The option of `generate` that sets the definition key KEY.
std::string option_of(const std::string& key) {
    std::string option = "--" + key;
    std::replace(option.begin(), option.end(), '_', '-');
    return option;
}

std::string option_value(const Replicable& r, const std::string& key) {
    if (key == "model_key")
        return r.model_key;
    if (key == "repository_path")
        return r.repository_path.text();
    return r.scope;
}

}  // namespace

Scaffold plan_scaffold(const ScaffoldRequest& request, const std::filesystem::path& templates,
                       WallClock::time_point now) {
    Scaffold scaffold;
    scaffold.names = derive_names(request.name, request.plural);
    scaffold.schema = derive_schema_names(scaffold.names, request.model_table);
    const Names& n = scaffold.names;
    const SchemaNames& s = scaffold.schema;

    std::string model_key = checked_model_key(request.model_key);
    std::string repository_path = request.repository_path.value_or(s.model_table + "/{" + model_key + "}.git");
    Replicable& definition = scaffold.definition;
    try {
        definition.repository_path = RepositoryPathTemplate::parse(repository_path);
    } catch (const ConfigError& e) {
        throw UsageError("invalid --repository-path \"" + repository_path + "\": " + e.what());
    }
    definition.name = n.singular;
    definition.plural = n.plural;
    definition.class_name = n.class_name;
    definition.title = n.title;
    definition.title_plural = n.title_plural;
    definition.model_table = s.model_table;
    definition.model_key = model_key;
    definition.states_table = s.states_table;
    definition.registry_table = s.registry_table;
    definition.foreign_key = s.foreign_key;
    definition.scope = request.scope;
    definition.file = request.replicables_dir / (n.singular + ".yml");

    kainjow::mustache::data data;
    data.set("name", n.singular);
    data.set("plural", n.plural);
    data.set("title", n.title);
    data.set("title_plural", n.title_plural);
    data.set("class_name", n.class_name);
    data.set("camel", n.camel);
    data.set("repository_path", repository_path);
    data.set("model_table", s.model_table);
    data.set("model_key", model_key);
    data.set("scope", yaml_quoted_scope(request.scope));
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

    std::vector<std::pair<std::filesystem::path, const char*>> outputs = {
        {migration_path(geo, "geo", registry_migration), "registry_migration.sql.mustache"},
        {migration_path(main, "main", states_migration), "states_migration.sql.mustache"},
        {request.docs_root / "db" / "geo" / "docs" / (s.registry_table + ".yml"), "registry_dictionary.yml.mustache"},
        {request.docs_root / "db" / "docs" / (s.states_table + ".yml"), "states_dictionary.yml.mustache"},
        {definition.file, "replicable.yml.mustache"},
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

void warn_model_table_unread(const Scaffold& scaffold, const std::string& why) {
    const Replicable& r = scaffold.definition;
    spdlog::warn("{}; model_key {}, repository_path and scope are trusted without reading {} (geo-ssf check tells "
                 "whether they fit once it can)",
                 why, r.model_key, r.model_table);
}

void check_against_model_table(const Scaffold& scaffold, const std::string& main_database) {
    const Replicable& r = scaffold.definition;
    std::unique_ptr<pqxx::connection> connection;
    try {
        connection = connect_database(main_database, "main", Access::read_only);
    } catch (const DatabaseError& e) {
        warn_model_table_unread(scaffold, e.what());
        return;
    }
    pqxx::read_transaction tx(*connection);
    if (!model_table_exists(tx, r)) {
        warn_model_table_unread(scaffold, r.model_table + " does not exist in the main database yet");
        return;
    }
    if (auto misfit = definition_misfit(tx, r))
        throw UsageError("invalid " + option_of(misfit->key) + " \"" + printable(option_value(r, misfit->key)) +
                         "\": " + misfit->reason + "; nothing was written");
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
