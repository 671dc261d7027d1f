// An installed geo-ssf finds its own templates and migrations, wherever it is run from.
#include "test_support.hpp"

#include <doctest/doctest.h>

#include <cstdlib>

using namespace geo_ssf::test;

TEST_SUITE("install") {

TEST_CASE("install: the installed binary uses the installed templates and migrations") {
    const char* build_root = std::getenv("GEO_SSF_BUILD_ROOT");
    REQUIRE_MESSAGE(build_root, "GEO_SSF_BUILD_ROOT is not set (meson test sets it)");
    TempDir dest;
    RunResult installed = run_program("meson", {"install", "-C", build_root, "--no-rebuild", "--destdir", dest.path().string()});
    REQUIRE_MESSAGE(installed.status == 0, (installed.out + installed.err));

    std::filesystem::path binary, share;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(dest.path())) {
        if (entry.path().filename() == "geo-ssf" && entry.path().parent_path().filename() == "bin")
            binary = entry.path();
        if (entry.path().filename() == "geo-ssf" && entry.path().parent_path().filename() == "share")
            share = entry.path();
    }
    REQUIRE(!binary.empty());
    REQUIRE(std::filesystem::exists(share / "templates" / "registry_migration.sql.mustache"));
    REQUIRE(std::filesystem::exists(share / "migrations" / "main" / "20260101000000_create_geo_events.sql"));
    CHECK(std::filesystem::exists(share.parent_path() / "man" / "man1" / "geo-ssf.1"));
    // One migration serves both databases; the tracking database's is a link to the main one's.
    const std::string tallies = "20260101000001_create_geo_ssf_tallies.sql";
    CHECK(read_file(share / "migrations" / "geo" / tallies).find("CREATE TABLE geo_ssf_tallies") != std::string::npos);
    CHECK(read_file(share / "migrations" / "geo" / tallies) == read_file(share / "migrations" / "main" / tallies));

    // Mark the installed copy, so the test can tell it from the source tree's.
    auto tmpl = share / "templates" / "registry_migration.sql.mustache";
    write_file(tmpl, "-- installed copy\n" + read_file(tmpl));

    TempDir work;
    RunOptions elsewhere;
    elsewhere.cwd = work.path();
    elsewhere.env["GEO_SSF_DATADIR"] = "";
    RunResult generated = run_program(binary.string(), {"generate", "replicable", "CoolWidget"}, elsewhere);
    REQUIRE_MESSAGE(generated.status == 0, generated.err);
    bool marked = false;
    for (const auto& entry : std::filesystem::directory_iterator(work / "migrations" / "geo"))
        marked = marked || read_file(entry.path()).rfind("-- installed copy\n", 0) == 0;
    CHECK(marked);

    TestDatabase db;
    write_config(work.path(), "primary", db.conninfo());
    db.exec("CREATE TABLE cool_widgets (id bigserial PRIMARY KEY)");
    RunResult migrated = run_program(binary.string(), {"migrate"}, elsewhere);
    CAPTURE(migrated.err);
    CHECK(migrated.status == 0);
    CHECK(migrated.out.find("applied main 20260101000000_create_geo_events") != std::string::npos);
    CHECK(migrated.out.find("applied main 20260101000001_create_geo_ssf_tallies") != std::string::npos);
}

}
