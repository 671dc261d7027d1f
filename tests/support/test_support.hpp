// What the tests share: temporary folders, running the real geo-ssf binary, throwaway
// PostgreSQL databases and real Git repositories.
#pragma once

#include "common/subprocess.hpp"

#include <pqxx/pqxx>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace geo_ssf::test {

// A fresh folder under $TMPDIR, removed with everything in it at the end of its scope
// (kept, and named on stderr, when GEO_SSF_KEEP_TEST_DIRS is set).
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return m_path; }
    std::filesystem::path operator/(const std::string& name) const { return m_path / name; }

private:
    std::filesystem::path m_path;
};

void write_file(const std::filesystem::path& file, const std::string& content);
std::string read_file(const std::filesystem::path& file);

struct RunResult {
    int status = -1;  // exit status, or 128 + signal number
    std::string out;
    std::string err;
};

struct RunOptions {
    std::optional<std::filesystem::path> cwd;
    std::map<std::string, std::string> env;  // added to (or replacing) the inherited environment
    std::optional<std::string> input;        // standard input; empty when unset
};

// Runs the geo-ssf binary under test ($GEO_SSF_BINARY) with ARGS and waits for it.
RunResult run_geo_ssf(const std::vector<std::string>& args, const RunOptions& options = {});
// Runs any program (found on PATH) the same way.
RunResult run_program(const std::string& program, const std::vector<std::string>& args, const RunOptions& options = {});
// Runs the geo-ssf binary under test as nobody (uid and gid 65534, no other groups), as an
// unprivileged user such as the units' geo-ssf. The tests run as root for it (scripts/test.sh);
// run by anyone else, it throws.
RunResult run_geo_ssf_as_nobody(const std::vector<std::string>& args, const RunOptions& options = {});
// Lets other users read PATH and pass through every folder above it (the tests' folders are 0700).
void open_to_others(const std::filesystem::path& path);
// geo-ssf running in the background, for tests that signal it mid-run.
class BackgroundRun {
public:
    BackgroundRun(const std::vector<std::string>& args, const RunOptions& options = {});
    ~BackgroundRun();
    BackgroundRun(const BackgroundRun&) = delete;
    BackgroundRun& operator=(const BackgroundRun&) = delete;
    void signal(int signal_number);
    // Whether the process has ended (without waiting).
    bool ended();
    int pid() const { return m_process->pid(); }
    // What it has written to stderr so far.
    std::string err_so_far() const;
    // Waits until its stderr holds TEXT; fails the test with what it wrote if it ends first.
    void wait_for_err(const std::string& text);
    // Waits for the process to end and returns what it did.
    RunResult wait();

private:
    TempDir m_io;
    std::unique_ptr<Process> m_process;
    std::optional<RunResult> m_result;
};

// Waits until CONDITION holds, asking it every few milliseconds, for at most LIMIT: whether it
// holds. Tests wait for a condition, never for a fixed time.
bool wait_until(const std::function<bool()>& condition, std::chrono::seconds limit = std::chrono::seconds(60));

// Runs a shell command line; throws if it fails, returns its stdout.
std::string shell(const std::string& command_line, const std::optional<std::filesystem::path>& cwd = std::nullopt);

// Every ref of REPOSITORY and its object, as git show-ref prints them.
std::string refs_of(const std::filesystem::path& repository);

// A new commit on main in REPOSITORY, as a push would leave it.
void commit_on_main(const std::filesystem::path& repository);

// COUNT more branches (and merge-request refs, each in a folder of its own) on the main commit
// of REPOSITORY: twice COUNT refs.
void add_refs(const std::filesystem::path& repository, int count, const std::string& prefix = "b");

// A new, empty database on the PostgreSQL server the PG* variables point at (pg_virtualenv
// sets them), dropped at the end of its scope. Tests fail when no server is reachable.
class TestDatabase {
public:
    TestDatabase();
    ~TestDatabase();
    TestDatabase(const TestDatabase&) = delete;
    TestDatabase& operator=(const TestDatabase&) = delete;
    const std::string& name() const { return m_name; }
    std::string conninfo() const { return "dbname=" + m_name; }
    pqxx::connection& connection();
    // Runs SQL in its own transaction and returns the result.
    pqxx::result exec(const std::string& sql);
    // The first column of the first row as text ("" for NULL).
    std::string scalar(const std::string& sql);
    // Waits until no geo-ssf connection to this database is left: the server side of a killed
    // client may still be finishing (and committing) what the client last sent.
    void wait_for_geo_ssf_connections_to_end();

private:
    std::string m_name;
    std::unique_ptr<pqxx::connection> m_connection;
};

// Whether DB's tallies are folded (lib/tallies.hpp): one row per table and combination of states.
bool tallies_folded(TestDatabase& db);

// A site config file in DIR (geo-ssf.yml) for ROLE with the given databases; returns its path.
std::filesystem::path write_config(const std::filesystem::path& dir, const std::string& role,
                                   const std::string& main_conninfo,
                                   const std::optional<std::string>& geo_conninfo = std::nullopt,
                                   const std::string& extra = "");

// Bare repositories for records: a template repository with a few commits is made once with
// git, and each record's repository is a copy of it with one extra branch named after the
// record, so that every record has its own checksum.
class RepositoryFactory {
public:
    explicit RepositoryFactory(const std::filesystem::path& work_dir);
    // Creates ROOT/<relative> for the record ID.
    void create(const std::filesystem::path& root, const std::string& relative, long long id) const;
    const std::string& head_commit() const { return m_head; }

private:
    std::filesystem::path m_template;
    std::string m_head;
};

// The checksum `git show-ref --head` gives for REPOSITORY, computed the Gitaly way.
std::string show_ref_checksum(const std::filesystem::path& repository);

}  // namespace geo_ssf::test
