// `geo-ssf generate replicable`: the files that make a new replicable type, rendered from
// templates/ and written all together or not at all.
#pragma once

#include "site/names.hpp"
#include "site/replicable.hpp"

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace geo_ssf {

struct ScaffoldRequest {
    std::string name;
    std::optional<std::string> plural;
    std::optional<std::string> model_table;
    std::optional<std::string> model_key;        // default "id"
    std::optional<std::string> repository_path;  // default "<model table>/{<model key>}.git"
    std::string scope;                           // default: every record
    std::filesystem::path docs_root;        // gets db/geo/docs/ and db/docs/
    std::filesystem::path replicables_dir;
    std::filesystem::path migrations_dir;   // gets geo/ and main/
    bool force = false;                     // overwrite an existing type of that name
};

struct ScaffoldFile {
    std::filesystem::path path;
    std::string content;
    bool exists = false;  // and will be overwritten
};

struct Scaffold {
    Names names;
    SchemaNames schema;
    std::vector<ScaffoldFile> files;
    Replicable definition;  // as the definition file will load
};

// Renders every file without touching the disk. Throws UsageError for a bad NAME or option,
// or when the type exists and FORCE is not set. A forced run keeps the existing migrations'
// file names, so their versions do not change. New migration versions are NOW (UTC) or one
// second after the newest migration already there, whichever is later.
Scaffold plan_scaffold(const ScaffoldRequest& request, const std::filesystem::path& templates,
                       std::chrono::system_clock::time_point now);

// Reads the new type's model table in the main database (MAIN_DATABASE, a libpq connection
// string): a UsageError naming the option and the table's column when the type would not fit
// it (definition_misfit). When the table cannot be read (the database is unreachable, or the
// application has not created the table yet) a warning says so and the options are trusted.
void check_against_model_table(const Scaffold& scaffold, const std::string& main_database);

// The warning that the options were trusted without reading the model table, and WHY.
void warn_model_table_unread(const Scaffold& scaffold, const std::string& why);

// Writes every file to a temporary name first and renames them into place only once all were
// written, so a failure leaves no partial type behind. Throws RuntimeError.
void write_scaffold(const Scaffold& scaffold);

}  // namespace geo_ssf
