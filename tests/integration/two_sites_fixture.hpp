// A primary and a secondary on throwaway databases, sharing one folder of replicables and
// migrations: CoolWidget and Gadget generated, both databases migrated. Rows are seeded with
// SQL (the secondary's registry too), so that status, show and list can be checked against
// counts the tests compute themselves. The tests of generate, migrate and check start from the
// two configurations alone (TwoSitesSetup::configured).
#pragma once

#include "exposition.hpp"
#include "one_line_error.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>

#include <algorithm>

namespace geo_ssf::test {

enum class TwoSitesSetup { types_migrated, configured };

struct TwoSitesFixture {
    TempDir dir;
    TestDatabase main_db;
    TestDatabase geo_db;
    std::filesystem::path primary;
    std::filesystem::path secondary;

    explicit TwoSitesFixture(const std::string& extra_config = "",
                             TwoSitesSetup setup = TwoSitesSetup::types_migrated) {
        primary = dir / "primary.yml";
        secondary = dir / "secondary.yml";
        write_file(primary, "site: {name: primary-site, role: primary}\n"
                            "databases: {main: \"" + main_db.conninfo() + "\"}\n"
                            "storage: {root: primary-repositories}\n" + extra_config);
        write_file(secondary, "site: {name: secondary-site, role: secondary}\n"
                              "databases: {main: \"" + main_db.conninfo() + "\", geo: \"" + geo_db.conninfo() + "\"}\n"
                              "storage: {root: secondary-repositories, primary_url: \"file://" +
                                  (dir / "primary-repositories").string() + "\"}\n" + extra_config);
        std::filesystem::create_directories(dir / "primary-repositories");
        std::filesystem::create_directories(dir / "secondary-repositories");
        if (setup == TwoSitesSetup::configured)
            return;
        REQUIRE(primary_run({"generate", "replicable", "CoolWidget"}).status == 0);
        REQUIRE(primary_run({"generate", "replicable", "Gadget"}).status == 0);
        main_db.exec("CREATE TABLE cool_widgets (id bigserial PRIMARY KEY, name text)");
        main_db.exec("CREATE TABLE gadgets (id bigserial PRIMARY KEY, name text)");
        RunResult migrated = primary_run({"migrate"});
        REQUIRE_MESSAGE(migrated.status == 0, migrated.err);
        migrated = secondary_run({"migrate"});
        REQUIRE_MESSAGE(migrated.status == 0, migrated.err);
    }

    RunResult primary_run(std::vector<std::string> args, const RunOptions& options = {}) {
        args.insert(args.begin(), {"-c", primary.string()});
        return run_geo_ssf(args, options);
    }
    RunResult secondary_run(std::vector<std::string> args, const RunOptions& options = {}) {
        args.insert(args.begin(), {"-c", secondary.string()});
        return run_geo_ssf(args, options);
    }

    // CoolWidget generated and its model table created, nothing migrated (TwoSitesSetup::configured).
    void generate_cool_widget() {
        REQUIRE(primary_run({"generate", "replicable", "CoolWidget"}).status == 0);
        main_db.exec("CREATE TABLE cool_widgets (id bigserial PRIMARY KEY, name text)");
    }

    // Sets KEY: VALUE in a replicable's definition file.
    void set_definition(const std::string& name, const std::string& key, const std::string& value) {
        auto file = dir / "replicables" / (name + ".yml");
        std::string text = read_file(file);
        auto at = text.find("\n" + key + ":");
        REQUIRE(at != std::string::npos);
        auto end = text.find('\n', at + 1);
        text.replace(at + 1, end - at - 1, key + ": " + value);
        write_file(file, text);
    }
};

// The two configurations alone, for the tests of generate, migrate and check.
struct TwoConfiguredSites : TwoSitesFixture {
    TwoConfiguredSites() : TwoSitesFixture("", TwoSitesSetup::configured) {}
};

}  // namespace geo_ssf::test
