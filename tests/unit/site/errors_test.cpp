#include "common/error.hpp"
#include "db/timed_reader.hpp"
#include "repo/git.hpp"
#include "site/errors.hpp"
#include "site/replicable.hpp"
#include "site/site.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>
#include <pqxx/pqxx>

#include <cerrno>
#include <exception>
#include <filesystem>
#include <new>
#include <stdexcept>
#include <string>
#include <system_error>

using namespace geo_ssf;

namespace {

// The Error that THROW's exception stands for, translated with SITE.
template <typename Throw>
Error translated(Throw&& throw_it, const Site* site = nullptr) {
    try {
        throw_it();
    } catch (...) {
        return translated_error(std::current_exception(), site);
    }
    FAIL("nothing was thrown");
    return RuntimeError("");
}

}  // namespace

TEST_SUITE("error") {

TEST_CASE("error::printable escapes control characters and cuts long input") {
    CHECK(printable("cool_widget") == "cool_widget");
    CHECK(printable(std::string("refs/heads/a\x1b[31m\n", 18)) == "refs/heads/a\\x1b[31m\\x0a");
    CHECK(printable("x\x7fy") == "x\\x7fy");
    CHECK(printable(std::string(300, '9')) == std::string(64, '9') + "...");
    CHECK(printable(std::string(64, 'a')) == std::string(64, 'a'));
}

TEST_CASE("error::translated_error keeps geo-ssf's own errors") {
    Error usage = translated([] { throw UsageError("unknown replicable 'x'"); });
    CHECK(usage.status() == ExitStatus::usage);
    CHECK(std::string(usage.what()) == "unknown replicable 'x'");
    CHECK(translated([] { throw ConfigError("geo-ssf.yml: bad"); }).status() == ExitStatus::config);
    CHECK(translated([] { throw DatabaseError("cannot connect"); }).status() == ExitStatus::database);
    Error git = translated([] { throw GitError("repository does not exist"); });
    CHECK(git.status() == ExitStatus::runtime);
    CHECK(std::string(git.what()) == "repository does not exist");
    Error cancelled = translated([] { throw CountCancelled("counting did not finish within status.timeout (5m)"); });
    CHECK(cancelled.status() == ExitStatus::database);
    CHECK(std::string(cancelled.what()) == "counting did not finish within status.timeout (5m)");
}

TEST_CASE("error::CountCancelled is a DatabaseError that keeps its reason") {
    try {
        throw CountCancelled("canceling statement due to user request");
    } catch (const DatabaseError& e) {
        const auto* cancelled = dynamic_cast<const CountCancelled*>(&e);
        REQUIRE(cancelled);
        CHECK(cancelled->reason == "canceling statement due to user request");
    }
}

TEST_CASE("error::translated_error makes libpqxx's failures database errors of one line, without passwords") {
    Site unconnected{Config{}};
    const Site* const sites[] = {nullptr, &unconnected};
    for (const Site* site : sites) {
        CAPTURE(site != nullptr);
        Error lost = translated(
            [] {
                throw pqxx::broken_connection("server closed the connection unexpectedly\n\tThis probably means the "
                                              "server terminated abnormally\n");
            },
            site);
        CHECK(lost.status() == ExitStatus::database);
        CHECK(std::string(lost.what()) == "lost the connection to the database: server closed the connection unexpectedly");

        Error failed = translated(
            [] {
                throw pqxx::sql_error("ERROR:  relation \"cool_widgets\" does not exist\nLINE 1: SELECT 1 FROM "
                                      "cool_widgets\n",
                                      "SELECT 1 FROM cool_widgets", "42P01");
            },
            site);
        CHECK(failed.status() == ExitStatus::database);
        CHECK(std::string(failed.what()) == "database query failed: relation \"cool_widgets\" does not exist");
    }
    Error secret = translated([] { throw pqxx::failure("invalid connection string: host=db password=s3cret x"); });
    CHECK(secret.status() == ExitStatus::database);
    CHECK(std::string(secret.what()).find("s3cret") == std::string::npos);
    // Not a failure of the server but a misuse of libpqxx: geo-ssf's fault, no database's.
    CHECK(translated([] { throw pqxx::usage_error("started a transaction while another is open"); }).status() ==
          ExitStatus::runtime);
}

TEST_CASE("error::translated_error names the path and the reason of a filesystem error") {
    test::TempDir dir;
    Error missing = translated([&] { std::filesystem::resize_file(dir / "missing", 1); });
    CHECK(missing.status() == ExitStatus::runtime);
    CHECK(std::string(missing.what()) == (dir / "missing").string() + ": No such file or directory");
    Error renamed = translated([&] { std::filesystem::rename(dir / "a", dir / "b"); });
    CHECK(std::string(renamed.what()) == (dir / "a").string() + ", " + (dir / "b").string() + ": No such file or directory");
    Error control = translated([] {
        throw std::filesystem::filesystem_error("cannot remove", "/srv/a\nb", std::error_code(EACCES, std::generic_category()));
    });
    CHECK(std::string(control.what()) == "/srv/a\\x0ab: Permission denied");
    Error no_path = translated([] {
        throw std::filesystem::filesystem_error("cannot get current path", std::error_code(EACCES, std::generic_category()));
    });
    CHECK(no_path.status() == ExitStatus::runtime);
    CHECK(std::string(no_path.what()).find("cannot get current path: Permission denied") != std::string::npos);
}

TEST_CASE("error::translated_error makes anything else a runtime error") {
    Error memory = translated([] { throw std::bad_alloc(); });
    CHECK(memory.status() == ExitStatus::runtime);
    CHECK(std::string(memory.what()) == "out of memory");
    Error other = translated([] { throw std::out_of_range("vector::at"); });
    CHECK(other.status() == ExitStatus::runtime);
    CHECK(std::string(other.what()) == "vector::at");
    Error unknown = translated([] { throw 42; });
    CHECK(unknown.status() == ExitStatus::runtime);
    CHECK(std::string(unknown.what()) == "unknown error");
}

TEST_CASE("replicable::RepositoryPathTemplate refuses rendered paths that are not one repository's") {
    auto slug = RepositoryPathTemplate::parse("cool_widgets/{slug}");
    CHECK(slug.render({"a"}) == "cool_widgets/a");
    CHECK_THROWS_WITH_AS(slug.render({""}), doctest::Contains("it ends with '/'"), RuntimeError);
    CHECK_THROWS_WITH_AS(slug.render({".."}), doctest::Contains("'..' segment"), RuntimeError);
    CHECK_THROWS_WITH_AS(slug.render({"a//b"}), doctest::Contains("empty segment"), RuntimeError);
    CHECK_THROWS_WITH_AS(slug.render({std::string("a\0b", 3)}), doctest::Contains("NUL"), RuntimeError);
    auto leading = RepositoryPathTemplate::parse("{group}/{id}.git");
    CHECK_THROWS_WITH_AS(leading.render({"", "1"}), doctest::Contains("starts with '/'"), RuntimeError);
}

TEST_CASE("replicable::RepositoryPathTemplate::matches only what the template renders") {
    auto by_id = RepositoryPathTemplate::parse("cool_widgets/{id}.git");
    CHECK(by_id.matches("cool_widgets/42.git"));
    CHECK(by_id.matches("cool_widgets/x.y.git"));
    CHECK_FALSE(by_id.matches("cool_widgets"));
    CHECK_FALSE(by_id.matches("cool_widgets/"));
    CHECK_FALSE(by_id.matches("cool_widgets/.git"));
    CHECK_FALSE(by_id.matches("cool_widgets/1.git/objects"));
    CHECK_FALSE(by_id.matches("cool_widgets/a/b.git"));
    CHECK_FALSE(by_id.matches("cool_widgets/...git/"));
    CHECK_FALSE(by_id.matches("gadgets/1.git"));
    CHECK_FALSE(by_id.matches(""));
    auto nested = RepositoryPathTemplate::parse("g/{ns}/{id}-{ns}");
    CHECK(nested.matches("g/7/1-7"));
    CHECK_FALSE(nested.matches("g/7/1-8"));
    CHECK_FALSE(nested.matches("g/../1-.."));
}

}  // TEST_SUITE
