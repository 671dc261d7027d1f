// What the benchmarks share: timing a child process with its peak memory, a scratch database,
// and many small repositories made quickly.
#pragma once

#include <pqxx/pqxx>

#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

extern char** environ;

namespace bench {

struct ProcessFigures {
    int status = -1;
    double seconds = 0;
    long peak_kib = 0;  // maximum resident set size
};

// The run of median time among RUNS (its peak memory with it); a failed run's status wins.
inline ProcessFigures median(std::vector<ProcessFigures> runs) {
    std::sort(runs.begin(), runs.end(), [](const auto& a, const auto& b) { return a.seconds < b.seconds; });
    ProcessFigures middle = runs[runs.size() / 2];
    for (const auto& run : runs)
        if (run.status)
            middle.status = run.status;
    return middle;
}

// Runs ARGV[0] with ARGV, stdout and stderr to LOG, and measures it.
inline ProcessFigures measure(const std::vector<std::string>& argv, const std::filesystem::path& log) {
    std::vector<char*> args;
    std::vector<std::string> copy = argv;
    for (auto& a : copy)
        args.push_back(a.data());
    args.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    auto start = std::chrono::steady_clock::now();
    pid_t pid = 0;
    if (posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ) != 0)
        throw std::runtime_error("cannot start " + argv[0]);
    posix_spawn_file_actions_destroy(&actions);
    int status = 0;
    struct rusage usage {};
    wait4(pid, &status, 0, &usage);
    ProcessFigures f;
    f.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    f.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    f.peak_kib = usage.ru_maxrss;
    return f;
}

// The git programs a benchmark runs read none of this machine's configuration (an identity,
// hooks, fsync or pack settings would change what they do and how long it takes).
inline void hermetic_git() {
    ::setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
    ::setenv("GIT_CONFIG_GLOBAL", "/dev/null", 1);
    ::unsetenv("GIT_SSL_CAINFO");  // a machine-wide CA bundle would override http.sslCAInfo
    ::setenv("GIT_AUTHOR_NAME", "b", 1);
    ::setenv("GIT_AUTHOR_EMAIL", "b@example.com", 1);
    ::setenv("GIT_COMMITTER_NAME", "b", 1);
    ::setenv("GIT_COMMITTER_EMAIL", "b@example.com", 1);
}

inline void run(const std::string& command) {
    if (std::system(command.c_str()) != 0)
        throw std::runtime_error("failed: " + command);
}

inline void write_file(const std::filesystem::path& file, const std::string& text) {
    std::filesystem::create_directories(file.parent_path());
    std::ofstream(file) << text;
}

// TEXT added at the end of FILE.
inline void append_file(const std::filesystem::path& file, const std::string& text) {
    std::ofstream(file, std::ios::app) << text;
}

// A database of its own on the PG* server, dropped and made anew.
inline std::string scratch_database(const std::string& name) {
    pqxx::connection server("dbname=postgres");
    pqxx::nontransaction tx(server);
    tx.exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
    tx.exec("CREATE DATABASE " + name);
    return "dbname=" + name;
}

// A small bare repository (two commits, a tag, packed) to copy from.
inline std::string make_template_repository(const std::filesystem::path& path) {
    hermetic_git();
    run("git init -q --bare --template= -b main '" + path.string() + "' && cd '" + path.string() +
        "' && tree=$(git hash-object -t tree -w /dev/null) && "
        "c1=$(echo one | git commit-tree $tree) && c2=$(echo two | git commit-tree -p $c1 $tree) && "
        "git update-ref refs/heads/main $c2 && git tag -a -m v1 v1 $c1 && git pack-refs --all && "
        "git repack -qad && git prune-packed");
    std::ifstream head(path / "packed-refs");
    std::string line;
    while (std::getline(head, line))
        if (line.size() > 41 && line.substr(41) == "refs/heads/main")
            return line.substr(0, 40);
    throw std::runtime_error("template repository has no main branch");
}

// TARGET as a copy of TEMPLATE whose object files are hard links (they never change), plus a
// branch of its own so that every copy has its own checksum.
inline void copy_repository(const std::filesystem::path& templ, const std::filesystem::path& target,
                            const std::string& head, long long id) {
    std::filesystem::create_directories(target.parent_path());
    std::filesystem::copy(templ, target,
                          std::filesystem::copy_options::recursive | std::filesystem::copy_options::create_hard_links);
    // packed-refs and HEAD are rewritten by git in place of the link, never modified through it.
    write_file(target / "refs" / "heads" / ("record-" + std::to_string(id)), head + "\n");
}

// The blocks a tree takes on disk, in KiB (du -sk).
inline long long disk_kib(const std::filesystem::path& path) {
    long long kib = 0;
    if (FILE* du = ::popen(("du -sk '" + path.string() + "'").c_str(), "r")) {
        if (std::fscanf(du, "%lld", &kib) != 1)
            kib = 0;
        ::pclose(du);
    }
    return kib;
}

// Files under a repository's refs/: its loose refs.
inline long long loose_refs(const std::filesystem::path& repository) {
    long long files = 0;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(repository / "refs"))
        files += entry.is_regular_file();
    return files;
}

// A primary site under ROOT (ROOT/primary.yml, database NAME_main) with one CoolWidget record,
// id 1, whose repository is ROOT/primary/cool_widgets/1.git (left for the caller to make).
// Returns the main database's connection string.
inline std::string one_record_primary(const std::filesystem::path& root, const std::string& binary,
                                      const std::string& name) {
    std::string main_db = scratch_database(name + "_main");
    write_file(root / "primary.yml", "databases: {main: \"" + main_db + "\"}\nstorage: {root: primary}\n");
    run("cd '" + root.string() + "' && '" + binary + "' -c primary.yml generate replicable CoolWidget >/dev/null");
    {
        pqxx::connection db(main_db);
        pqxx::nontransaction tx(db);
        tx.exec("CREATE TABLE cool_widgets (id bigserial PRIMARY KEY, name text)");
        tx.exec("INSERT INTO cool_widgets (id) VALUES (1)");
    }
    run("'" + binary + "' -c '" + (root / "primary.yml").string() + "' migrate >/dev/null");
    return main_db;
}

// A secondary of MAIN_DB under ROOT (ROOT/SITE.yml, database NAME_SITE, copies in ROOT/SITE)
// fetching from PRIMARY_URL, migrated. Returns its configuration file.
// STORAGE_KEYS adds storage settings ("ca_file: \"...\"").
inline std::filesystem::path secondary_site(const std::filesystem::path& root, const std::string& binary,
                                            const std::string& main_db, const std::string& name,
                                            const std::string& site, const std::string& primary_url,
                                            const std::string& storage_keys = "") {
    std::string geo_db = scratch_database(name + "_" + site);
    auto config = root / (site + ".yml");
    write_file(config, "site: {role: secondary}\ndatabases: {main: \"" + main_db + "\", geo: \"" + geo_db +
                           "\"}\nstorage: {root: " + site + ", primary_url: \"" + primary_url + "\"" +
                           (storage_keys.empty() ? "" : ", " + storage_keys) + "}\n");
    std::filesystem::create_directories(root / site);
    run("'" + binary + "' -c '" + config.string() + "' migrate >/dev/null");
    return config;
}

// ROOT/primary.yml and ROOT/secondary.yml: two sites sharing MAIN_INFO, the secondary tracking in
// GEO_INFO, its primary_url never fetched from (the benches seed rows, not repositories).
inline void write_two_site_configs(const std::filesystem::path& root, const std::string& main_info,
                                   const std::string& geo_info) {
    write_file(root / "primary.yml", "site: {name: primary, role: primary}\ndatabases: {main: \"" + main_info +
                                         "\"}\nstorage: {root: repositories}\n");
    write_file(root / "secondary.yml", "site: {name: secondary, role: secondary}\ndatabases: {main: \"" + main_info +
                                           "\", geo: \"" + geo_info +
                                           "\"}\nstorage: {root: repositories, primary_url: \"file:///nonexistent\"}\n");
}

inline std::string temporary_root(const std::string& name) {
    const char* base = std::getenv("TMPDIR");
    std::string root = std::string(base && *base ? base : (std::filesystem::is_directory("/dev/shm") ? "/dev/shm" : "/tmp")) +
                       "/" + name;
    std::filesystem::remove_all(root);
    std::filesystem::create_directories(root);
    return root;
}

}  // namespace bench
