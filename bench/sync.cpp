// bench/sync: the first sync of N small repositories (default 1,000) from a file:// primary,
// against `git clone --mirror` run once per repository, in the same run; then a sync of the
// same N when every copy is already current. Run under pg_virtualenv:
//   build/bench/sync-bench [N] [JOBS]
#include "bench_support.hpp"

#include <cstdio>

int main(int argc, char** argv) try {
    long long total = argc > 1 ? std::atoll(argv[1]) : 1000;
    std::string jobs = argc > 2 ? argv[2] : "2";
    std::string binary = std::filesystem::canonical("/proc/self/exe").parent_path().parent_path() / "cmd" / "geo-ssf";
    auto root = std::filesystem::path(bench::temporary_root("geo-ssf-bench-sync"));
    std::string main_db = bench::scratch_database("geo_ssf_bench_sync_main");
    std::string geo_db = bench::scratch_database("geo_ssf_bench_sync_geo");
    auto primary = root / "primary.yml", secondary = root / "secondary.yml", log = root / "bench.log";
    bench::write_file(primary, "databases: {main: \"" + main_db + "\"}\nstorage: {root: primary}\n");
    bench::write_file(secondary, "site: {role: secondary}\ndatabases: {main: \"" + main_db + "\", geo: \"" + geo_db +
                                     "\"}\nstorage: {root: secondary, primary_url: \"file://" + (root / "primary").string() +
                                     "\"}\nsync: {batch_size: 100}\n");
    std::filesystem::create_directories(root / "secondary");
    bench::run("cd '" + root.string() + "' && '" + binary + "' -c primary.yml generate replicable CoolWidget >/dev/null");
    {
        pqxx::connection db(main_db);
        pqxx::nontransaction tx(db);
        tx.exec("CREATE TABLE cool_widgets (id bigserial PRIMARY KEY, name text)");
        tx.exec("INSERT INTO cool_widgets (id) SELECT generate_series(1, " + std::to_string(total) + ")");
    }
    bench::run("'" + binary + "' -c '" + primary.string() + "' migrate >/dev/null && '" + binary + "' -c '" +
               secondary.string() + "' migrate >/dev/null");
    std::string head = bench::make_template_repository(root / "template.git");
    for (long long id = 1; id <= total; ++id)
        bench::copy_repository(root / "template.git", root / "primary" / "cool_widgets" / (std::to_string(id) + ".git"),
                               head, id);

    // The baseline: one `git clone --mirror` per repository, one after the other.
    std::filesystem::create_directories(root / "baseline");
    std::string clones = "cd '" + root.string() + "' && for i in $(seq 1 " + std::to_string(total) +
                         "); do git clone -q --mirror file://" + (root / "primary").string() +
                         "/cool_widgets/$i.git baseline/$i.git || exit 1; done";
    auto baseline = bench::measure({"sh", "-c", clones}, log);

    auto first = bench::measure({binary, "-c", secondary.string(), "sync", "--jobs", jobs}, log);
    auto first_single = first;
    auto again = bench::measure({binary, "-c", secondary.string(), "resync", "cool_widget", "--all"}, log);
    auto current = bench::measure({binary, "-c", secondary.string(), "sync", "--jobs", jobs}, log);

    pqxx::connection geo(geo_db);
    long long synced = pqxx::nontransaction(geo)
                           .exec1("SELECT count(*) FROM cool_widget_registry WHERE state = 2")[0]
                           .as<long long>();
    std::printf("git clone --mirror, once per repository: %6.2f s (%5.1f ms per repository), exit %d\n", baseline.seconds,
                1000 * baseline.seconds / total, baseline.status);
    std::printf("geo-ssf sync, first sync (--jobs %s):     %6.2f s (%5.1f ms per repository), exit %d, peak %.1f MB\n",
                jobs.c_str(), first_single.seconds, 1000 * first_single.seconds / total, first_single.status,
                first_single.peak_kib / 1024.0);
    std::printf("speed-up over the baseline: %.1fx\n", baseline.seconds / first.seconds);
    std::printf("geo-ssf sync, every copy current:        %6.2f s (%5.1f ms per repository), exit %d (resync --all %.2f s)\n",
                current.seconds, 1000 * current.seconds / total, current.status, again.seconds);
    std::printf("%lld of %lld synced\n", synced, total);
    if (!std::getenv("GEO_SSF_BENCH_KEEP"))
        std::filesystem::remove_all(root);
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "sync-bench: %s\n", e.what());
    return 1;
}
