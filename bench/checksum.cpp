// bench/checksum: how fast geo-ssf checksums repositories, against Gitaly's method (spawning
// `git show-ref --head` per repository) and against a floor (only reading every ref file).
//
//   build-dir/bench/checksum-bench [REPOSITORIES]     (default 2000, 100 refs each)
//
// Builds the repositories under $TMPDIR (objects with libgit2, one shared pack hard-linked into
// each; refs written as files: 60 in packed-refs, 40 loose), measures with a warm cache, and
// removes everything at the end. Targets: at least 5x faster than show-ref, at most 2x the floor.
#include "repo/checksum.hpp"
#include "repo/git.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace fs = std::filesystem;
using namespace geo_ssf;

namespace {

constexpr int k_commits = 100;
constexpr int k_annotated_tags = 12;
constexpr int k_packed_refs = 60;
constexpr int k_loose_refs = 40;
constexpr int k_refs = k_packed_refs + k_loose_refs;
constexpr int k_rounds = 5;  // each in-process measurement is repeated; the best round counts

class WorkDir {
public:
    WorkDir() {
        const char* base = std::getenv("TMPDIR");
        std::string pattern = std::string(base && *base ? base : "/tmp") + "/geo-ssf-bench-XXXXXX";
        if (!mkdtemp(pattern.data()))
            throw std::runtime_error("mkdtemp failed: " + std::string(std::strerror(errno)));
        m_path = pattern;
    }
    ~WorkDir() {
        std::error_code ec;
        fs::remove_all(m_path, ec);
    }
    WorkDir(const WorkDir&) = delete;
    WorkDir& operator=(const WorkDir&) = delete;
    const fs::path& path() const { return m_path; }

private:
    fs::path m_path;
};

void write_text(const fs::path& file, const std::string& text) {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out)
        throw std::runtime_error("cannot write " + file.string());
}

struct Objects {
    std::vector<git_oid> commits;
    std::vector<git_oid> tags;  // annotated tag objects, tag i pointing at commits[i]
    fs::path pack;              // the .pack file; its .idx is beside it
};

git_oid write_object(git_odb* odb, const std::string& body, git_object_t type) {
    git_oid oid;
    git::check(git_odb_write(&oid, odb, body.data(), body.size(), type), "cannot write an object");
    return oid;
}

// A chain of commits of the empty tree and annotated tags on some of them, in one pack.
Objects make_objects(const fs::path& dir) {
    auto seed = git::make<git::Repository>(git_repository_init, "cannot create the seed repository",
                                           (dir / "seed.git").c_str(), 1u);
    git::Odb odb = git::repository_odb(seed.get());
    auto packer = git::make<git::Packbuilder>(git_packbuilder_new, "cannot start a pack", seed.get());
    Objects objects;
    const std::string signature = "Bench Mark <bench@example.com> 1600000000 +0000";
    git_oid tree = write_object(odb.get(), "", GIT_OBJECT_TREE);
    git::check(git_packbuilder_insert(packer.get(), &tree, nullptr), "cannot pack");
    for (int i = 0; i < k_commits; ++i) {
        std::string body = "tree " + git::oid_hex(tree) + "\n";
        if (i > 0)
            body += "parent " + git::oid_hex(objects.commits.back()) + "\n";
        body += "author " + signature + "\ncommitter " + signature + "\n\ncommit " + std::to_string(i) + "\n";
        objects.commits.push_back(write_object(odb.get(), body, GIT_OBJECT_COMMIT));
        git::check(git_packbuilder_insert(packer.get(), &objects.commits.back(), nullptr), "cannot pack");
    }
    for (int i = 0; i < k_annotated_tags; ++i) {
        std::string body = "object " + git::oid_hex(objects.commits[i]) + "\ntype commit\ntag v" + std::to_string(i) +
                           "\ntagger " + signature + "\n\nrelease " + std::to_string(i) + "\n";
        objects.tags.push_back(write_object(odb.get(), body, GIT_OBJECT_TAG));
        git::check(git_packbuilder_insert(packer.get(), &objects.tags.back(), nullptr), "cannot pack");
    }
    fs::path pack_dir = dir / "pack";
    fs::create_directories(pack_dir);
    git::check(git_packbuilder_write(packer.get(), pack_dir.c_str(), 0, nullptr, nullptr), "cannot write the pack");
    objects.pack = pack_dir / ("pack-" + std::string(git_packbuilder_name(packer.get())) + ".pack");
    return objects;
}

struct Ref {
    std::string name;
    git_oid oid;
    const git_oid* peeled = nullptr;  // annotated tags
};

// Repository NUMBER's 100 refs: the first 60 go to packed-refs, the rest are loose. Which commit
// each ref points at depends on NUMBER, so every repository has its own checksum.
std::vector<Ref> refs_of(int number, const Objects& objects) {
    std::vector<Ref> refs;
    auto commit = [&](int i) { return objects.commits[(i * 7 + number) % k_commits]; };
    auto add = [&](std::string name, int i) { refs.push_back({std::move(name), commit(i), nullptr}); };
    auto add_tag = [&](std::string name, int i) {
        refs.push_back({std::move(name), objects.tags[i], &objects.commits[i]});
    };
    // packed (60)
    for (int i = 0; i < 20; ++i)
        add("refs/heads/feature-" + std::to_string(i), i);
    for (int i = 0; i < 10; ++i)
        add_tag("refs/tags/v" + std::to_string(i), i);
    for (int i = 0; i < 10; ++i)
        add("refs/tags/light-" + std::to_string(i), 20 + i);
    for (int i = 0; i < 10; ++i)
        add("refs/merge-requests/" + std::to_string(i + 1) + "/head", 30 + i);
    for (int i = 0; i < 5; ++i)
        add("refs/keep-around/" + git::oid_hex(commit(40 + i)), 40 + i);
    for (int i = 0; i < 5; ++i)
        add("refs/pipelines/" + std::to_string(i + 1), 45 + i);
    // loose (40); refs/remotes/origin/HEAD is written as a symbolic ref to refs/heads/main
    add("refs/heads/main", 50);
    for (int i = 0; i < 30; ++i)
        add("refs/heads/topic-" + std::to_string(i), 51 + i);
    for (int i = 0; i < 5; ++i)
        add("refs/environments/production/deployments/" + std::to_string(i + 1), 81 + i);
    add("refs/notes/commits", 86);
    add("refs/remotes/origin/HEAD", 50);
    add_tag("refs/tags/loose-v10", 10);
    add_tag("refs/tags/loose-v11", 11);
    if (refs.size() != static_cast<size_t>(k_refs))
        throw std::logic_error("the bench makes the wrong number of refs");
    return refs;
}

void make_repository(const fs::path& repo, int number, const Objects& objects) {
    for (const char* dir : {"objects/pack", "objects/info", "refs/heads", "refs/tags"})
        fs::create_directories(repo / dir);
    write_text(repo / "HEAD", "ref: refs/heads/main\n");
    write_text(repo / "config", "[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = true\n");
    fs::path idx = fs::path(objects.pack).replace_extension(".idx");
    fs::create_hard_link(objects.pack, repo / "objects/pack" / objects.pack.filename());
    fs::create_hard_link(idx, repo / "objects/pack" / idx.filename());

    std::vector<Ref> refs = refs_of(number, objects);
    std::vector<Ref> packed(refs.begin(), refs.begin() + k_packed_refs);
    std::sort(packed.begin(), packed.end(), [](const Ref& a, const Ref& b) { return a.name < b.name; });
    std::string text = "# pack-refs with: peeled fully-peeled sorted \n";
    for (const Ref& ref : packed) {
        text += git::oid_hex(ref.oid) + " " + ref.name + "\n";
        if (ref.peeled)
            text += "^" + git::oid_hex(*ref.peeled) + "\n";
    }
    write_text(repo / "packed-refs", text);
    for (auto it = refs.begin() + k_packed_refs; it != refs.end(); ++it) {
        fs::path file = repo / it->name;
        fs::create_directories(file.parent_path());
        write_text(file, it->name == "refs/remotes/origin/HEAD" ? "ref: refs/heads/main\n" : git::oid_hex(it->oid) + "\n");
    }
}

// ---------------------------------------------------------------------------------------------
// The floor: open and read every ref file (HEAD, packed-refs, each loose ref), nothing else.

// With the same economies as lib/checksum.cpp (one read() per small file, getdents64 instead
// of fdopendir), so that the ratio measures the checksum's own work, not a slower reader.

size_t read_file_at(int dir_fd, const char* name, std::vector<char>& buffer) {
    int fd = ::openat(dir_fd, name, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    size_t total = 0;
    ssize_t n;
    while ((n = ::read(fd, buffer.data(), buffer.size())) > 0) {
        total += static_cast<size_t>(n);
        if (static_cast<size_t>(n) < buffer.size())
            break;
    }
    ::close(fd);
    return total;
}

size_t read_ref_tree(int dir_fd, std::vector<char>& buffer, size_t& files) {
    std::vector<char> listing(16 * 1024);
    size_t used = 0;
    ssize_t n;
    while ((n = ::getdents64(dir_fd, listing.data() + used, listing.size() - used)) > 0)
        used += static_cast<size_t>(n);
    size_t total = 0;
    for (size_t at = 0; at < used;) {
        const auto* entry = reinterpret_cast<const dirent64*>(listing.data() + at);
        at += entry->d_reclen;
        if (entry->d_name[0] == '.')
            continue;
        if (entry->d_type == DT_DIR) {
            int sub = ::openat(dir_fd, entry->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (sub >= 0)
                total += read_ref_tree(sub, buffer, files);
        } else {
            total += read_file_at(dir_fd, entry->d_name, buffer);
            ++files;
        }
    }
    ::close(dir_fd);
    return total;
}

size_t read_ref_files(const fs::path& repo, size_t& files) {
    static thread_local std::vector<char> buffer(64 * 1024);
    int repo_fd = ::open(repo.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (repo_fd < 0)
        throw std::runtime_error("cannot open " + repo.string());
    size_t total = read_file_at(repo_fd, "HEAD", buffer) + read_file_at(repo_fd, "packed-refs", buffer);
    files += 2;
    int refs_fd = ::openat(repo_fd, "refs", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (refs_fd >= 0)
        total += read_ref_tree(refs_fd, buffer, files);
    ::close(repo_fd);
    return total;
}

// ---------------------------------------------------------------------------------------------
// Gitaly's method: `git show-ref --head` in the repository, its output checksummed.

std::string show_ref_checksum(const fs::path& repo) {
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0)
        throw std::runtime_error("pipe failed");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], 1);
    std::string git_dir = "--git-dir=" + repo.string();
    const char* argv[] = {"git", git_dir.c_str(), "show-ref", "--head", nullptr};
    pid_t pid = 0;
    int rc = posix_spawnp(&pid, "git", &actions, nullptr, const_cast<char**>(argv), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(pipe_fds[1]);
    if (rc != 0) {
        ::close(pipe_fds[0]);
        throw std::runtime_error("cannot start git: " + std::string(std::strerror(rc)));
    }
    std::string output;
    char chunk[16384];
    ssize_t n;
    while ((n = ::read(pipe_fds[0], chunk, sizeof chunk)) > 0 || (n < 0 && errno == EINTR))
        if (n > 0)
            output.append(chunk, static_cast<size_t>(n));
    ::close(pipe_fds[0]);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        throw std::runtime_error("git show-ref failed in " + repo.string());
    return checksum_of_show_ref(output);
}

// ---------------------------------------------------------------------------------------------

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// User plus system CPU time of this process and its waited-for children.
double cpu_seconds() {
    double total = 0;
    for (int who : {RUSAGE_SELF, RUSAGE_CHILDREN}) {
        rusage usage{};
        ::getrusage(who, &usage);
        for (const timeval& t : {usage.ru_utime, usage.ru_stime})
            total += static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
    }
    return total;
}

// Wall time, and CPU time: on a busy machine the CPU time is the steadier of the two.
struct Timing {
    double wall = 1e9;
    double cpu = 1e9;

    void keep_best(const Timing& other) {
        wall = std::min(wall, other.wall);
        cpu = std::min(cpu, other.cpu);
    }
};

// Runs WORK(i) for every repository index on THREADS threads.
Timing run_on_threads(size_t count, int threads, const std::function<void(size_t)>& work) {
    std::atomic<size_t> next{0};
    double cpu_start = cpu_seconds();
    auto start = std::chrono::steady_clock::now();
    auto worker = [&] {
        for (size_t i = next++; i < count; i = next++)
            work(i);
    };
    std::vector<std::thread> pool;
    for (int t = 1; t < threads; ++t)
        pool.emplace_back(worker);
    worker();
    for (auto& thread : pool)
        thread.join();
    return {seconds_since(start), cpu_seconds() - cpu_start};
}

void print_row(const char* what, const Timing& timing, size_t repositories) {
    std::printf("%-44s %8.3f s %8.0f repos/s %9.0f refs/s   cpu %7.3f s\n", what, timing.wall,
                repositories / timing.wall, repositories * static_cast<double>(k_refs) / timing.wall, timing.cpu);
}

int run(int argc, char** argv) {
    int count = 2000;
    if (argc > 2 || (argc == 2 && (count = std::atoi(argv[1])) <= 0)) {
        std::fprintf(stderr, "usage: %s [REPOSITORIES]   (default 2000)\n", argv[0]);
        return 2;
    }
    git::Library libgit2;
    WorkDir work;

    auto start = std::chrono::steady_clock::now();
    Objects objects = make_objects(work.path());
    std::vector<fs::path> repos;
    for (int i = 0; i < count; ++i) {
        repos.push_back(work.path() / "repositories" / (std::to_string(i) + ".git"));
        make_repository(repos.back(), i, objects);
    }
    std::printf("%d bare repositories, %d refs each (%d packed, %d loose), made in %.1f s under %s\n\n", count, k_refs,
                k_packed_refs, k_loose_refs, seconds_since(start), work.path().c_str());

    // Warm the cache, and check that every repository gives git's checksum.
    std::vector<std::string> ours(repos.size());
    size_t files = 0, bytes = 0;
    for (size_t i = 0; i < repos.size(); ++i) {
        bytes += read_ref_files(repos[i], files);
        ours[i] = repository_checksum(repos[i]);
    }

    // Rounds interleave the three in-process measurements, so that load from elsewhere on the
    // machine hits them alike; the best round of each counts.
    std::vector<size_t> sink(repos.size());
    Timing floor, single, two;
    for (int round = 0; round < k_rounds; ++round) {
        floor.keep_best(run_on_threads(repos.size(), 1, [&](size_t i) {
            size_t n = 0;
            sink[i] = read_ref_files(repos[i], n);
        }));
        single.keep_best(run_on_threads(repos.size(), 1, [&](size_t i) { ours[i] = repository_checksum(repos[i]); }));
        two.keep_best(run_on_threads(repos.size(), 2, [&](size_t i) { ours[i] = repository_checksum(repos[i]); }));
    }
    std::vector<std::string> gitaly(repos.size());
    Timing baseline =
        run_on_threads(repos.size(), 1, [&](size_t i) { gitaly[i] = show_ref_checksum(repos[i]); });

    size_t mismatches = 0;
    for (size_t i = 0; i < repos.size(); ++i)
        mismatches += ours[i] != gitaly[i];

    std::printf("%zu ref files read per pass (%zu bytes); best of %d rounds, warm cache; show-ref: one round\n",
                files, bytes, k_rounds);
    print_row("(c) floor: read every ref file", floor, repos.size());
    print_row("(a) geo-ssf repository_checksum, 1 thread", single, repos.size());
    print_row("(a) geo-ssf repository_checksum, 2 threads", two, repos.size());
    print_row("(b) baseline: git show-ref --head per repo", baseline, repos.size());
    std::printf("\n                       wall    cpu\n");
    std::printf("1 thread / floor:     %5.2fx  %5.2fx   (target: at most 2x)\n", single.wall / floor.wall,
                single.cpu / floor.cpu);
    std::printf("show-ref / 1 thread:  %5.1fx  %5.1fx   (target: at least 5x)\n", baseline.wall / single.wall,
                baseline.cpu / single.cpu);
    std::printf("show-ref / 2 threads: %5.1fx\n", baseline.wall / two.wall);
    std::printf("2 threads / 1 thread: %5.2fx faster\n", single.wall / two.wall);
    std::printf("checksums equal to git show-ref's: %zu of %zu\n", repos.size() - mismatches, repos.size());
    return mismatches == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    // The baseline's git reads none of this machine's configuration.
    ::setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
    ::setenv("GIT_CONFIG_GLOBAL", "/dev/null", 1);
    try {
        return run(argc, argv);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "checksum-bench: %s\n", e.what());
        return 1;
    }
}
