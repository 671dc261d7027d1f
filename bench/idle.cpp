// bench/idle: what a cron run costs when there is nothing to do, at two table sizes in the same
// run (default 10,000 and 1,000,000 records): every record checksummed on the primary, synced
// and verified on the secondary, every event processed, a full pass of the state-row backfill
// and of registry consistency made. Measured per size: a primary `verify`,
// a secondary `sync`, a secondary `verify`, and `status` on each site, as whole processes (wall
// time) and as database time (pg_stat_database.active_time of the main and tracking databases
// over the run: the time their backends spent executing statements). Targets: each at the
// large size within 2x its figure at the small size, and below 100 ms of database time.
//
// Run under pg_virtualenv: build-dir/bench/idle-bench [SMALL] [LARGE] [ROUNDS]
#include "bench_support.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <thread>

namespace {

struct Figures {
    std::vector<double> wall, database;  // seconds, one per round
};

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
}

// A primary and a secondary of N records with nothing left to do.
struct IdleSites {
    std::string binary;
    std::filesystem::path root, primary, secondary, log;
    std::string main_name, geo_name;

    IdleSites(const std::string& geo_ssf, const std::filesystem::path& folder, long long n) : binary(geo_ssf), root(folder) {
        std::string size = std::to_string(n);
        main_name = "geo_ssf_bench_idle_main_" + size;
        geo_name = "geo_ssf_bench_idle_geo_" + size;
        std::string main_info = bench::scratch_database(main_name), geo_info = bench::scratch_database(geo_name);
        primary = root / "primary.yml";
        secondary = root / "secondary.yml";
        log = root / "bench.log";
        std::filesystem::create_directories(root / "repositories");
        std::filesystem::create_directories(root / "primary-repositories");
        bench::write_file(primary, "site: {name: primary, role: primary}\ndatabases: {main: \"" + main_info +
                                       "\"}\nstorage: {root: repositories}\n");
        bench::write_file(secondary, "site: {name: secondary, role: secondary}\ndatabases: {main: \"" + main_info +
                                         "\", geo: \"" + geo_info +
                                         "\"}\nstorage: {root: repositories, primary_url: \"file://" + (root / "primary-repositories").string() + "\"}\n");
        bench::run("cd '" + root.string() + "' && '" + binary + "' -c primary.yml generate replicable CoolWidget >/dev/null");
        pqxx::connection main_db(main_info), geo_db(geo_info);
        pqxx::nontransaction(main_db).exec("CREATE TABLE cool_widgets (id bigserial PRIMARY KEY, name text)");
        bench::run("'" + binary + "' -c '" + primary.string() + "' migrate >/dev/null && '" + binary + "' -c '" +
                   secondary.string() + "' migrate >/dev/null");
        pqxx::nontransaction m(main_db);
        m.exec("INSERT INTO cool_widgets (id, name) SELECT g, 'widget ' || g FROM generate_series(1, " + size + ") g");
        m.exec("INSERT INTO cool_widget_states (cool_widget_id, verification_state, verification_checksum, verified_at) "
               "SELECT g, 2, decode(md5(g::text), 'hex'), now() FROM generate_series(1, " + size + ") g");
        m.exec("INSERT INTO geo_events (replicable_name, event_name, payload, created_at) "
               "VALUES ('cool_widget', 'created', jsonb_build_object('model_record_id', " + size + "), now())");
        m.exec("VACUUM ANALYZE");
        pqxx::nontransaction g(geo_db);
        g.exec("INSERT INTO cool_widget_registry (cool_widget_id, created_at, last_synced_at, state, verification_state, "
               "verification_checksum, verified_at) "
               "SELECT g, now(), now(), 2, 2, decode(md5(g::text), 'hex'), now() FROM generate_series(1, " + size + ") g");
        // Where each copy is, as sync records it.
        g.exec("INSERT INTO geo_ssf_copies (path, replicable, record_id) SELECT 'cool_widgets/' || g || '.git', "
               "'cool_widget', g FROM generate_series(1, " + size + ") g");
        // The secondary has processed every event.
        long long last_event = m.exec1("SELECT max(id) FROM geo_events")[0].as<long long>();
        g.exec("INSERT INTO event_log_states (event_id, created_at) VALUES (" + std::to_string(last_event) + ", now())");
        g.exec("VACUUM ANALYZE");
        // A full pass of the backfill and of registry consistency made, as on any site that has
        // been running for a while (until then, status reads what they have not checked yet).
        std::string passed = "INSERT INTO geo_ssf_cursors (name, position, passes, passed_at) VALUES ('";
        m.exec(passed + "state_backfill:cool_widget', NULL, 1, now())");
        g.exec(passed + "registry_consistency:cool_widget', NULL, 1, now())");
        // One run of each first: they fold the tallies and move the cursors, as any site's first
        // runs after the seeding would.
        for (const auto& args : commands())
            run(args.second);
    }

    std::vector<std::pair<std::string, std::vector<std::string>>> commands() const {
        auto on = [&](const std::filesystem::path& config, std::vector<std::string> rest) {
            rest.insert(rest.begin(), {binary, "-q", "-c", config.string()});
            return rest;
        };
        return {{"primary verify", on(primary, {"verify"})},
                {"secondary sync", on(secondary, {"sync"})},
                {"secondary verify", on(secondary, {"verify"})},
                {"primary status", on(primary, {"status", "--format", "json"})},
                {"secondary status", on(secondary, {"status", "--format", "json"})}};
    }

    void run(const std::vector<std::string>& args) const {
        auto f = bench::measure(args, log);
        if (f.status != 0)
            throw std::runtime_error(args[4] + " exited with " + std::to_string(f.status) + "; see " + log.string());
    }
};

// The time the backends of DATABASES spent executing statements, once the backends of a run
// that ended have gone (they report their figures as they exit).
double database_seconds(pqxx::connection& server, const std::vector<std::string>& databases) {
    std::string list;
    for (const auto& d : databases)
        list += (list.empty() ? "'" : ", '") + d + "'";
    pqxx::nontransaction tx(server);
    for (int i = 0; i < 200; ++i) {
        if (tx.exec1("SELECT count(*) FROM pg_stat_activity WHERE datname IN (" + list + ")")[0].as<int>() == 0)
            break;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    tx.exec("SELECT pg_stat_clear_snapshot()");
    return tx.exec1("SELECT coalesce(sum(active_time), 0) FROM pg_stat_database WHERE datname IN (" + list + ")")[0]
               .as<double>() / 1000;
}

}  // namespace

int main(int argc, char** argv) try {
    std::vector<long long> sizes = {argc > 1 ? std::atoll(argv[1]) : 10000, argc > 2 ? std::atoll(argv[2]) : 1000000};
    int rounds = argc > 3 ? std::atoi(argv[3]) : 5;
    std::string binary = std::filesystem::canonical("/proc/self/exe").parent_path().parent_path() / "cmd" / "geo-ssf";
    auto root = std::filesystem::path(bench::temporary_root("geo-ssf-bench-idle"));
    pqxx::connection server("dbname=postgres");
    std::vector<IdleSites> sites;
    for (long long n : sizes) {
        auto seeding = std::chrono::steady_clock::now();
        sites.emplace_back(binary, root / std::to_string(n), n);
        std::printf("seeded %lld records on both sites in %.1f s\n", n,
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - seeding).count());
    }
    // Rounds interleave the sizes, so that a busy machine slows both alike.
    std::map<std::pair<std::string, size_t>, Figures> figures;
    for (int round = 0; round < rounds; ++round)
        for (size_t s = 0; s < sites.size(); ++s)
            for (const auto& [name, args] : sites[s].commands()) {
                std::vector<std::string> databases = {sites[s].main_name, sites[s].geo_name};
                double before = database_seconds(server, databases);
                auto f = bench::measure(args, sites[s].log);
                if (f.status != 0)
                    throw std::runtime_error(name + " exited with " + std::to_string(f.status));
                Figures& fig = figures[{name, s}];
                fig.wall.push_back(f.seconds);
                fig.database.push_back(database_seconds(server, databases) - before);
            }

    std::printf("\nNo-op runs, medians of %d rounds (wall time of the whole process / database time):\n", rounds);
    std::printf("  %-18s %22s %22s %10s %10s\n", "", (std::to_string(sizes[0]) + " records").c_str(),
                (std::to_string(sizes[1]) + " records").c_str(), "ratio", "");
    bool met = true;
    for (const auto& [name, args] : sites[0].commands()) {
        const Figures& small = figures[{name, 0}];
        const Figures& large = figures[{name, 1}];
        double ratio = median(large.wall) / median(small.wall);
        bool ok = ratio <= 2 && median(large.database) < 0.1;
        met = met && ok;
        std::printf("  %-18s %9.1f ms / %6.1f ms %9.1f ms / %6.1f ms %9.2fx %10s\n", name.c_str(),
                    median(small.wall) * 1000, median(small.database) * 1000, median(large.wall) * 1000,
                    median(large.database) * 1000, ratio, ok ? "met" : "NOT MET");
    }
    std::printf("Targets: at %lld records within 2x the figure at %lld, and below 100 ms of database time: %s\n",
                sizes[1], sizes[0], met ? "met" : "not met");
    std::printf("Machine load average at the end: ");
    std::fflush(stdout);
    bench::run("cut -d' ' -f1-3 /proc/loadavg");

    if (std::getenv("GEO_SSF_BENCH_KEEP")) {
        std::printf("kept %s and the databases\n", root.c_str());
        return 0;
    }
    std::filesystem::remove_all(root);
    pqxx::nontransaction drop(server);
    for (const auto& s : sites) {
        drop.exec("DROP DATABASE " + s.main_name + " WITH (FORCE)");
        drop.exec("DROP DATABASE " + s.geo_name + " WITH (FORCE)");
    }
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "idle-bench: %s\n", e.what());
    return 1;
}
