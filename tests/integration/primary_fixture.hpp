// A primary site on a throwaway database: CoolWidget generated and migrated, records with
// real repositories under the storage root.
#pragma once

#include "test_support.hpp"

#include <doctest/doctest.h>

namespace geo_ssf::test {

struct PrimaryFixture {
    TempDir dir;
    TestDatabase main_db;
    std::filesystem::path config;
    std::filesystem::path storage;
    RepositoryFactory repositories{dir.path()};

    explicit PrimaryFixture(const std::string& extra_config = "") {
        config = write_config(dir.path(), "primary", main_db.conninfo(), std::nullopt, extra_config);
        storage = dir / "repositories";
        REQUIRE(run({"generate", "replicable", "CoolWidget"}).status == 0);
        main_db.exec("CREATE TABLE cool_widgets (id bigserial PRIMARY KEY, name text)");
        RunResult migrated = run({"migrate"});
        REQUIRE_MESSAGE(migrated.status == 0, migrated.err);
    }

    RunResult run(std::vector<std::string> args, const RunOptions& options = {}) {
        args.insert(args.begin(), {"-c", config.string()});
        return run_geo_ssf(args, options);
    }

    std::filesystem::path repository(long long id) const {
        return storage / "cool_widgets" / (std::to_string(id) + ".git");
    }

    // A new commit on main in the repository of record ID, as a push would leave it.
    void push(long long id) { commit_on_main(repository(id)); }

    // Records FIRST..LAST, each with its repository.
    void add_records(long long first, long long last) {
        main_db.exec("INSERT INTO cool_widgets (id) SELECT generate_series(" + std::to_string(first) + ", " +
                     std::to_string(last) + ")");
        for (long long id = first; id <= last; ++id)
            repositories.create(storage, "cool_widgets/" + std::to_string(id) + ".git", id);
    }

    std::string state_of(long long id, const std::string& column) {
        return main_db.scalar("SELECT (" + column + ")::text FROM cool_widget_states WHERE cool_widget_id = " +
                              std::to_string(id));
    }

    long long count(const std::string& where) {
        return std::stoll(main_db.scalar("SELECT count(*) FROM cool_widget_states WHERE " + where));
    }
};

}  // namespace geo_ssf::test
