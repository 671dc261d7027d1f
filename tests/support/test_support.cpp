#include "test_support.hpp"

#include "repo/checksum.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace geo_ssf::test {

TempDir::TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base && *base ? base : "/tmp") + "/geo-ssf-test-XXXXXX";
    if (!mkdtemp(pattern.data()))
        throw std::runtime_error("mkdtemp failed: " + std::string(std::strerror(errno)));
    m_path = pattern;
}

TempDir::~TempDir() {
    if (std::getenv("GEO_SSF_KEEP_TEST_DIRS")) {
        std::cerr << "kept test folder " << m_path << "\n";
        return;
    }
    std::error_code ec;
    // A test may have made parts unreadable; give them back so they can be removed.
    for (auto it = std::filesystem::recursive_directory_iterator(m_path, std::filesystem::directory_options::skip_permission_denied, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec))
        std::filesystem::permissions(it->path(), std::filesystem::perms::owner_all, std::filesystem::perm_options::add, ec);
    std::filesystem::permissions(m_path, std::filesystem::perms::owner_all, std::filesystem::perm_options::add, ec);
    std::filesystem::remove_all(m_path, ec);
}

void write_file(const std::filesystem::path& file, const std::string& content) {
    std::filesystem::create_directories(file.parent_path());
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out << content;
    if (!out)
        throw std::runtime_error("cannot write " + file.string());
}

std::string read_file(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in)
        throw std::runtime_error("cannot read " + file.string());
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

namespace {

// Starts PROGRAM with ARGS, its standard streams redirected to files in IO.
pid_t spawn(const std::string& program, const std::vector<std::string>& args, const RunOptions& options,
            const std::filesystem::path& io) {
    write_file(io / "stdin", options.input.value_or(""));
    std::map<std::string, std::string> env;
    for (char** e = environ; *e; ++e) {
        std::string entry(*e);
        auto eq = entry.find('=');
        if (eq != std::string::npos)
            env[entry.substr(0, eq)] = entry.substr(eq + 1);
    }
    for (const auto& [key, value] : options.env)
        env[key] = value;
    std::vector<std::string> env_strings;
    for (const auto& [key, value] : env)
        env_strings.push_back(key + "=" + value);
    std::vector<char*> envp;
    for (auto& s : env_strings)
        envp.push_back(s.data());
    envp.push_back(nullptr);

    std::vector<std::string> argv_strings = {program};
    argv_strings.insert(argv_strings.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& s : argv_strings)
        argv.push_back(s.data());
    argv.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, (io / "stdin").c_str(), O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, (io / "stdout").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, 2, (io / "stderr").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (options.cwd)
        posix_spawn_file_actions_addchdir_np(&actions, options.cwd->c_str());
    pid_t pid = 0;
    int rc = posix_spawnp(&pid, program.c_str(), &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0)
        throw std::runtime_error("cannot start " + program + ": " + std::strerror(rc));
    return pid;
}

RunResult collect(pid_t pid, const std::filesystem::path& io) {
    int wstatus = 0;
    while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
    }
    RunResult result;
    result.status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
    result.out = read_file(io / "stdout");
    result.err = read_file(io / "stderr");
    return result;
}

std::string geo_ssf_binary() {
    const char* binary = std::getenv("GEO_SSF_BINARY");
    if (!binary || !*binary)
        throw std::runtime_error("GEO_SSF_BINARY is not set (meson test sets it)");
    return binary;
}

}  // namespace

BackgroundRun::BackgroundRun(const std::vector<std::string>& args, const RunOptions& options)
    : m_pid(spawn(geo_ssf_binary(), args, options, m_io.path())) {}

BackgroundRun::~BackgroundRun() {
    if (!m_result) {
        kill(m_pid, SIGKILL);
        collect(m_pid, m_io.path());
    }
}

void BackgroundRun::signal(int signal_number) { kill(m_pid, signal_number); }

std::string BackgroundRun::err_so_far() const { return read_file(m_io.path() / "stderr"); }

void BackgroundRun::wait_for_err(const std::string& text) {
    while (err_so_far().find(text) == std::string::npos) {
        siginfo_t info{};
        // An ended process, not reaped yet, so that wait() gets its status.
        if (!m_result && waitid(P_PID, static_cast<id_t>(m_pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
            info.si_pid == m_pid) {
            RunResult ended = wait();
            throw std::runtime_error("geo-ssf ended (status " + std::to_string(ended.status) + ") before writing \"" +
                                     text + "\":\n" + ended.err);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

RunResult BackgroundRun::wait() {
    if (!m_result)
        m_result = collect(m_pid, m_io.path());
    return *m_result;
}

RunResult run_program(const std::string& program, const std::vector<std::string>& args, const RunOptions& options) {
    TempDir io;
    return collect(spawn(program, args, options, io.path()), io.path());
}

RunResult run_geo_ssf(const std::vector<std::string>& args, const RunOptions& options) {
    return run_program(geo_ssf_binary(), args, options);
}

std::string shell(const std::string& command_line, const std::optional<std::filesystem::path>& cwd) {
    RunOptions options;
    options.cwd = cwd;
    RunResult r = run_program("/bin/sh", {"-ec", command_line}, options);
    if (r.status != 0)
        throw std::runtime_error("command failed (" + std::to_string(r.status) + "): " + command_line + "\n" + r.err);
    return r.out;
}

namespace {

std::unique_ptr<pqxx::connection> connect_to_server() {
    try {
        return std::make_unique<pqxx::connection>("dbname=postgres");
    } catch (const std::exception& e) {
        throw std::runtime_error(
            "no PostgreSQL server reachable through the PG* variables; run the tests with scripts/test.sh "
            "(it starts one with pg_virtualenv): " + std::string(e.what()));
    }
}

}  // namespace

TestDatabase::TestDatabase() {
    static std::atomic<int> counter{0};
    m_name = "geo_ssf_test_" + std::to_string(getpid()) + "_" + std::to_string(counter++);
    auto server = connect_to_server();
    pqxx::nontransaction(*server).exec("CREATE DATABASE " + m_name);
}

TestDatabase::~TestDatabase() {
    m_connection.reset();
    try {
        auto server = connect_to_server();
        pqxx::nontransaction(*server).exec("DROP DATABASE IF EXISTS " + m_name + " WITH (FORCE)");
    } catch (const std::exception& e) {
        std::cerr << "could not drop test database " << m_name << ": " << e.what() << "\n";
    }
}

pqxx::connection& TestDatabase::connection() {
    if (!m_connection)
        m_connection = std::make_unique<pqxx::connection>(conninfo());
    return *m_connection;
}

pqxx::result TestDatabase::exec(const std::string& sql) {
    pqxx::work tx(connection());
    pqxx::result r = tx.exec(sql);
    tx.commit();
    return r;
}

std::string TestDatabase::scalar(const std::string& sql) {
    pqxx::result r = exec(sql);
    if (r.empty() || r[0][0].is_null())
        return "";
    return r[0][0].as<std::string>();
}

void TestDatabase::wait_for_geo_ssf_connections_to_end() {
    while (scalar("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'geo-ssf' AND datname = '" + m_name +
                  "'") != "0")
        usleep(1000);
}

std::filesystem::path write_config(const std::filesystem::path& dir, const std::string& role,
                                   const std::string& main_conninfo, const std::optional<std::string>& geo_conninfo,
                                   const std::string& extra) {
    std::filesystem::create_directories(dir / "repositories");
    std::string text = "site:\n  name: " + role + "-site\n  role: " + role + "\n";
    text += "databases:\n  main: \"" + main_conninfo + "\"\n";
    if (geo_conninfo)
        text += "  geo: \"" + *geo_conninfo + "\"\n";
    text += "storage:\n  root: repositories\n";
    if (role == "secondary")
        text += "  primary_url: file:///nonexistent\n";
    text += extra;
    auto file = dir / "geo-ssf.yml";
    write_file(file, text);
    return file;
}

RepositoryFactory::RepositoryFactory(const std::filesystem::path& work_dir) : m_template(work_dir / "template.git") {
    // No template: hooks and samples would make every copy ten times slower.
    shell("git init -q --bare --template= -b main '" + m_template.string() + "'");
    shell("cd '" + m_template.string() + "' && "
          "export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@example.com GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@example.com "
          "GIT_AUTHOR_DATE='2020-01-01T00:00:00Z' GIT_COMMITTER_DATE='2020-01-01T00:00:00Z' && "
          "tree=$(git hash-object -t tree -w /dev/null) && "
          "c1=$(echo one | git commit-tree $tree) && c2=$(echo two | git commit-tree -p $c1 $tree) && "
          "git update-ref refs/heads/main $c2 && git update-ref refs/heads/old $c1 && "
          "git tag -a -m release v1 $c1 && git pack-refs --all && git repack -qad && git prune-packed");
    m_head = shell("git -C '" + m_template.string() + "' rev-parse refs/heads/main");
    m_head.erase(m_head.find_last_not_of("\n") + 1);
}

void RepositoryFactory::create(const std::filesystem::path& root, const std::string& relative, long long id) const {
    auto target = root / relative;
    std::filesystem::create_directories(target.parent_path());
    std::filesystem::copy(m_template, target, std::filesystem::copy_options::recursive);
    write_file(target / "refs" / "heads" / ("record-" + std::to_string(id)), m_head + "\n");
}

std::string show_ref_checksum(const std::filesystem::path& repository) {
    // git lists the refs; the pure accumulator (unit-tested on Gitaly's vectors) sums them.
    return checksum_of_show_ref(shell("git -C '" + repository.string() + "' show-ref --head"));
}

bool tallies_folded(TestDatabase& db) {
    return db.scalar("SELECT (count(*) = (SELECT count(*) FROM (SELECT DISTINCT table_name, state, verification_state "
                     "FROM geo_ssf_tallies) groups))::text FROM geo_ssf_tallies") == "true";
}

}  // namespace geo_ssf::test
