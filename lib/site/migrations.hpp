// Schema migrations: geo-ssf's own (the event log and its cursor) and the project's generated
// ones, applied in version order, each in its own transaction, recorded in geo_ssf_schema_migrations.
#pragma once

#include <pqxx/pqxx>

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace geo_ssf {

enum class DatabaseKind { main, geo };

const char* database_kind_name(DatabaseKind kind);  // "main" or "geo"

struct Migration {
    std::string version;  // YYYYMMDDHHMMSS
    std::string name;     // create_cool_widget_registry
    std::filesystem::path file;
    bool builtin = false;  // part of geo-ssf itself rather than of the project
    std::string up_sql;
    std::string down_sql;
};

// Reads <version>_<name>.sql with its "-- migrate:up" and "-- migrate:down" sections.
// Throws ConfigError naming the file when it is not such a file.
Migration read_migration_file(const std::filesystem::path& file, bool builtin);

// Every migration of KIND: BUILTIN_ROOT/<kind>/ and PROJECT_ROOT/<kind>/, by version.
// Two files with one version are a ConfigError.
std::vector<Migration> discover_migrations(DatabaseKind kind, const std::filesystem::path& builtin_root,
                                           const std::filesystem::path& project_root);

struct AppliedMigration {
    std::string version;
    std::string name;
    std::string applied_at;  // ISO 8601 in UTC, to the second: "2026-03-12T09:45:01Z"
};

// What geo_ssf_schema_migrations records (or, before migrate takes it over, the schema_migrations
// table of an earlier geo-ssf), oldest first; empty when there is no such table yet.
// Reads only, so it works on a read-only connection.
std::vector<AppliedMigration> applied_migrations(pqxx::connection& connection);

// The migrations of ALL that are not recorded as applied.
std::vector<Migration> pending_migrations(pqxx::connection& connection, const std::vector<Migration>& all);

// Applies every pending migration of ALL, in version order, each in its own transaction,
// holding an advisory lock so that concurrent runs apply each migration once. ON_APPLIED is
// called after each commit. A failing migration is rolled back and reported as a DatabaseError
// naming its file; the ones before it stay applied.
std::vector<Migration> apply_pending_migrations(pqxx::connection& connection, const std::vector<Migration>& all,
                                                const std::function<void(const Migration&)>& on_applied);

}  // namespace geo_ssf
