#include "site/site.hpp"

#include "site/database.hpp"
#include "common/error.hpp"
#include "common/paths.hpp"

#include <future>
#include <utility>
#include <vector>

namespace geo_ssf {

Site::Site(Config config) : m_config(std::move(config)) {}
Site::~Site() = default;

void Site::set_role(SiteRole role) {
    m_role = std::move(role);
    if (m_main && is_primary() && m_config.role != Role::primary)
        allow_writes(*m_main);
}

pqxx::connection& Site::main_database() {
    if (!m_main) {
        m_main = connect_database(m_config.main_database, "main",
                                  is_primary() ? Access::read_write : Access::read_only);
        m_main_dbname = m_main->dbname();
        m_main_notices = std::make_unique<NoticeLog>(*m_main, "main");
    }
    return *m_main;
}

pqxx::connection& Site::geo_database() {
    if (!m_geo) {
        if (!m_config.geo_database)
            throw ConfigError(m_config.file.string() + ": databases.geo: is not set; only a secondary has a tracking database");
        m_geo = connect_database(*m_config.geo_database, "geo", Access::read_write);
        m_geo_dbname = m_geo->dbname();
        m_geo_notices = std::make_unique<NoticeLog>(*m_geo, "tracking");
    }
    return *m_geo;
}

void Site::open_databases() {
    if (is_primary() || m_main || m_geo) {
        main_database();
        if (!is_primary())
            geo_database();
        return;
    }
    auto main = std::async(std::launch::async, [this] { main_database(); });
    geo_database();
    main.get();
}

void Site::close_databases() {
    // The notice handlers go before the connections they are attached to.
    m_main_notices.reset();
    m_geo_notices.reset();
    m_main.reset();
    m_geo.reset();
}

std::optional<DatabaseError> Site::lost_connection_error(const pqxx::failure& e) const {
    // libpq marks a connection bad when a statement finds it gone; the other one, unused since,
    // still looks open even if its server stopped too.
    std::vector<std::string> lost;
    if (m_main && !m_main->is_open())
        lost.push_back("main database (databases.main, database " + m_main_dbname + ")");
    if (m_geo && !m_geo->is_open())
        lost.push_back("tracking database (databases.geo, database " + m_geo_dbname + ")");
    if (lost.empty())
        return std::nullopt;
    std::string which = lost.size() == 1 ? "the connection to the " + lost[0]
                                         : "the connections to the " + lost[0] + " and the " + lost[1];
    return DatabaseError("lost " + which + ": " + describe_database_error(e));
}

void Site::require_migrated(DatabaseKind kind) {
    pqxx::connection& db = kind == DatabaseKind::main ? main_database() : geo_database();
    auto pending = pending_migrations(db, discover_migrations(kind, builtin_migrations_dir(), m_config.migrations_dir));
    if (!pending.empty())
        throw ConfigError(std::string("the ") + database_kind_name(kind) + " database has " +
                          std::to_string(pending.size()) + " pending migration(s), the first " + pending.front().version +
                          "_" + pending.front().name + "; run 'geo-ssf migrate'" +
                          (kind == DatabaseKind::main && !is_primary() ? " on the primary" : ""));
}

}  // namespace geo_ssf
