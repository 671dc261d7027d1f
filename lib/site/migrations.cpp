#include "site/migrations.hpp"

#include "site/database.hpp"
#include "common/error.hpp"

#include <algorithm>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>

namespace geo_ssf {

namespace {

// pg_advisory_lock key shared by every `geo-ssf migrate`: the bytes of "geo-ssf" as a number.
constexpr long long k_migrate_lock_key = 0x67656f2d737366LL;

// A table of geo-ssf's own name: an application's database (Rails) has a schema_migrations of
// its own, which geo-ssf never reads or writes.
const char* k_create_schema_migrations =
    "CREATE TABLE IF NOT EXISTS geo_ssf_schema_migrations ("
    " version text PRIMARY KEY,"
    " name text NOT NULL,"
    " applied_at timestamp with time zone NOT NULL DEFAULT now())";

// Whether the database has a schema_migrations that an earlier geo-ssf made (with its name and
// applied_at columns; Rails' has only version) and no table under the current name.
bool has_legacy_table(pqxx::transaction_base& tx) {
    return tx.exec1("SELECT to_regclass('geo_ssf_schema_migrations') IS NULL AND "
                    "(SELECT count(*) FROM pg_attribute WHERE attrelid = to_regclass('schema_migrations') "
                    "AND attname IN ('name', 'applied_at') AND NOT attisdropped) = 2")[0]
        .as<bool>();
}

// The table the applied migrations are recorded in, under its current or its earlier name;
// nullopt when there is none yet.
std::optional<std::string> schema_migrations_table(pqxx::transaction_base& tx) {
    if (has_legacy_table(tx))
        return "schema_migrations";
    if (tx.exec1("SELECT to_regclass('geo_ssf_schema_migrations') IS NOT NULL")[0].as<bool>())
        return "geo_ssf_schema_migrations";
    return std::nullopt;
}

// Takes over the table of an earlier geo-ssf under the current name, with what it records.
void take_over_legacy_table(pqxx::connection& connection) {
    pqxx::work tx(connection);
    if (!has_legacy_table(tx))
        return;
    tx.exec("ALTER TABLE schema_migrations RENAME TO geo_ssf_schema_migrations");
    tx.exec("ALTER TABLE geo_ssf_schema_migrations RENAME CONSTRAINT schema_migrations_pkey TO "
            "geo_ssf_schema_migrations_pkey");
    tx.commit();
}

// Releases the session-level advisory lock however the migration run ends.
class MigrateLock {
public:
    explicit MigrateLock(pqxx::connection& connection) : m_connection(connection) {
        pqxx::nontransaction(m_connection).exec("SELECT pg_advisory_lock(" + std::to_string(k_migrate_lock_key) + ")");
    }
    ~MigrateLock() {
        try {
            pqxx::nontransaction(m_connection).exec("SELECT pg_advisory_unlock(" + std::to_string(k_migrate_lock_key) + ")");
        } catch (...) {
            // The connection is gone, and the lock with it.
        }
    }
    MigrateLock(const MigrateLock&) = delete;
    MigrateLock& operator=(const MigrateLock&) = delete;

private:
    pqxx::connection& m_connection;
};

}  // namespace

const char* database_kind_name(DatabaseKind kind) { return kind == DatabaseKind::main ? "main" : "geo"; }

Migration read_migration_file(const std::filesystem::path& file, bool builtin) {
    static const std::regex file_name("^([0-9]{14})_([a-z0-9_]+)\\.sql$");
    std::string base = file.filename().string();
    std::smatch match;
    if (!std::regex_match(base, match, file_name))
        throw ConfigError(file.string() + ": a migration file is named <YYYYMMDDHHMMSS>_<name>.sql");
    std::ifstream in(file);
    if (!in)
        throw ConfigError(file.string() + ": cannot read the migration");
    std::stringstream text;
    text << in.rdbuf();
    std::string sql = text.str();

    const std::string up_marker = "-- migrate:up";
    const std::string down_marker = "-- migrate:down";
    size_t up = sql.find(up_marker);
    if (up == std::string::npos)
        throw ConfigError(file.string() + ": no \"-- migrate:up\" section");
    size_t down = sql.find(down_marker);
    if (down != std::string::npos && down < up)
        throw ConfigError(file.string() + ": \"-- migrate:down\" comes before \"-- migrate:up\"");

    Migration m;
    m.version = match[1];
    m.name = match[2];
    m.file = file;
    m.builtin = builtin;
    size_t up_start = up + up_marker.size();
    m.up_sql = sql.substr(up_start, down == std::string::npos ? std::string::npos : down - up_start);
    if (down != std::string::npos)
        m.down_sql = sql.substr(down + down_marker.size());
    if (m.up_sql.find_first_not_of(" \t\r\n") == std::string::npos)
        throw ConfigError(file.string() + ": the \"-- migrate:up\" section is empty");
    return m;
}

std::vector<Migration> discover_migrations(DatabaseKind kind, const std::filesystem::path& builtin_root,
                                           const std::filesystem::path& project_root) {
    std::vector<Migration> all;
    auto read_folder = [&](const std::filesystem::path& dir, bool builtin) {
        std::error_code ec;
        if (!std::filesystem::is_directory(dir, ec))
            return;
        for (const auto& entry : std::filesystem::directory_iterator(dir))
            if (entry.is_regular_file() && entry.path().extension() == ".sql")
                all.push_back(read_migration_file(entry.path(), builtin));
    };
    const char* sub = database_kind_name(kind);
    read_folder(builtin_root / sub, true);
    if (std::filesystem::weakly_canonical(project_root) != std::filesystem::weakly_canonical(builtin_root))
        read_folder(project_root / sub, false);
    std::sort(all.begin(), all.end(), [](const Migration& a, const Migration& b) { return a.version < b.version; });
    for (size_t i = 1; i < all.size(); ++i)
        if (all[i].version == all[i - 1].version)
            throw ConfigError(all[i].file.string() + ": version " + all[i].version + " is also used by " +
                              all[i - 1].file.string());
    return all;
}

std::vector<AppliedMigration> applied_migrations(pqxx::connection& connection) {
    pqxx::read_transaction tx(connection);
    auto table = schema_migrations_table(tx);
    std::vector<AppliedMigration> out;
    if (!table)
        return out;
    for (const auto& row : tx.exec("SELECT version, name, "
                                   "to_char(applied_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') "
                                   "FROM " + *table + " ORDER BY version"))
        out.push_back({row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<std::string>()});
    return out;
}

std::vector<Migration> pending_migrations(pqxx::connection& connection, const std::vector<Migration>& all) {
    std::set<std::string> applied;
    for (const auto& a : applied_migrations(connection))
        applied.insert(a.version);
    std::vector<Migration> out;
    for (const auto& m : all)
        if (!applied.count(m.version))
            out.push_back(m);
    return out;
}

std::vector<Migration> apply_pending_migrations(pqxx::connection& connection, const std::vector<Migration>& all,
                                                const std::function<void(const Migration&)>& on_applied) {
    MigrateLock lock(connection);
    take_over_legacy_table(connection);
    pqxx::nontransaction(connection).exec(k_create_schema_migrations);
    std::vector<Migration> applied;
    for (const auto& m : pending_migrations(connection, all)) {
        try {
            pqxx::work tx(connection);
            tx.exec(m.up_sql);
            tx.exec_params("INSERT INTO geo_ssf_schema_migrations (version, name) VALUES ($1, $2)", m.version, m.name);
            tx.commit();
        } catch (const pqxx::broken_connection&) {
            throw;
        } catch (const pqxx::sql_error& e) {
            throw DatabaseError("migration " + m.file.string() + " failed, nothing of it was applied: " +
                                describe_database_error(e));
        }
        applied.push_back(m);
        on_applied(m);
    }
    return applied;
}

}  // namespace geo_ssf
