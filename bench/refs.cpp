// bench/refs: one repository with many refs (default 100,000: half branches, half GitLab-style
// refs/merge-requests/N/head, all on one commit, written straight into packed-refs), synced by
// geo-ssf from a file:// primary. Prints the time and peak memory of the first sync, of a sync
// with the copy current, of a checksum of the copy, the disk the copy takes against
// `git clone --mirror` of the same repository, and the loose refs left in the copy.
// Run under pg_virtualenv:
//   build/bench/refs-bench [REFS]
// Targets: the copy within 5% of the mirror clone's disk, no loose refs, peak memory growing
// far less than the refs' text (REFS x ~60 bytes).
#include "bench_support.hpp"

#include <algorithm>
#include <cstdio>

namespace {

// The template repository with REFS more refs on its main commit, in packed-refs (sorted, as git
// writes it).
void add_refs(const std::filesystem::path& repository, const std::string& head, long long refs) {
    std::vector<std::string> names{"refs/heads/main"};
    for (long long i = 1; i <= refs; ++i)
        names.push_back(i % 2 ? "refs/heads/branch-" + std::to_string(i)
                              : "refs/merge-requests/" + std::to_string(i) + "/head");
    std::sort(names.begin(), names.end());
    std::string text = "# pack-refs with: peeled fully-peeled sorted \n";
    for (const auto& name : names)
        text += head + " " + name + "\n";
    bench::write_file(repository / "packed-refs", text);
    std::filesystem::remove_all(repository / "refs" / "tags");
    std::filesystem::create_directories(repository / "refs" / "tags");
}

void print(const char* what, const bench::ProcessFigures& f) {
    std::printf("%-34s %7.2f s, peak %7.1f MB, exit %d\n", what, f.seconds, f.peak_kib / 1024.0, f.status);
}

}  // namespace

int main(int argc, char** argv) try {
    long long refs = argc > 1 ? std::atoll(argv[1]) : 100000;
    std::string binary = std::filesystem::canonical("/proc/self/exe").parent_path().parent_path() / "cmd" / "geo-ssf";
    auto root = std::filesystem::path(bench::temporary_root("geo-ssf-bench-refs"));
    std::string main_db = bench::one_record_primary(root, binary, "geo_ssf_bench_refs");
    auto secondary = bench::secondary_site(root, binary, main_db, "geo_ssf_bench_refs", "secondary",
                                           "file://" + (root / "primary").string());
    auto log = root / "bench.log";
    auto source = root / "primary" / "cool_widgets" / "1.git";
    std::filesystem::create_directories(source.parent_path());
    std::string head = bench::make_template_repository(source);
    add_refs(source, head, refs);

    auto baseline = bench::measure({"git", "clone", "-q", "--mirror", "file://" + source.string(),
                                    (root / "baseline.git").string()},
                                   log);
    auto first = bench::measure({binary, "-c", secondary.string(), "sync"}, log);
    auto current = bench::measure({binary, "-c", secondary.string(), "resync", "cool_widget", "1", "--now"}, log);
    auto copy = root / "secondary" / "cool_widgets" / "1.git";
    auto checksum = bench::measure({binary, "checksum", copy.string()}, log);

    std::printf("%lld refs\n", refs);
    print("git clone --mirror:", baseline);
    print("geo-ssf sync, first sync:", first);
    print("geo-ssf resync --now, copy current:", current);
    print("geo-ssf checksum of the copy:", checksum);
    long long copy_kib = bench::disk_kib(copy), mirror_kib = bench::disk_kib(root / "baseline.git");
    std::printf("disk: copy %lld KiB, git clone --mirror %lld KiB (%+.1f%%)\n", copy_kib, mirror_kib,
                100.0 * (copy_kib - mirror_kib) / mirror_kib);
    std::printf("loose refs in the copy: %lld\n", bench::loose_refs(copy));
    if (!std::getenv("GEO_SSF_BENCH_KEEP"))
        std::filesystem::remove_all(root);
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "refs-bench: %s\n", e.what());
    return 1;
}
