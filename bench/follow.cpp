// bench/follow: the replication lag of `geo-ssf follow`, and what following costs when idle.
// Both sites run `geo-ssf follow` with its default settings over 50 repositories; PUSHES pushes
// (default 200) are spread evenly over PERIOD seconds (default 180), each a commit on the
// primary and `geo-ssf event cool_widget updated ID` as a hook calls it. Per push: the time from
// the event's insertion (its created_at) to the moment the secondary's registry row is seen
// verified with the primary's new checksum (the registry is read every 20 ms), on the
// database server's clock. Twice: the secondary reading the primary's database directly
// (notified), then through a hot standby made with pg_basebackup -R (polled). Then, with
// nothing to do for IDLE seconds (default 120, two passes): the CPU time of both follow
// processes, and of their database sessions, and the transactions per second on each
// database. Last, 10,000 changes (200 rounds of an updated event for each record) and the
// resident memory of both processes after each 2,000.
// Targets: lag p50 <= 1 s and p95 <= 2 s both ways; idle CPU of both processes together at
// most 1% of one core; memory flat.
//
// Run under pg_virtualenv: build-dir/bench/follow-bench [PUSHES] [PERIOD] [IDLE]
#include "bench_support.hpp"
#include "servers.hpp"

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <functional>
#include <iterator>
#include <memory>
#include <mutex>
#include <sstream>
#include <thread>

namespace {

using Clock = std::chrono::steady_clock;
constexpr int k_records = 50;

double percentile(std::vector<double> v, double p) {
    if (v.empty())
        return 0;
    std::sort(v.begin(), v.end());
    size_t rank = static_cast<size_t>(std::ceil(p * static_cast<double>(v.size())));
    return v[std::min(v.size(), std::max<size_t>(rank, 1)) - 1];
}

std::string scalar(pqxx::connection& db, const std::string& sql) {
    auto rows = pqxx::nontransaction(db).exec(sql);
    return rows.empty() || rows[0][0].is_null() ? "" : rows[0][0].c_str();
}

// A geo-ssf process in the background, its output appended to LOG.
class Background {
public:
    Background(const std::vector<std::string>& argv, const std::filesystem::path& log) {
        std::vector<std::string> copy = argv;
        std::vector<char*> args;
        for (auto& a : copy)
            args.push_back(a.data());
        args.push_back(nullptr);
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        posix_spawn_file_actions_adddup2(&actions, 1, 2);
        if (posix_spawnp(&m_pid, args[0], &actions, nullptr, args.data(), environ) != 0)
            throw std::runtime_error("cannot start " + argv[0]);
        posix_spawn_file_actions_destroy(&actions);
    }
    ~Background() {
        if (m_pid > 0) {
            ::kill(m_pid, SIGTERM);
            int status = 0;
            ::waitpid(m_pid, &status, 0);
        }
    }
    pid_t pid() const { return m_pid; }

private:
    pid_t m_pid = -1;
};

// Seconds of CPU a process has used (user and system), from /proc.
double cpu_seconds(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto close = text.rfind(')');
    if (close == std::string::npos)
        return 0;
    std::istringstream fields(text.substr(close + 2));
    std::string field;
    double ticks = 0;
    for (int i = 3; fields >> field; ++i)
        if (i == 14 || i == 15)
            ticks += std::stod(field);
    return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

long resident_kib(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("VmRSS:", 0) == 0)
            return std::stol(line.substr(6));
    return 0;
}

struct Sites {
    std::string binary;
    std::filesystem::path root, primary, secondary, log;
    std::string main_info, geo_info, main_name;
    std::unique_ptr<pqxx::connection> main_db, geo_db;

    Sites(const std::string& geo_ssf, const std::filesystem::path& folder) : binary(geo_ssf), root(folder) {
        main_name = "geo_ssf_bench_follow_main";
        main_info = bench::scratch_database(main_name);
        geo_info = bench::scratch_database("geo_ssf_bench_follow_geo");
        primary = root / "primary.yml";
        secondary = root / "secondary.yml";
        log = root / "bench.log";
        std::filesystem::create_directories(root / "primary-repositories");
        std::filesystem::create_directories(root / "secondary-repositories");
        bench::write_file(primary, "site: {name: primary, role: primary}\ndatabases: {main: \"" + main_info +
                                       "\"}\nstorage: {root: primary-repositories}\n");
        write_secondary(main_info);
        bench::run("cd '" + root.string() + "' && '" + binary +
                   "' -c primary.yml generate replicable CoolWidget >/dev/null");
        main_db = std::make_unique<pqxx::connection>(main_info);
        geo_db = std::make_unique<pqxx::connection>(geo_info);
        pqxx::nontransaction(*main_db).exec("CREATE TABLE cool_widgets (id bigserial PRIMARY KEY, name text)");
        bench::run("'" + binary + "' -c '" + primary.string() + "' migrate >/dev/null && '" + binary + "' -c '" +
                   secondary.string() + "' migrate >/dev/null");
        std::string head = bench::make_template_repository(root / "template.git");
        for (long long id = 1; id <= k_records; ++id)
            bench::copy_repository(root / "template.git", repository(id), head, id);
        pqxx::nontransaction(*main_db).exec("INSERT INTO cool_widgets (id) SELECT generate_series(1, " +
                                            std::to_string(k_records) + ")");
    }

    void write_secondary(const std::string& main) {
        bench::write_file(secondary, "site: {name: secondary, role: secondary}\ndatabases: {main: \"" + main +
                                         "\", geo: \"" + geo_info + "\"}\nstorage: {root: secondary-repositories, "
                                         "primary_url: \"file://" + (root / "primary-repositories").string() + "\"}\n");
    }

    std::filesystem::path repository(long long id) const {
        return root / "primary-repositories" / "cool_widgets" / (std::to_string(id) + ".git");
    }

    std::unique_ptr<Background> follow(const std::filesystem::path& config) {
        return std::make_unique<Background>(std::vector<std::string>{binary, "-c", config.string(), "follow"}, log);
    }

    void wait_for(const std::function<bool()>& condition) {
        while (!condition())
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }

    long long count_main(const std::string& sql) { return std::stoll(scalar(*main_db, sql)); }
    long long count_geo(const std::string& sql) { return std::stoll(scalar(*geo_db, sql)); }

    // Everything replicated and verified: every registry row verified, no event left to replay.
    bool caught_up() {
        return count_geo("SELECT count(*) FROM cool_widget_registry WHERE state = 2 AND verification_state = 2") ==
                   k_records &&
               count_geo("SELECT coalesce(max(event_id), 0) FROM event_log_states") ==
                   count_main("SELECT coalesce(max(id), 0) FROM geo_events") &&
               count_main("SELECT count(*) FROM cool_widget_states WHERE verification_state <> 2") == 0;
    }

    // The checksum geo-ssf gives the primary's repository of ID now.
    std::string checksum(long long id) {
        std::string out;
        FILE* p = ::popen(("'" + binary + "' checksum '" + repository(id).string() + "'").c_str(), "r");
        char buffer[256];
        while (p && std::fgets(buffer, sizeof buffer, p))
            out += buffer;
        if (!p || ::pclose(p) != 0 || out.size() < 40)
            throw std::runtime_error("geo-ssf checksum failed: " + out);
        return out.substr(0, out.find(' '));
    }

    void push(long long id) {
        bench::run("cd '" + repository(id).string() +
                   "' && c=$(git commit-tree $(git rev-parse main^{tree}) -p main -m pushed) && "
                   "git update-ref refs/heads/main $c");
    }
};

struct Pending {
    long long id;
    std::string checksum;
    std::string created_at;  // the event's, as text
};

// PUSHES pushes over PERIOD seconds; the lag of each, in seconds.
std::vector<double> measure_lags(Sites& sites, int pushes, double period) {
    std::mutex mutex;
    std::vector<Pending> pending;
    std::vector<double> lags;
    std::atomic<bool> done{false};
    // The watcher: the registry every 20 ms, on a connection of its own.
    std::thread watcher([&] {
        pqxx::connection geo(sites.geo_info);
        while (true) {
            std::vector<Pending> waiting;
            {
                std::lock_guard<std::mutex> lock(mutex);
                waiting = pending;
            }
            if (waiting.empty() && done)
                break;
            for (const auto& p : waiting) {
                pqxx::nontransaction tx(geo);
                auto row = tx.exec("SELECT extract(epoch FROM clock_timestamp() - '" + p.created_at +
                                   "'::timestamptz) FROM cool_widget_registry WHERE cool_widget_id = " +
                                   std::to_string(p.id) + " AND verification_state = 2 AND "
                                   "encode(verification_checksum, 'hex') = '" + p.checksum + "'");
                if (row.empty())
                    continue;
                std::lock_guard<std::mutex> lock(mutex);
                lags.push_back(row[0][0].as<double>());
                pending.erase(std::find_if(pending.begin(), pending.end(),
                                           [&](const Pending& x) { return x.id == p.id; }));
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    });
    auto start = Clock::now();
    for (int i = 0; i < pushes; ++i) {
        auto at = start + std::chrono::duration_cast<Clock::duration>(
                              std::chrono::duration<double>(period * i / pushes));
        std::this_thread::sleep_until(at);
        long long id = i % k_records + 1;
        // The previous push to this record is verified first, so that each push is measured alone.
        sites.wait_for([&] {
            std::lock_guard<std::mutex> lock(mutex);
            return std::none_of(pending.begin(), pending.end(), [&](const Pending& p) { return p.id == id; });
        });
        sites.push(id);
        std::string checksum = sites.checksum(id);
        bench::run("'" + sites.binary + "' -q -c '" + sites.primary.string() + "' event cool_widget updated " +
                   std::to_string(id));
        std::string created = scalar(*sites.main_db, "SELECT created_at::text FROM geo_events WHERE event_name = "
                                                     "'updated' AND payload->>'model_record_id' = '" +
                                                         std::to_string(id) + "' ORDER BY id DESC LIMIT 1");
        std::lock_guard<std::mutex> lock(mutex);
        pending.push_back({id, checksum, created});
    }
    done = true;
    watcher.join();
    return lags;
}

void print_lags(const char* how, const std::vector<double>& lags) {
    std::printf("lag, %-28s %3zu pushes: p50 %.2f s, p95 %.2f s, max %.2f s  (targets: p50 <= 1 s, p95 <= 2 s)\n", how,
                lags.size(), percentile(lags, 0.5), percentile(lags, 0.95), percentile(lags, 1.0));
    std::fflush(stdout);
}

// The database sessions of geo-ssf processes, by process id.
std::vector<pid_t> geo_ssf_backends(pqxx::connection& db) {
    std::vector<pid_t> pids;
    for (const auto& row :
         pqxx::nontransaction(db).exec("SELECT pid FROM pg_stat_activity WHERE application_name = 'geo-ssf'"))
        pids.push_back(row[0].as<int>());
    return pids;
}

long long transactions(pqxx::connection& db, const std::string& dbname) {
    pqxx::nontransaction tx(db);
    tx.exec("SELECT pg_stat_clear_snapshot()");
    return tx.exec("SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = '" + dbname + "'")[0][0]
        .as<long long>();
}

}  // namespace

int main(int argc, char** argv) {
    int pushes = argc > 1 ? std::atoi(argv[1]) : 200;
    double period = argc > 2 ? std::atof(argv[2]) : 180;
    double idle = argc > 3 ? std::atof(argv[3]) : 120;
    std::string binary = std::filesystem::canonical("/proc/self/exe").parent_path().parent_path() / "cmd" / "geo-ssf";
    bench::hermetic_git();
    auto root = std::filesystem::temp_directory_path() / ("geo-ssf-follow-bench-" + std::to_string(getpid()));
    std::filesystem::create_directories(root);
    Sites sites(binary, root);
    std::printf("follow-bench: %d records, %d pushes over %.0f s, log in %s\n", k_records, pushes, period,
                sites.log.c_str());

    auto primary = sites.follow(sites.primary);
    sites.wait_for([&] {
        return sites.count_main("SELECT count(*) FROM cool_widget_states WHERE verification_state = 2") == k_records;
    });
    auto secondary = sites.follow(sites.secondary);
    sites.wait_for([&] { return sites.caught_up(); });
    print_lags("reading the primary directly", measure_lags(sites, pushes, period));

    {
        geo_ssf::test::StandbyServer standby;
        secondary.reset();
        sites.write_secondary(standby.conninfo(sites.main_name));
        secondary = sites.follow(sites.secondary);
        sites.wait_for([&] { return sites.caught_up(); });
        print_lags("through a hot standby", measure_lags(sites, pushes, period));

        // Idle: nothing to do; the secondary still reads the standby.
        sites.wait_for([&] { return sites.caught_up(); });
        std::this_thread::sleep_for(std::chrono::seconds(2));
        pqxx::connection server("dbname=postgres"), standby_server(standby.conninfo("postgres"));
        std::vector<pid_t> backends = geo_ssf_backends(server), standby_backends = geo_ssf_backends(standby_server);
        backends.insert(backends.end(), standby_backends.begin(), standby_backends.end());
        auto cpu = [&] { return cpu_seconds(primary->pid()) + cpu_seconds(secondary->pid()); };
        auto backend_cpu = [&] {
            double sum = 0;
            for (pid_t pid : backends)
                sum += cpu_seconds(pid);
            return sum;
        };
        long long main_before = transactions(server, sites.main_name),
                  geo_before = transactions(server, "geo_ssf_bench_follow_geo"),
                  standby_before = transactions(standby_server, sites.main_name);
        double cpu_before = cpu(), backend_before = backend_cpu();
        auto idle_start = Clock::now();
        std::this_thread::sleep_for(std::chrono::duration<double>(idle));
        double seconds = std::chrono::duration<double>(Clock::now() - idle_start).count();
        double used = cpu() - cpu_before, backend_used = backend_cpu() - backend_before;
        std::printf("idle for %.0f s: both follow processes %.3f%% of one core (target <= 1%%), their %zu database "
                    "sessions %.3f%%\n",
                    seconds, 100 * used / seconds, backends.size(), 100 * backend_used / seconds);
        std::printf("idle transactions per second: main database %.2f, its standby %.2f, tracking database %.2f\n",
                    static_cast<double>(transactions(server, sites.main_name) - main_before) / seconds,
                    static_cast<double>(transactions(standby_server, sites.main_name) - standby_before) / seconds,
                    static_cast<double>(transactions(server, "geo_ssf_bench_follow_geo") - geo_before) / seconds);
        std::fflush(stdout);

        // Memory: 10,000 changes, 50 events at a time.
        std::printf("resident memory (primary, secondary) after changes:");
        std::printf(" 0: %ld KiB, %ld KiB;", resident_kib(primary->pid()), resident_kib(secondary->pid()));
        std::string all;
        for (long long id = 1; id <= k_records; ++id)
            all += " " + std::to_string(id);
        for (int round = 1; round <= 200; ++round) {
            bench::run("'" + binary + "' -q -c '" + sites.primary.string() + "' event cool_widget updated" + all);
            if (round % 40 == 0) {
                sites.wait_for([&] { return sites.caught_up(); });
                std::printf(" %d: %ld KiB, %ld KiB;", round * k_records, resident_kib(primary->pid()),
                            resident_kib(secondary->pid()));
                std::fflush(stdout);
            }
        }
        std::printf("\n");
        secondary.reset();
    }
    primary.reset();
    std::filesystem::remove_all(root);
    return 0;
}
