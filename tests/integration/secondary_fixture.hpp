// A primary and a secondary on one throwaway server: the secondary reads the primary's main
// database through a role that may only SELECT, so any write to it would fail the test.
#pragma once

#include "primary_fixture.hpp"

namespace geo_ssf::test {

struct SecondaryFixture : PrimaryFixture {
    TestDatabase geo_db;
    std::string reader;
    std::filesystem::path secondary_config;
    std::filesystem::path secondary_storage;

    SecondaryFixture() {
        reader = main_db.name() + "_reader";
        main_db.exec("CREATE ROLE " + reader + " LOGIN PASSWORD 'reader'");
        main_db.exec("GRANT SELECT ON ALL TABLES IN SCHEMA public TO " + reader);
        secondary_storage = dir / "secondary-repositories";
        std::filesystem::create_directories(secondary_storage);
        secondary_config = dir / "secondary.yml";
        write_file(secondary_config, "site: {name: secondary, role: secondary}\n"
                                     "databases:\n  main: \"" + main_db.conninfo() + " user=" + reader +
                                         " password=reader\"\n  geo: \"" + geo_db.conninfo() + "\"\n"
                                     "storage: {root: secondary-repositories, primary_url: \"file://" +
                                         storage.string() + "\"}\n");
        RunResult migrated = secondary({"migrate"});
        REQUIRE_MESSAGE(migrated.status == 0, migrated.err);
    }

    ~SecondaryFixture() {
        try {
            main_db.exec("DROP OWNED BY " + reader);
            main_db.exec("DROP ROLE " + reader);
        } catch (...) {
        }
    }

    RunResult secondary(std::vector<std::string> args, const RunOptions& options = {}) {
        args.insert(args.begin(), {"-c", secondary_config.string()});
        return run_geo_ssf(args, options);
    }

    std::filesystem::path copy(long long id) const {
        return secondary_storage / "cool_widgets" / (std::to_string(id) + ".git");
    }

    std::string registry(long long id, const std::string& column) {
        return geo_db.scalar("SELECT (" + column + ")::text FROM cool_widget_registry WHERE cool_widget_id = " +
                             std::to_string(id));
    }

    long long registry_count(const std::string& where) {
        return std::stoll(geo_db.scalar("SELECT count(*) FROM cool_widget_registry WHERE " + where));
    }
};

}  // namespace geo_ssf::test
