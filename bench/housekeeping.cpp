// bench/housekeeping: a copy kept compact while its repository is pushed to again and again.
//
//   build-dir/bench/housekeeping-bench [PUSHES], under pg_virtualenv
//
// A primary repository of 300 files is pushed to PUSHES times (default 150), each push a small
// commit (a few files changed); after each push, two secondaries sync it: one housekeeps its
// copies (as a type does by default), the other has housekeeping_enabled: false. After every
// sync the housekept copy is measured (disk, loose objects, packs) against the same copy after
// `git gc`. Targets: disk within 1.2x git gc's at every point of the series; loose objects and
// packs within geo-ssf-sync(1)'s bounds (fewer than 64 loose objects, at most 16 packs) after
// every sync. It prints the time housekeeping adds to a sync.
#include "bench_support.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

long long loose_objects(const fs::path& copy) {
    long long count = 0;
    for (const auto& folder : fs::directory_iterator(copy / "objects"))
        if (folder.is_directory() && folder.path().filename().string().size() == 2)
            count += std::distance(fs::directory_iterator(folder.path()), fs::directory_iterator());
    return count;
}

long long packs(const fs::path& copy) {
    long long count = 0;
    for (const auto& entry : fs::directory_iterator(copy / "objects" / "pack"))
        count += entry.path().extension() == ".pack";
    return count;
}

// The disk COPY would take after git gc: measured on a copy of it.
long long gc_kib(const fs::path& copy, const fs::path& scratch) {
    fs::remove_all(scratch);
    bench::run("cp -r '" + copy.string() + "' '" + scratch.string() + "' && git --git-dir='" + scratch.string() +
               "' gc -q");
    long long kib = bench::disk_kib(scratch);
    fs::remove_all(scratch);
    return kib;
}

std::string scalar(const std::string& conninfo, const std::string& sql) {
    pqxx::connection db(conninfo);
    pqxx::nontransaction tx(db);
    auto row = tx.exec1(sql);
    return row[0].is_null() ? "" : row[0].c_str();
}

}  // namespace

int main(int argc, char** argv) try {
    std::string binary = fs::canonical("/proc/self/exe").parent_path().parent_path() / "cmd" / "geo-ssf";
    int pushes = argc > 1 ? std::max(1, std::atoi(argv[1])) : 150;
    auto root = fs::path(bench::temporary_root("geo-ssf-bench-housekeeping"));
    auto log = root / "bench.log";
    bench::hermetic_git();
    const std::string name = "geo_ssf_bench_housekeeping";
    std::string main_db = bench::one_record_primary(root, binary, name);
    auto repository = root / "primary" / "cool_widgets" / "1.git";
    auto work = root / "work";
    bench::run("git init -q --bare -b main '" + repository.string() + "' && git init -q -b main '" + work.string() +
               "' && cd '" + work.string() + "' && for i in $(seq 1 300); do head -c 3000 /dev/urandom | base64 > f$i; "
               "done && git add . && git commit -qm start && git push -q '" + repository.string() + "' main");

    std::string url = "file://" + (root / "primary").string();
    auto kept = bench::secondary_site(root, binary, main_db, name, "kept", url);
    // The other site's types say housekeeping_enabled: false.
    auto bare_root = root / "without";
    fs::create_directories(bare_root);
    bench::run("cp -r '" + (root / "replicables").string() + "' '" + (root / "migrations").string() + "' '" +
               bare_root.string() + "' && sed -i 's/^housekeeping_enabled: true/housekeeping_enabled: false/' '" +
               (bare_root / "replicables").string() + "'/*.yml");
    auto without = bench::secondary_site(bare_root, binary, main_db, name, "without", url);
    auto kept_copy = root / "kept" / "cool_widgets" / "1.git";
    auto unkept_copy = bare_root / "without" / "cool_widgets" / "1.git";

    auto sync = [&](const fs::path& config) {
        auto figures = bench::measure({binary, "-q", "-c", config.string(), "sync"}, log);
        if (figures.status != 0)
            throw std::runtime_error("sync exited " + std::to_string(figures.status) + "; see " + log.string());
        return figures.seconds;
    };
    sync(kept);
    sync(without);

    double kept_seconds = 0, unkept_seconds = 0, worst_ratio = 0;
    long long worst_loose = 0, worst_packs = 0;
    std::map<std::string, int> tasks;
    std::printf("%5s %10s %10s %7s %6s %6s %12s\n", "push", "copy KiB", "gc KiB", "ratio", "loose", "packs",
                "without KiB");
    for (int push = 1; push <= pushes; ++push) {
        bench::run("cd '" + work.string() + "' && for i in 1 2 3; do head -c 3000 /dev/urandom | base64 > f$(( (" +
                   std::to_string(push) + " * 7 + i) % 300 + 1 )); done && git commit -qam 'push " +
                   std::to_string(push) + "' && git push -q '" + repository.string() + "' main");
        bench::run("'" + binary + "' -q -c '" + (root / "primary.yml").string() + "' event cool_widget updated 1");
        kept_seconds += sync(kept);
        unkept_seconds += sync(without);
        ++tasks[scalar("dbname=" + name + "_kept", "SELECT housekeeping_tasks FROM geo_ssf_housekeeping")];
        long long copy_kib = bench::disk_kib(kept_copy), reference = gc_kib(kept_copy, root / "gc.git");
        long long loose = loose_objects(kept_copy), pack_count = packs(kept_copy);
        double ratio = static_cast<double>(copy_kib) / static_cast<double>(reference);
        worst_ratio = std::max(worst_ratio, ratio);
        worst_loose = std::max(worst_loose, loose);
        worst_packs = std::max(worst_packs, pack_count);
        if (push % 10 == 0 || push == pushes)
            std::printf("%5d %10lld %10lld %6.2fx %6lld %6lld %12lld\n", push, copy_kib, reference, ratio, loose,
                        pack_count, bench::disk_kib(unkept_copy));
    }
    std::printf("at every point: disk at most %.2fx git gc's (target 1.2x), at most %lld loose objects (bound: "
                "fewer than 64) and %lld packs (bound: 16)\n",
                worst_ratio, worst_loose, worst_packs);
    std::printf("without housekeeping, after %d pushes: %lld KiB, %lld loose objects, %lld packs\n", pushes,
                bench::disk_kib(unkept_copy), loose_objects(unkept_copy), packs(unkept_copy));
    std::printf("a sync took %.0f ms with housekeeping, %.0f ms without: housekeeping adds %.0f ms a sync\n",
                1000 * kept_seconds / pushes, 1000 * unkept_seconds / pushes,
                1000 * (kept_seconds - unkept_seconds) / pushes);
    std::printf("housekeeping's tasks:");
    for (const auto& [what, count] : tasks)
        std::printf(" %s: %d;", what.c_str(), count);
    std::printf("\n");
    fs::remove_all(root);
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "housekeeping-bench: %s\n", e.what());
    return 1;
}
