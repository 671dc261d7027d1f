// One site as a command sees it: its config and its database connections, opened on first use.
#pragma once

#include "site/config.hpp"
#include "site/database.hpp"
#include "site/migrations.hpp"
#include "site/site_role.hpp"

#include <pqxx/pqxx>

#include <memory>
#include <optional>
#include <string>

namespace geo_ssf {

class Site {
public:
    explicit Site(Config config);
    ~Site();

    const Config& config() const { return m_config; }
    // What the site acts as: the config's site.role until set_role gives the role its databases
    // record (a promoted secondary is the primary; site/site_role.hpp).
    Role role() const { return m_role ? m_role->role : m_config.role; }
    bool is_primary() const { return role() == Role::primary; }
    const std::optional<SiteRole>& resolved_role() const { return m_role; }
    // Sets the role the databases record. A main database opened read-only for a secondary that
    // is the primary now is let write.
    void set_role(SiteRole role);

    // The main database: read-write on the primary, read-only on a secondary, which must never
    // write to the primary's data.
    pqxx::connection& main_database();
    // The tracking database; a ConfigError on a site that has none configured.
    pqxx::connection& geo_database();

    // The database this role keeps its own rows in: the main database on a primary (states
    // tables), the tracking database on a secondary (registries).
    DatabaseKind role_database_kind() const { return is_primary() ? DatabaseKind::main : DatabaseKind::geo; }
    pqxx::connection& role_database() { return database(role_database_kind()); }
    pqxx::connection& database(DatabaseKind kind) { return kind == DatabaseKind::main ? main_database() : geo_database(); }

    // Opens the databases this role uses (main; and geo on a secondary) at the same time:
    // each connection costs round trips of authentication, which are then paid once.
    void open_databases();

    // Closes both connections; the next use connects again (the follow mode after a lost
    // database). The advisory locks of the sessions go with them.
    void close_databases();

    // The DatabaseError for E, a connection lost while this site used its databases, naming the
    // one that is gone ("lost the connection to the tracking database (databases.geo, database
    // app_geo): ..."); nullopt when neither of its connections is known to be broken.
    std::optional<DatabaseError> lost_connection_error(const pqxx::failure& e) const;

    // A ConfigError unless every migration of KIND is applied: commands that use the schema
    // say so plainly instead of failing on a missing table.
    void require_migrated(DatabaseKind kind);

private:
    Config m_config;
    std::optional<SiteRole> m_role;
    std::unique_ptr<pqxx::connection> m_main;
    std::unique_ptr<pqxx::connection> m_geo;
    // Declared after the connections, so that they go first.
    std::unique_ptr<NoticeLog> m_main_notices, m_geo_notices;
    std::string m_main_dbname, m_geo_dbname;  // libpq's database names, read while connected
};

}  // namespace geo_ssf
