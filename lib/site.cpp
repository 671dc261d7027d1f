#include "site.hpp"

#include "database.hpp"
#include "error.hpp"

namespace geo_ssf {

Site::Site(Config config) : m_config(std::move(config)) {}
Site::~Site() = default;

pqxx::connection& Site::main_database() {
    if (!m_main)
        m_main = connect_database(m_config.main_database, "main",
                                  is_primary() ? Access::read_write : Access::read_only);
    return *m_main;
}

pqxx::connection& Site::geo_database() {
    if (!m_geo) {
        if (!m_config.geo_database)
            throw ConfigError(m_config.file.string() + ": databases.geo: is not set; only a secondary has a tracking database");
        m_geo = connect_database(*m_config.geo_database, "geo", Access::read_write);
    }
    return *m_geo;
}

}  // namespace geo_ssf
