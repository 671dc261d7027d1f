#include "test_support.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>

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

RunResult run_program(const std::string& program, const std::vector<std::string>& args, const RunOptions& options) {
    TempDir io;
    auto out_path = io / "stdout", err_path = io / "stderr", in_path = io / "stdin";
    write_file(in_path, options.input.value_or(""));

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
    posix_spawn_file_actions_addopen(&actions, 0, in_path.c_str(), O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (options.cwd)
        posix_spawn_file_actions_addchdir_np(&actions, options.cwd->c_str());
    pid_t pid = 0;
    int rc = posix_spawnp(&pid, program.c_str(), &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0)
        throw std::runtime_error("cannot start " + program + ": " + std::strerror(rc));
    int wstatus = 0;
    while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
    }
    RunResult result;
    result.status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
    result.out = read_file(out_path);
    result.err = read_file(err_path);
    return result;
}

RunResult run_geo_ssf(const std::vector<std::string>& args, const RunOptions& options) {
    const char* binary = std::getenv("GEO_SSF_BINARY");
    if (!binary || !*binary)
        throw std::runtime_error("GEO_SSF_BINARY is not set (meson test sets it)");
    return run_program(binary, args, options);
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

}  // namespace geo_ssf::test
