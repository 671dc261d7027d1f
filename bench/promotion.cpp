// bench/promotion: `geo-ssf check --promotion`, the whole process, on a secondary whose
// registry and the primary's states table hold N rows each (default 1,000,000, measured after
// 1,000 and 100,000), every copy verified with the primary's checksum but 0.1% (checksums that
// differ, a tenth of those not synced), against one SELECT count(*) of the states table. The
// preflight reads rows only, never a repository: the size of the repositories does not matter.
//
// Run under pg_virtualenv: build-dir/bench/promotion-bench [ROWS] [ROUNDS]
#include "bench_support.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>

namespace {

using Clock = std::chrono::steady_clock;

double median(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    return values[values.size() / 2];
}

}  // namespace

int main(int argc, char** argv) try {
    long long rows = argc > 1 ? std::atoll(argv[1]) : 1000000;
    int rounds = argc > 2 ? std::atoi(argv[2]) : 3;
    std::string binary = std::filesystem::canonical("/proc/self/exe").parent_path().parent_path() / "cmd" / "geo-ssf";
    auto root = std::filesystem::path(bench::temporary_root("geo-ssf-bench-promotion"));
    std::string main_info = bench::scratch_database("geo_ssf_bench_promotion_main");
    std::string geo_info = bench::scratch_database("geo_ssf_bench_promotion_geo");
    auto primary = root / "primary.yml";
    auto secondary = root / "secondary.yml";
    bench::write_two_site_configs(root, main_info, geo_info);
    std::filesystem::create_directories(root / "repositories");
    bench::run("'" + binary + "' -c '" + primary.string() + "' generate replicable CoolWidget >/dev/null");
    pqxx::connection main_db(main_info);
    pqxx::connection geo_db(geo_info);
    pqxx::nontransaction(main_db).exec("CREATE TABLE cool_widgets (id bigserial PRIMARY KEY, name text)");
    bench::run("'" + binary + "' -c '" + primary.string() + "' migrate >/dev/null");
    bench::run("'" + binary + "' -c '" + secondary.string() + "' migrate >/dev/null");
    auto log = root / "bench.log";

    long long seeded = 0;
    for (long long n : {std::min(rows, 1000LL), std::min(rows, 100000LL), rows}) {
        if (n <= seeded)
            continue;
        std::string from = std::to_string(seeded + 1), to = std::to_string(n);
        {
            pqxx::nontransaction m(main_db);
            m.exec("INSERT INTO cool_widgets (id) SELECT generate_series(" + from + ", " + to + ")");
            m.exec("INSERT INTO cool_widget_states (cool_widget_id, verification_state, verification_checksum, "
                   "verified_at) SELECT g, 2, decode(md5(g::text), 'hex'), now() FROM generate_series(" + from +
                   ", " + to + ") g");
            m.exec("VACUUM ANALYZE cool_widgets");
            m.exec("VACUUM ANALYZE cool_widget_states");
            pqxx::nontransaction g(geo_db);
            g.exec("INSERT INTO cool_widget_registry (cool_widget_id, created_at, last_synced_at, state, "
                   "verification_state, verification_checksum) SELECT g, now(), now(), "
                   "CASE WHEN g % 10000 = 7 THEN 0 ELSE 2 END, 2, "
                   "decode(md5(CASE WHEN g % 1000 = 7 THEN 'x' ELSE '' END || g::text), 'hex') "
                   "FROM generate_series(" + from + ", " + to + ") g");
            g.exec("VACUUM ANALYZE cool_widget_registry");
        }
        seeded = n;
        std::vector<double> check, json, count;
        long long lost = 0;
        for (int round = 0; round < rounds; ++round) {
            auto f = bench::measure({binary, "-c", secondary.string(), "check", "--promotion"}, log);
            if (f.status > 1)
                throw std::runtime_error("check --promotion exited with " + std::to_string(f.status) + "; see " +
                                         log.string());
            check.push_back(f.seconds);
            auto out = root / "check.json";
            std::filesystem::remove(out);
            auto j = bench::measure({"sh", "-c", "'" + binary + "' -c '" + secondary.string() +
                                                     "' check --promotion --format json >'" + out.string() + "'"},
                                    log);
            json.push_back(j.seconds);
            std::ifstream in(out);
            lost = static_cast<long long>(nlohmann::json::parse(in)["replicables"][0]["lost"].size());
            auto started = Clock::now();
            pqxx::nontransaction(main_db).exec("SELECT count(*) FROM cool_widget_states");
            count.push_back(std::chrono::duration<double>(Clock::now() - started).count());
        }
        std::printf("%lld records: check --promotion %.2f s (%.0f records/s), --format json %.2f s with %lld lost "
                    "records listed; SELECT count(*) of the states table %.3f s\n",
                    n, median(check), n / median(check), median(json), lost, median(count));
    }

    std::filesystem::remove_all(root);
    main_db.disconnect();
    geo_db.disconnect();
    pqxx::connection server("dbname=postgres");
    pqxx::nontransaction drop(server);
    drop.exec("DROP DATABASE geo_ssf_bench_promotion_main WITH (FORCE)");
    drop.exec("DROP DATABASE geo_ssf_bench_promotion_geo WITH (FORCE)");
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "promotion-bench: %s\n", e.what());
    return 1;
}
