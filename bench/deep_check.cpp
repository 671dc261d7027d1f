// bench/deep_check: what a deep check costs and what it finds.
//
//   build-dir/bench/deep-check-bench [BARE-REPOSITORY] [ROUNDS], under pg_virtualenv
//
// 1. Throughput: a copy of BARE-REPOSITORY (a local mirror of a real project; without one, a
//    repository the size of a large project built first) deep-checked by geo-ssf (git fsck when
//    installed, as sync and verify do) and by libgit2 alone (a site without git), against
//    `git fsck --no-dangling` on the same copy. Each is run ROUNDS times (default 3) with a warm
//    cache; the best time of each is compared. Target: geo-ssf at most 1.1x git fsck.
// 2. Repair: 20 copies synced and verified by a secondary, a byte flipped in the pack of one;
//    one deep pass (reverify --all --deep, then verify) must find that copy alone, the next sync
//    and verify must bring it back proven, and the 19 others must keep every file (same inode,
//    same modification time).
#include "bench_support.hpp"
#include "large_repository.hpp"

#include "repo/deep_check.hpp"
#include "repo/git.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

namespace fs = std::filesystem;

namespace {

constexpr long long k_copies = 20;
constexpr long long k_damaged = 7;

double best_of(int rounds, const std::function<double()>& once) {
    double best = 1e300;
    for (int i = 0; i < rounds; ++i)
        best = std::min(best, once());
    return best;
}

double seconds_of(const std::function<void()>& work) {
    auto start = std::chrono::steady_clock::now();
    work();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void require_passed(const geo_ssf::DeepCheckResult& result, const char* what) {
    if (result.verdict != geo_ssf::DeepCheckResult::Verdict::passed)
        throw std::runtime_error(std::string(what) + " did not pass: " + result.problem);
}

void throughput(const fs::path& root, const std::string& source, int rounds) {
    fs::path copy = root / "throughput.git";
    if (source.empty()) {
        std::printf("building a repository the size of a large project...\n");
        bench::make_large_repository(copy);
    } else {
        bench::run("cp -r '" + source + "' '" + copy.string() + "'");
    }
    std::printf("1. deep check of %s (%lld KiB on disk), best of %d, warm cache\n",
                source.empty() ? "the built repository" : source.c_str(), bench::disk_kib(copy), rounds);
    auto log = root / "fsck.log";
    bench::ProcessFigures fsck_figures;
    double fsck = best_of(rounds, [&] {
        fsck_figures = bench::measure({"git", "--git-dir=" + copy.string(), "fsck", "--no-dangling"}, log);
        if (fsck_figures.status != 0)
            throw std::runtime_error("git fsck failed on the copy; see " + log.string());
        return fsck_figures.seconds;
    });
    geo_ssf::git::Library library;
    const char* method = "";
    double ours = best_of(rounds, [&] {
        return seconds_of([&] {
            auto result = geo_ssf::deep_check(copy, std::chrono::hours(1), "bench");
            require_passed(result, "geo-ssf's deep check");
            method = result.method;
        });
    });
    double libgit2 = best_of(rounds, [&] {
        return seconds_of([&] { require_passed(geo_ssf::deep_check_with_libgit2(copy), "libgit2's deep check"); });
    });
    std::printf("  %-34s %8.2f s, peak %7.1f MB\n", "git fsck --no-dangling", fsck, fsck_figures.peak_kib / 1024.0);
    std::printf("  %-34s %8.2f s  %5.2fx git fsck\n", ("geo-ssf (" + std::string(method) + ")").c_str(), ours,
                ours / fsck);
    std::printf("  %-34s %8.2f s  %5.2fx git fsck\n", "geo-ssf without git (libgit2)", libgit2, libgit2 / fsck);
    fs::remove_all(copy);
}

// Every file of a copy: its inode and modification time.
using Identity = std::map<std::string, std::tuple<ino_t, long long, long long>>;

Identity identity_of(const fs::path& copy) {
    Identity out;
    for (const auto& entry : fs::recursive_directory_iterator(copy)) {
        struct stat st {};
        if (::lstat(entry.path().c_str(), &st) == 0 && !S_ISDIR(st.st_mode))
            out[fs::relative(entry.path(), copy).string()] = {st.st_ino, st.st_mtim.tv_sec, st.st_mtim.tv_nsec};
    }
    return out;
}

// Flips one byte in the middle of COPY's largest pack, in a file of its own (never through a
// link the primary's pack might share).
void flip_byte_in_pack(const fs::path& copy) {
    fs::path pack;
    for (const auto& entry : fs::directory_iterator(copy / "objects" / "pack"))
        if (entry.path().extension() == ".pack" && (pack.empty() || fs::file_size(entry) > fs::file_size(pack)))
            pack = entry.path();
    if (pack.empty())
        throw std::runtime_error("copy " + copy.string() + " has no pack");
    fs::path fresh = pack.string() + ".bench";
    fs::copy_file(pack, fresh);
    fs::permissions(fresh, fs::perms::owner_read | fs::perms::owner_write);
    std::FILE* file = std::fopen(fresh.c_str(), "r+b");
    if (!file)
        throw std::runtime_error("cannot open " + fresh.string());
    long middle = static_cast<long>(fs::file_size(fresh) / 2);
    std::fseek(file, middle, SEEK_SET);
    int byte = std::fgetc(file);
    std::fseek(file, middle, SEEK_SET);
    std::fputc(byte ^ 0xff, file);
    std::fclose(file);
    fs::rename(fresh, pack);
}

std::string scalar(const std::string& conninfo, const std::string& sql) {
    pqxx::connection db(conninfo);
    pqxx::nontransaction tx(db);
    auto row = tx.exec1(sql);
    return row[0].is_null() ? "" : row[0].c_str();
}

void repair(const fs::path& root, const std::string& binary) {
    auto log = root / "bench.log";
    std::string main_db = bench::one_record_primary(root, binary, "geo_ssf_bench_deep_check");
    auto primary = root / "primary" / "cool_widgets";
    std::string head = bench::make_template_repository(root / "template.git");
    {
        pqxx::connection db(main_db);
        pqxx::nontransaction tx(db);
        tx.exec("INSERT INTO cool_widgets (id) SELECT generate_series(2, " + std::to_string(k_copies) + ")");
    }
    for (long long id = 1; id <= k_copies; ++id)
        bench::copy_repository(root / "template.git", primary / (std::to_string(id) + ".git"), head, id);
    auto config = bench::secondary_site(root, binary, main_db, "geo_ssf_bench_deep_check", "secondary",
                                        "file://" + (root / "primary").string());
    std::string geo_db = "dbname=geo_ssf_bench_deep_check_secondary";
    auto geo_ssf = [&](const fs::path& site, std::vector<std::string> args) {
        args.insert(args.begin(), {binary, "-q", "-c", site.string()});
        return bench::measure(args, log);
    };
    auto step = [&](const fs::path& site, std::vector<std::string> args, int expected) {
        auto figures = geo_ssf(site, args);
        if (figures.status != expected)
            throw std::runtime_error(args[0] + " exited " + std::to_string(figures.status) + "; see " + log.string());
        return figures;
    };
    step(root / "primary.yml", {"verify"}, 0);
    step(config, {"sync"}, 0);
    step(config, {"verify"}, 0);
    auto copies = root / "secondary" / "cool_widgets";
    auto copy = [&](long long id) { return copies / (std::to_string(id) + ".git"); };
    std::map<long long, Identity> before;
    for (long long id = 1; id <= k_copies; ++id)
        if (id != k_damaged)
            before[id] = identity_of(copy(id));

    flip_byte_in_pack(copy(k_damaged));
    step(config, {"reverify", "cool_widget", "--all", "--deep"}, 0);
    auto pass = step(config, {"verify"}, 1);  // a failed deep check is a failed record
    std::string found = scalar(geo_db, "SELECT string_agg(record_id::text, ',' ORDER BY record_id) FROM "
                                       "geo_ssf_deep_checks WHERE deep_check_state = 3");
    auto resync = step(config, {"sync"}, 0);
    auto proven = step(config, {"verify"}, 0);
    std::string state = scalar(geo_db, "SELECT verification_state FROM cool_widget_registry WHERE cool_widget_id = " +
                                           std::to_string(k_damaged));
    bool fsck_clean = std::system(("git --git-dir='" + copy(k_damaged).string() + "' fsck --no-dangling >>'" + log.string() + "' 2>&1")
                                      .c_str()) == 0;
    long long untouched = 0;
    for (const auto& [id, identity] : before)
        untouched += identity_of(copy(id)) == identity;

    std::printf("2. a byte flipped in the pack of copy %lld of %lld\n", k_damaged, k_copies);
    std::printf("  deep pass (verify of %lld copies)  %8.2f s, found: %s\n", k_copies, pass.seconds,
                found.empty() ? "nothing" : ("record " + found).c_str());
    std::printf("  next sync (clone again)            %8.2f s\n", resync.seconds);
    std::printf("  next verify                        %8.2f s, copy %lld %s, git fsck %s\n", proven.seconds,
                k_damaged, state == "2" ? "verified" : ("in verification state " + state).c_str(),
                fsck_clean ? "clean" : "FAILS");
    std::printf("  other copies untouched             %lld of %lld (same inode and mtime of every file)\n", untouched,
                k_copies - 1);
}

}  // namespace

int main(int argc, char** argv) try {
    std::string binary = fs::canonical("/proc/self/exe").parent_path().parent_path() / "cmd" / "geo-ssf";
    std::string source = argc > 1 ? argv[1] : "";
    int rounds = argc > 2 ? std::max(1, std::atoi(argv[2])) : 3;
    auto root = fs::path(bench::temporary_root("geo-ssf-bench-deep-check"));
    bench::hermetic_git();
    throughput(root, source, rounds);
    repair(root, binary);
    fs::remove_all(root);
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "deep-check-bench: %s\n", e.what());
    return 1;
}
