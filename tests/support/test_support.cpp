#include "test_support.hpp"

#include "repo/checksum.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
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

// PROGRAM with ARGS, in this process's environment with OPTIONS' variables added or replaced.
ProcessSpec spec_of(const std::string& program, const std::vector<std::string>& args, const RunOptions& options) {
    std::map<std::string, std::string> env;
    for (char** e = environ; *e; ++e) {
        std::string entry(*e);
        auto eq = entry.find('=');
        if (eq != std::string::npos)
            env[entry.substr(0, eq)] = entry.substr(eq + 1);
    }
    for (const auto& [key, value] : options.env)
        env[key] = value;
    ProcessSpec spec;
    spec.argv = {program};
    spec.argv.insert(spec.argv.end(), args.begin(), args.end());
    spec.environment.emplace();
    for (const auto& [key, value] : env)
        spec.environment->push_back(key + "=" + value);
    spec.cwd = options.cwd;
    return spec;
}

std::string geo_ssf_binary() {
    const char* binary = std::getenv("GEO_SSF_BINARY");
    if (!binary || !*binary)
        throw std::runtime_error("GEO_SSF_BINARY is not set (meson test sets it)");
    return binary;
}

}  // namespace

// Its output goes to files, not pipes: nobody reads a pipe while the test waits for something
// else, and a full one would stop geo-ssf.
BackgroundRun::BackgroundRun(const std::vector<std::string>& args, const RunOptions& options) {
    ProcessSpec spec = spec_of(geo_ssf_binary(), args, options);
    write_file(m_io / "stdin", options.input.value_or(""));
    spec.input = ProcessInput::from_file(m_io / "stdin");
    spec.out = ProcessOutput::to_file(m_io / "stdout");
    spec.err = ProcessOutput::to_file(m_io / "stderr");
    m_process = std::make_unique<Process>(spec);
}

// A run the test did not wait for is killed by its Process.
BackgroundRun::~BackgroundRun() = default;

void BackgroundRun::signal(int signal_number) { m_process->signal(signal_number); }

bool BackgroundRun::ended() { return m_result || m_process->exit_if_ended(); }
std::string BackgroundRun::err_so_far() const { return read_file(m_io.path() / "stderr"); }

void BackgroundRun::wait_for_err(const std::string& text) {
    while (err_so_far().find(text) == std::string::npos) {
        if (!m_result) {
            if (auto exit = m_process->exit_if_ended()) {
                RunResult ended{exit->status(), read_file(m_io / "stdout"), read_file(m_io / "stderr")};
                m_result = ended;
                if (ended.err.find(text) != std::string::npos)
                    return;  // written just before it ended
                throw std::runtime_error("geo-ssf ended (status " + std::to_string(ended.status) +
                                         ") before writing \"" + text + "\":\n" + ended.err);
            }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

RunResult BackgroundRun::wait() {
    if (!m_result) {
        ProcessExit exit = m_process->wait();
        m_result = RunResult{exit.status(), read_file(m_io / "stdout"), read_file(m_io / "stderr")};
    }
    return *m_result;
}

RunResult run_program(const std::string& program, const std::vector<std::string>& args, const RunOptions& options) {
    ProcessSpec spec = spec_of(program, args, options);
    spec.input = ProcessInput::from_text(options.input.value_or(""));
    spec.out = ProcessOutput::capture();
    spec.err = ProcessOutput::capture();
    ProcessResult result = run_process(spec);
    return RunResult{result.exit.status(), result.out, result.err};
}

RunResult run_geo_ssf(const std::vector<std::string>& args, const RunOptions& options) {
    return run_program(geo_ssf_binary(), args, options);
}

RunResult run_geo_ssf_as_nobody(const std::vector<std::string>& args, const RunOptions& options) {
    if (::geteuid() != 0)
        throw std::runtime_error("running geo-ssf as nobody needs root: run the tests as root (scripts/test.sh)");
    std::vector<std::string> argv = {"--reuid=65534", "--regid=65534", "--clear-groups", geo_ssf_binary()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_program("setpriv", argv, options);
}

void open_to_others(const std::filesystem::path& path) {
    namespace fs = std::filesystem;
    fs::permissions(path, fs::perms::others_read | fs::perms::others_exec, fs::perm_options::add);
    for (fs::path folder = path.parent_path(); !folder.empty() && folder != folder.root_path();
         folder = folder.parent_path())
        fs::permissions(folder, fs::perms::others_exec, fs::perm_options::add);
}

bool wait_until(const std::function<bool()>& condition, std::chrono::seconds limit) {
    auto until = std::chrono::steady_clock::now() + limit;
    while (!condition()) {
        if (std::chrono::steady_clock::now() > until)
            return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return true;
}

std::string shell(const std::string& command_line, const std::optional<std::filesystem::path>& cwd) {
    RunOptions options;
    options.cwd = cwd;
    RunResult r = run_program("/bin/sh", {"-ec", command_line}, options);
    if (r.status != 0)
        throw std::runtime_error("command failed (" + std::to_string(r.status) + "): " + command_line + "\n" + r.err);
    return r.out;
}

std::string refs_of(const std::filesystem::path& repository) {
    return shell("git -C '" + repository.string() + "' show-ref");
}

void commit_on_main(const std::filesystem::path& repository) {
    shell("cd '" + repository.string() +
          "' && tree=$(git rev-parse main^{tree}) && "
          "c=$(git -c user.name=t -c user.email=t@example.com commit-tree $tree -p main -m pushed) && "
          "git update-ref refs/heads/main $c");
}

void add_refs(const std::filesystem::path& repository, int count, const std::string& prefix) {
    shell("for i in $(seq 1 " + std::to_string(count) + "); do echo \"create refs/heads/" + prefix +
          "$i HEAD\"; echo \"create refs/merge-requests/" + prefix + "$i/head HEAD\"; done | git -C '" +
          repository.string() + "' update-ref --stdin");
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
