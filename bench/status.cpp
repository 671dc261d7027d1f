// bench/status: `geo-ssf status`, the whole process, on a registry table and a states table of
// N rows each (default 1,000,000), against one SELECT count(*) of the same table and against
// GitLab's separate count queries run one by one, all in the same run and interleaved, so that
// a busy machine slows every figure alike. Targets: status at most 2x the single count, and at
// least 3x faster than GitLab's queries.
//
// status reads the registry's and the states table's tallies (lib/tallies.hpp), here with
// 20,000 rows of differences not folded yet; the rest of its time is the primary's records.
// The secondary is measured three times, for what the missing-registry count costs: with
// scattered gaps (0.1% of the records not registered, the newest 1000 neither, 100 rows of
// records gone from the primary), busy (only the newest 1000 missing and 5 rows of records
// gone, all of them named by events the secondary has not processed yet) and complete.
//
// Run under pg_virtualenv: build-dir/bench/status-bench [ROWS] [ROUNDS]
// (GEO_SSF_BENCH_KEEP=1 keeps the folder and the databases, to look further.)
#include "bench_support.hpp"

#include <nlohmann/json.hpp>

#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <map>

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

double time_queries(pqxx::connection& db, const std::vector<std::string>& queries) {
    pqxx::nontransaction tx(db);
    auto start = Clock::now();
    for (const auto& q : queries)
        tx.exec(q);
    return seconds_since(start);
}

// The figures of one measurement over the rounds.
struct Series {
    std::vector<double> values;
    double median() const {
        auto v = values;
        std::sort(v.begin(), v.end());
        return v.empty() ? 0 : v[v.size() / 2];
    }
    double best() const { return values.empty() ? 0 : *std::min_element(values.begin(), values.end()); }
};

void print(const char* what, const Series& s) {
    std::printf("  %-58s median %8.1f ms   best %8.1f ms\n", what, s.median() * 1000, s.best() * 1000);
}

void ratio(const char* what, double value, const char* target) {
    std::printf("  %-58s %6.2fx   %s\n", what, value, target);
}

// GitLab's status queries, one per field (reference §8): the registry's six on a secondary.
std::vector<std::string> gitlab_secondary_queries() {
    const std::string r = "SELECT count(*) FROM cool_widget_registry";
    return {r, r + " WHERE state = 2", r + " WHERE state = 3", r + " WHERE state = 2 AND verification_state <> 4",
            r + " WHERE state = 2 AND verification_state = 2", r + " WHERE state = 2 AND verification_state = 3"};
}

// And the primary's four: the model, and the model joined with its states (available_verifiables).
std::vector<std::string> gitlab_primary_queries() {
    const std::string joined = "SELECT count(*) FROM cool_widgets JOIN cool_widget_states "
                               "ON cool_widget_states.cool_widget_id = cool_widgets.id";
    return {"SELECT count(*) FROM cool_widgets", joined, joined + " WHERE cool_widget_states.verification_state = 2",
            joined + " WHERE cool_widget_states.verification_state = 3"};
}

}  // namespace

int main(int argc, char** argv) try {
    long long rows = argc > 1 ? std::atoll(argv[1]) : 1000000;
    int rounds = argc > 2 ? std::atoi(argv[2]) : 7;
    std::string n = std::to_string(rows);
    std::string binary = std::filesystem::canonical("/proc/self/exe").parent_path().parent_path() / "cmd" / "geo-ssf";
    auto root = std::filesystem::path(bench::temporary_root("geo-ssf-bench-status"));
    std::string main_info = bench::scratch_database("geo_ssf_bench_status_main");
    std::string geo_info = bench::scratch_database("geo_ssf_bench_status_geo");
    auto primary = root / "primary.yml";
    auto secondary = root / "secondary.yml";
    bench::write_two_site_configs(root, main_info, geo_info);
    bench::run("'" + binary + "' -c '" + primary.string() + "' generate replicable CoolWidget >/dev/null");
    pqxx::connection main_db(main_info);
    pqxx::connection geo_db(geo_info);
    pqxx::nontransaction(main_db).exec("CREATE TABLE cool_widgets (id bigserial PRIMARY KEY, name text)");
    bench::run("'" + binary + "' -c '" + primary.string() + "' migrate >/dev/null");
    bench::run("'" + binary + "' -c '" + secondary.string() + "' migrate >/dev/null");

    auto seeding = Clock::now();
    {
        pqxx::nontransaction m(main_db);
        m.exec("INSERT INTO cool_widgets (id, name) SELECT g, 'widget ' || g FROM generate_series(1, " + n + ") g");
        // 96% succeeded, 1% failed with a message, 2% pending, 1% started.
        m.exec("INSERT INTO cool_widget_states (cool_widget_id, verification_state, verification_checksum, verified_at, "
               "verification_failure, verification_retry_count, verification_retry_at) "
               "SELECT g, CASE WHEN g % 100 = 0 THEN 3 WHEN g % 100 IN (1, 2) THEN 0 WHEN g % 100 = 3 THEN 1 ELSE 2 END, "
               "decode(md5(g::text), 'hex'), now(), "
               "CASE WHEN g % 100 = 0 THEN 'Error during verification: repository does not exist' END, "
               "CASE WHEN g % 100 = 0 THEN 1 ELSE 0 END, CASE WHEN g % 100 = 0 THEN now() + interval '1 minute' END "
               "FROM generate_series(1, " + n + ") g");
        m.exec("VACUUM ANALYZE cool_widgets");
        m.exec("VACUUM ANALYZE cool_widget_states");
        pqxx::nontransaction g(geo_db);
        // Every record but 0.1% scattered and the newest 1000; 100 rows of records gone from the
        // primary. 97% synced, 1% failed, 2% pending; of the synced, 1.5% verification failed,
        // 3% disabled, the rest verified.
        g.exec("INSERT INTO cool_widget_registry (cool_widget_id, created_at, last_synced_at, state, verification_state, "
               "verification_checksum, retry_count, retry_at, last_sync_failure) "
               "SELECT g, now(), now(), CASE WHEN g % 100 = 50 THEN 3 WHEN g % 100 IN (51, 52) THEN 0 ELSE 2 END, "
               "CASE WHEN g % 200 IN (7, 8, 9) THEN 3 WHEN g % 100 BETWEEN 60 AND 62 THEN 4 ELSE 2 END, "
               "decode(md5(g::text), 'hex'), CASE WHEN g % 100 = 50 THEN 2 ELSE 0 END, "
               "CASE WHEN g % 100 = 50 THEN now() + interval '5 minutes' END, "
               "CASE WHEN g % 100 = 50 THEN 'Error syncing repository: 13:fatal: could not read Username' END "
               "FROM generate_series(1, " + n + ") g WHERE g % 1000 <> 500 AND g <= " + n + " - 1000 "
               "UNION ALL SELECT g, now(), now(), 2, 2, NULL, 0, NULL, NULL FROM generate_series(" + n +
               " + 1, " + n + " + 100) g");
        g.exec("VACUUM ANALYZE cool_widget_registry");
        // 10,000 verifications recorded one statement each since sync or verify last folded the
        // tallies (a run killed before its end): status then sums 20,000 rows of differences.
        g.exec("DO $$ BEGIN FOR i IN 1..10000 LOOP UPDATE cool_widget_registry SET verification_state = 3 "
               "WHERE cool_widget_id = i * 50 + 1; END LOOP; END $$");
        // The events this secondary has not processed yet: the newest records' creation and the
        // deletion of the records whose rows are still registered.
        m.exec("INSERT INTO geo_events (replicable_name, event_name, payload, created_at) "
               "SELECT 'cool_widget', 'created', jsonb_build_object('model_record_id', g), now() "
               "FROM generate_series(" + n + " - 999, " + n + ") g "
               "UNION ALL SELECT 'cool_widget', 'deleted', jsonb_build_object('model_record_id', g), now() "
               "FROM generate_series(" + n + " + 1, " + n + " + 100) g");
    }
    long long registry_rows =
        pqxx::nontransaction(geo_db).exec1("SELECT count(*) FROM cool_widget_registry")[0].as<long long>();
    long long expected_missing = 0;
    for (long long id = 1; id <= rows; ++id)
        if (id % 1000 == 500 || id > rows - 1000)
            ++expected_missing;
    std::string tally_rows = pqxx::nontransaction(geo_db).exec1("SELECT count(*) FROM geo_ssf_tallies")[0].c_str();
    std::printf("seeded %lld records, %lld state rows and %lld registry rows (%s rows of tallies) in %.1f s (%s)\n",
                rows, rows, registry_rows, tally_rows.c_str(), seconds_since(seeding), main_info.c_str());

    auto status_args = [&](const std::filesystem::path& config) {
        return std::vector<std::string>{binary, "-c", config.string(), "status", "--format", "prometheus", "--output",
                                        (root / "geo-ssf.prom").string()};
    };
    auto log = root / "bench.log";
    // status exits 1 here: the seeded records include failed ones (geo-ssf-status(1), EXIT STATUS).
    auto status_exited = [](int status) { return status == 0 || status == 1; };
    auto check_missing = [&](long long expected) {
        int exited = std::system(("'" + binary + "' -c '" + secondary.string() + "' status --format json > '" +
                                  (root / "status.json").string() + "'")
                                     .c_str());
        if (exited == -1 || !WIFEXITED(exited) || !status_exited(WEXITSTATUS(exited)))
            throw std::runtime_error("status --format json failed");
        std::ifstream in(root / "status.json");
        auto status = nlohmann::json::parse(in);
        long long counted = status["replicables"][0]["cool_widgets_registry_missing_count"].get<long long>();
        if (counted != expected)
            throw std::runtime_error("status counted " + std::to_string(counted) + " missing registry rows, not " +
                                     std::to_string(expected));
    };
    check_missing(expected_missing);

    std::map<std::string, Series> s;
    auto process = [&](const std::string& name, const std::vector<std::string>& args) {
        auto f = bench::measure(args, log);
        if (args[0] == binary ? !status_exited(f.status) : f.status != 0)
            throw std::runtime_error(name + " exited with " + std::to_string(f.status) + "; see " + log.string());
        s[name].values.push_back(f.seconds);
    };
    // status's two parts, as plain queries (the SQL lib/tallies.cpp and lib/status.cpp write),
    // to show where the time goes: the registry's tallies, and the digest of the primary's ids.
    const std::string tallies =
        "SELECT state, verification_state, sum(records), (sum(sum(id_hash_sum)) OVER ())::text FROM geo_ssf_tallies "
        "WHERE table_name = 'cool_widget_registry' GROUP BY state, verification_state ORDER BY state, verification_state";
    const std::string model_digest =
        "SELECT count(*), coalesce(sum(hashint8extended(id, 0)), 0)::text FROM cool_widgets WHERE true AND id <= " + n;
    bool have_psql = std::system("command -v psql >/dev/null 2>&1") == 0;
    for (int round = 0; round < rounds; ++round) {
        s["count registry"].values.push_back(time_queries(geo_db, {"SELECT count(*) FROM cool_widget_registry"}));
        process("status secondary", status_args(secondary));
        s["gitlab secondary"].values.push_back(time_queries(geo_db, gitlab_secondary_queries()));
        s["count states"].values.push_back(time_queries(main_db, {"SELECT count(*) FROM cool_widget_states"}));
        process("status primary", status_args(primary));
        s["gitlab primary"].values.push_back(time_queries(main_db, gitlab_primary_queries()));
        // The parts, on their own: status's passes as plain queries.
        s["tallies"].values.push_back(time_queries(geo_db, {tallies}));
        s["model digest"].values.push_back(time_queries(main_db, {model_digest}));
        if (have_psql)
            process("psql count", {"psql", "-X", "-q", "-d", geo_info, "-c", "SELECT count(*) FROM cool_widget_registry"});
    }

    // A busy secondary: the scattered gaps filled, 95 of the orphans' deletions processed; the
    // newest 1000 records still to register.
    {
        pqxx::nontransaction g(geo_db);
        g.exec("INSERT INTO cool_widget_registry (cool_widget_id, created_at, state, verification_state) "
               "SELECT g, now(), 2, 2 FROM generate_series(1, " + n + " - 1000) g ON CONFLICT DO NOTHING");
        g.exec("DELETE FROM cool_widget_registry WHERE cool_widget_id > " + n + " + 5");
        g.exec("VACUUM ANALYZE cool_widget_registry");
    }
    check_missing(1000);
    for (int round = 0; round < rounds; ++round) {
        s["count registry, busy"].values.push_back(time_queries(geo_db, {"SELECT count(*) FROM cool_widget_registry"}));
        process("status secondary, busy", status_args(secondary));
    }

    // Everything registered, no orphans: the registry is complete.
    {
        pqxx::nontransaction g(geo_db);
        g.exec("INSERT INTO cool_widget_registry (cool_widget_id, created_at, state, verification_state) "
               "SELECT g, now(), 2, 2 FROM generate_series(1, " + n + ") g ON CONFLICT DO NOTHING");
        g.exec("DELETE FROM cool_widget_registry WHERE cool_widget_id > " + n);
        g.exec("VACUUM ANALYZE cool_widget_registry");
    }
    check_missing(0);
    for (int round = 0; round < rounds; ++round) {
        s["count registry, complete"].values.push_back(
            time_queries(geo_db, {"SELECT count(*) FROM cool_widget_registry"}));
        process("status secondary, complete", status_args(secondary));
    }

    std::printf("\n%d rounds, interleaved; machine load average at the end: ", rounds);
    std::fflush(stdout);
    bench::run("cut -d' ' -f1-3 /proc/loadavg");
    std::printf("\nSecondary, scattered gaps: %lld registry rows; %lld records not registered (1 in 1000, and the "
                "newest 1000); 100 rows of records gone from the primary:\n",
                registry_rows, expected_missing);
    print("SELECT count(*) FROM cool_widget_registry (query)", s["count registry"]);
    if (have_psql)
        print("psql -c 'SELECT count(*) ...' (whole process)", s["psql count"]);
    print("geo-ssf status (whole process)", s["status secondary"]);
    print("  its read of the registry's tallies alone (query)", s["tallies"]);
    print("  its digest of the primary's ids alone (query)", s["model digest"]);
    print("GitLab's 6 count queries, one by one", s["gitlab secondary"]);
    std::printf("Secondary, busy: the newest 1000 records not registered, 5 rows of records gone:\n");
    print("SELECT count(*) FROM cool_widget_registry (query)", s["count registry, busy"]);
    print("geo-ssf status (whole process)", s["status secondary, busy"]);
    std::printf("Secondary, complete: every record registered, nothing else:\n");
    print("SELECT count(*) FROM cool_widget_registry (query)", s["count registry, complete"]);
    print("geo-ssf status (whole process)", s["status secondary, complete"]);
    std::printf("Primary (states table of %lld rows, model table of %lld rows):\n", rows, rows);
    print("SELECT count(*) FROM cool_widget_states (query)", s["count states"]);
    print("geo-ssf status (whole process)", s["status primary"]);
    print("GitLab's 4 count queries, one by one", s["gitlab primary"]);

    std::printf("\nRatios (medians):\n");
    auto status_ratio = [&](const char* what, const std::string& status, const std::string& count) {
        ratio(what, s[status].median() / s[count].median(), "(target: at most 2x)");
    };
    status_ratio("secondary status, scattered gaps / count(*)", "status secondary", "count registry");
    status_ratio("secondary status, busy / count(*)", "status secondary, busy", "count registry, busy");
    status_ratio("secondary status, complete / count(*)", "status secondary, complete", "count registry, complete");
    status_ratio("primary status / count(*) of the states table", "status primary", "count states");
    auto gitlab_ratio = [&](const char* what, const std::string& gitlab, const std::string& status) {
        ratio(what, s[gitlab].median() / s[status].median(), "(target: at least 3x)");
    };
    gitlab_ratio("GitLab's queries / secondary status, scattered gaps", "gitlab secondary", "status secondary");
    gitlab_ratio("GitLab's queries / secondary status, busy", "gitlab secondary", "status secondary, busy");
    gitlab_ratio("GitLab's queries / secondary status, complete", "gitlab secondary", "status secondary, complete");
    gitlab_ratio("GitLab's queries / primary status", "gitlab primary", "status primary");
    if (have_psql) {
        std::printf("Whole process against whole process (psql -c 'SELECT count(*) FROM cool_widget_registry'):\n");
        ratio("secondary status, complete / psql count(*)", s["status secondary, complete"].median() /
                                                              s["psql count"].median(), "");
        ratio("secondary status, busy / psql count(*)", s["status secondary, busy"].median() / s["psql count"].median(),
              "");
        ratio("primary status / psql count(*)", s["status primary"].median() / s["psql count"].median(), "");
    }

    if (std::getenv("GEO_SSF_BENCH_KEEP")) {
        std::printf("kept %s and the databases\n", root.c_str());
        return 0;
    }
    std::filesystem::remove_all(root);
    main_db.disconnect();
    geo_db.disconnect();
    pqxx::connection server("dbname=postgres");
    pqxx::nontransaction drop(server);
    drop.exec("DROP DATABASE geo_ssf_bench_status_main WITH (FORCE)");
    drop.exec("DROP DATABASE geo_ssf_bench_status_geo WITH (FORCE)");
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "status-bench: %s\n", e.what());
    return 1;
}
