// A secondary whose databases.main is a streaming hot standby of the primary's cluster, as in
// production: a second PostgreSQL made with pg_basebackup -R from the cluster the tests run on,
// read through a role that may only SELECT.
#pragma once

#include "secondary_fixture.hpp"
#include "servers.hpp"

#include <memory>
#include <string>
#include <vector>

namespace geo_ssf::test {

// A primary and a secondary whose main database is a hot standby of the primary's.
struct StandbySite : SecondaryFixture {
    std::unique_ptr<StandbyServer> standby;

    explicit StandbySite(const std::vector<std::string>& settings = {}) {
        // The reader may not even make temporary tables: it has no write right anywhere.
        main_db.exec("REVOKE TEMPORARY ON DATABASE " + main_db.name() + " FROM PUBLIC");
        standby = std::make_unique<StandbyServer>(settings);
        std::string text = read_file(secondary_config);
        std::string primary = "main: \"" + main_db.conninfo() + " ";
        auto at = text.find(primary);
        REQUIRE(at != std::string::npos);
        text.replace(at, primary.size(), "main: \"" + standby->conninfo(main_db.name()) + " ");
        write_file(secondary_config, text);
    }

    // SQL on the standby's copy of the main database.
    std::string on_standby(const std::string& sql) { return standby->scalar(sql, main_db.name()); }

    std::string event_cursor() { return geo_db.scalar("SELECT max(event_id) FROM event_log_states"); }
};

}  // namespace geo_ssf::test
