// reverify on a primary: which records it marks, from arguments or standard input, and --now.
#include "one_line_error.hpp"
#include "primary_fixture.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <string>

using namespace geo_ssf::test;

TEST_SUITE("reverify") {

TEST_CASE("reverify: '-' reads the IDs from standard input") {
    PrimaryFixture site;
    site.add_records(1, 3);
    REQUIRE(site.run({"verify"}).status == 0);
    RunOptions input;
    input.input = "1\n3\n";
    RunResult marked = site.run({"reverify", "cool_widget", "-"}, input);
    CHECK(marked.status == 0);
    CHECK(marked.out == "marked 2 cool_widget record(s) for re-verification\n");
    CHECK(site.count("verification_state = 0") == 2);
    CHECK(site.state_of(2, "verification_state") == "2");
    input.input = "2 x\n";
    check_one_line_error(site.run({"reverify", "cool_widget", "-"}, input), 2, "x");
}

TEST_CASE("reverify: IDs, --failed, --all, --dry-run and --now") {
    PrimaryFixture site;
    site.add_records(1, 5);
    std::filesystem::remove_all(site.repository(5));
    CHECK(site.run({"verify"}).status == 1);

    RunResult dry = site.run({"reverify", "cool_widget", "--failed", "--dry-run"});
    CHECK(dry.out == "would mark 1 cool_widget record(s) for re-verification\n");
    CHECK(site.state_of(5, "verification_state") == "3");

    RunResult failed = site.run({"reverify", "cool_widget", "--failed"});
    CHECK(failed.status == 0);
    CHECK(failed.out == "marked 1 cool_widget record(s) for re-verification\n");
    CHECK(site.state_of(5, "verification_state") == "0");
    // GitLab's bulk update: the state alone, so the retry count (the backoff keeps growing) and
    // the failure stay.
    CHECK(site.state_of(5, "verification_retry_count") == "1");
    CHECK(site.state_of(5, "verification_failure") == "Error during verification: repository does not exist");

    CHECK(site.run({"reverify", "cool_widget", "1", "2"}).out == "marked 2 cool_widget record(s) for re-verification\n");
    CHECK(site.state_of(1, "verification_state") == "0");
    CHECK(site.state_of(3, "verification_state") == "2");

    RunResult all = site.run({"reverify", "cool_widget", "--all"});
    CHECK(all.out == "marked 2 cool_widget record(s) for re-verification\n");
    CHECK(site.count("verification_state = 0") == 5);

    site.repositories.create(site.storage, "cool_widgets/5.git", 5);
    RunResult now = site.run({"reverify", "cool_widget", "5", "3", "--now"});
    CAPTURE(now.err);
    CHECK(now.status == 0);
    CHECK(now.out == "3 succeeded " + show_ref_checksum(site.repository(3)) + "\n5 succeeded " +
                         show_ref_checksum(site.repository(5)) + "\n");
    CHECK(site.state_of(5, "verification_state") == "2");

    std::filesystem::remove_all(site.repository(3));
    RunResult broken = site.run({"reverify", "cool_widget", "3", "--now"});
    CHECK(broken.status == 1);
    CHECK(broken.out == "3 failed Error during verification: repository does not exist\n");
}

TEST_CASE("reverify: unknown IDs and bad arguments change nothing") {
    PrimaryFixture site;
    site.add_records(1, 2);
    REQUIRE(site.run({"verify"}).status == 0);
    RunResult unknown = site.run({"reverify", "cool_widget", "1", "42"});
    CHECK(unknown.status == 2);
    CHECK(unknown.err == "geo-ssf: error: no cool_widget record with id 42; nothing was changed\n");
    CHECK(site.state_of(1, "verification_state") == "2");
    CHECK(site.run({"reverify", "cool_widget"}).status == 2);
    CHECK(site.run({"reverify", "cool_widget", "1", "--all"}).status == 2);
    CHECK(site.run({"reverify", "cool_widget", "--all", "--failed"}).status == 2);
    CHECK(site.run({"reverify", "cool_widget", "--all", "--now"}).status == 2);
    CHECK(site.run({"reverify", "cool_widget", "0"}).status == 2);
}

}
