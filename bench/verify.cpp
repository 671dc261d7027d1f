// bench/verify: a full primary verification pass, end to end (the geo-ssf process), over
// 10,000 and then N records (default 100,000) with small repositories: records per second and
// peak memory. Run under pg_virtualenv: build/bench/verify-bench [N] [JOBS]
#include "bench_support.hpp"

#include <cstdio>

int main(int argc, char** argv) try {
    long long total = argc > 1 ? std::atoll(argv[1]) : 100000;
    std::string jobs = argc > 2 ? argv[2] : "2";
    std::string binary = std::filesystem::canonical("/proc/self/exe").parent_path().parent_path() / "cmd" / "geo-ssf";
    auto root = std::filesystem::path(bench::temporary_root("geo-ssf-bench-verify"));
    std::string conninfo = bench::scratch_database("geo_ssf_bench_verify");
    bench::write_file(root / "geo-ssf.yml", "databases: {main: \"" + conninfo + "\"}\nstorage: {root: repositories}\n");
    auto log = root / "bench.log";
    bench::run("cd '" + root.string() + "' && '" + binary + "' generate replicable CoolWidget >/dev/null");
    {
        pqxx::connection db(conninfo);
        pqxx::nontransaction(db).exec("CREATE TABLE cool_widgets (id bigserial PRIMARY KEY, name text)");
    }
    bench::run("'" + binary + "' -c '" + (root / "geo-ssf.yml").string() + "' migrate >/dev/null");

    std::string head = bench::make_template_repository(root / "template.git");
    auto made = std::chrono::steady_clock::now();
    for (long long id = 1; id <= total; ++id)
        bench::copy_repository(root / "template.git", root / "repositories" / "cool_widgets" / (std::to_string(id) + ".git"),
                               head, id);
    std::printf("made %lld repositories in %.1f s\n", total,
                std::chrono::duration<double>(std::chrono::steady_clock::now() - made).count());

    pqxx::connection db(conninfo);
    for (long long n : {std::min(total, 10000LL), total}) {
        {
            pqxx::nontransaction tx(db);
            tx.exec("TRUNCATE cool_widget_states, geo_events");
            tx.exec("DELETE FROM cool_widgets");
            tx.exec("INSERT INTO cool_widgets (id) SELECT generate_series(1, " + std::to_string(n) + ")");
            tx.exec("VACUUM ANALYZE cool_widgets");
        }
        auto f = bench::measure({binary, "-c", (root / "geo-ssf.yml").string(), "-vv", "verify", "--jobs", jobs}, log);
        long long verified = pqxx::nontransaction(db)
                                 .exec1("SELECT count(*) FROM cool_widget_states WHERE verification_state = 2")[0]
                                 .as<long long>();
        std::printf("verify %7lld records: %6.2f s, %8.0f records/s, peak memory %6.1f MB, exit %d, %lld verified\n", n,
                    f.seconds, n / f.seconds, f.peak_kib / 1024.0, f.status, verified);
    }
    if (!std::getenv("GEO_SSF_BENCH_KEEP"))
        std::filesystem::remove_all(root);
    pqxx::connection server("dbname=postgres");
    pqxx::nontransaction(server).exec("DROP DATABASE geo_ssf_bench_verify WITH (FORCE)");
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "verify-bench: %s\n", e.what());
    return 1;
}
