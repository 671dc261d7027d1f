// bench/failover: the disaster-recovery path on N small repositories (default 1,000), and with
// LARGE=1 also on one large repository (bench/large_repository.hpp: ~85 MB, 7,000 refs). Three
// sites copy a primary; then, timed: `check --promotion` and `promote` on the first secondary,
// `verify` on it as the new primary, the second secondary repointed at it (its sync, which
// notices the new primary, and the verify that proves every copy again), the old primary back
// as a secondary over its own storage root (a new tracking database: sync and verify), against
// a site cloning everything from the new primary afresh (sync and verify).
// The promoted secondary reads the primary's database itself, as a promoted standby would be:
// promote needs a database out of recovery, and the figures are geo-ssf's, not PostgreSQL's.
// Run under pg_virtualenv: build-dir/bench/failover-bench [N] [LARGE]
#include "bench_support.hpp"
#include "large_repository.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace {

struct Site {
    std::filesystem::path config;
    std::string geo;
};

class Failover {
public:
    Failover(std::string binary, const std::string& label)
        : m_binary(std::move(binary)), m_root(bench::temporary_root("geo-ssf-bench-failover-" + label)),
          m_log(m_root / "bench.log"), m_label(label) {
        m_main = bench::scratch_database("geo_ssf_bench_failover_" + label + "_main");
        bench::write_file(m_root / "primary.yml", "site: {name: london, role: primary}\ndatabases: {main: \"" + m_main +
                                                      "\"}\nstorage: {root: primary}\n");
        bench::run("cd '" + m_root.string() + "' && '" + m_binary +
                   "' -c primary.yml generate replicable CoolWidget >/dev/null");
    }

    const std::filesystem::path& root() const { return m_root; }

    void add_records(long long count) {
        pqxx::connection db(m_main);
        pqxx::nontransaction tx(db);
        tx.exec("CREATE TABLE cool_widgets (id bigserial PRIMARY KEY, name text)");
        tx.exec("INSERT INTO cool_widgets (id) SELECT generate_series(1, " + std::to_string(count) + ")");
        m_records = count;
    }

    void run() {
        geo_ssf("primary.yml", {"migrate"});
        geo_ssf("primary.yml", {"verify"});
        Site paris = secondary("paris", "primary"), madrid = secondary("madrid", "primary");
        for (const Site* s : {&paris, &madrid}) {
            geo_ssf(s->config, {"sync"});
            geo_ssf(s->config, {"verify"});
        }
        std::printf("%s: %lld records, every copy synced and verified on two secondaries\n", m_label.c_str(), m_records);
        timed("check --promotion on paris", {{paris.config, {"check", "--promotion"}}});
        timed("promote on paris", {{paris.config, {"promote", "--accept-data-loss"}}});
        timed("verify on paris, the new primary", {{paris.config, {"verify"}}});

        // madrid repointed at paris's repositories; its database names paris as the primary.
        write_secondary(madrid, "madrid", "madrid", "paris");
        timed("madrid repointed: sync, then verify", {{madrid.config, {"sync"}}, {madrid.config, {"verify"}}});
        report_verified("madrid", madrid);

        Site london = secondary("london", "paris", "primary");
        timed("london back as a secondary: sync, then verify", {{london.config, {"sync"}}, {london.config, {"verify"}}});
        report_verified("london", london);

        Site fresh = secondary("fresh", "paris");
        timed("a new secondary cloning everything: sync, then verify",
              {{fresh.config, {"sync"}}, {fresh.config, {"verify"}}});
        report_verified("fresh", fresh);
    }

private:
    using Step = std::pair<std::filesystem::path, std::vector<std::string>>;

    void geo_ssf(const std::filesystem::path& config, std::vector<std::string> args) {
        args.insert(args.begin(), {m_binary, "-c", (m_root / config).string()});
        auto f = bench::measure(args, m_log);
        if (f.status != 0)
            throw std::runtime_error(args[3] + " on " + config.string() + " exited with " + std::to_string(f.status) +
                                     "; see " + m_log.string());
    }

    void timed(const std::string& what, const std::vector<Step>& steps) {
        double seconds = 0;
        long peak = 0;
        for (const auto& [config, args] : steps) {
            std::vector<std::string> argv = {m_binary, "-c", config.string()};
            argv.insert(argv.end(), args.begin(), args.end());
            auto f = bench::measure(argv, m_log);
            if (f.status != 0)
                throw std::runtime_error(what + ": exit " + std::to_string(f.status) + "; see " + m_log.string());
            seconds += f.seconds;
            peak = std::max(peak, f.peak_kib);
        }
        std::printf("  %-55s %8.2f s  (%6.2f ms a record, peak %.1f MB)\n", what.c_str(), seconds,
                    1000 * seconds / static_cast<double>(m_records), peak / 1024.0);
    }

    // A secondary NAME tracking in a database of its own, its copies in ROOT_FOLDER (NAME when
    // empty), fetching from the repositories of the site whose storage root is PRIMARY_FOLDER.
    Site secondary(const std::string& name, const std::string& primary_folder, const std::string& root_folder = "") {
        Site site{m_root / (name + ".yml"), bench::scratch_database("geo_ssf_bench_failover_" + m_label + "_" + name)};
        write_secondary(site, name, root_folder.empty() ? name : root_folder, primary_folder);
        std::filesystem::create_directories(m_root / (root_folder.empty() ? name : root_folder));
        geo_ssf(site.config, {"migrate"});
        return site;
    }

    void write_secondary(const Site& site, const std::string& name, const std::string& root_folder,
                         const std::string& primary_folder) {
        bench::write_file(site.config, "site: {name: " + name + ", role: secondary}\ndatabases: {main: \"" + m_main +
                                           "\", geo: \"" + site.geo + "\"}\nstorage: {root: " + root_folder +
                                           ", primary_url: \"file://" + (m_root / primary_folder).string() +
                                           "\"}\nsync: {batch_size: 100}\n");
    }

    void report_verified(const std::string& name, const Site& site) {
        pqxx::connection geo(site.geo);
        long long verified = pqxx::nontransaction(geo)
                                 .exec1("SELECT count(*) FROM cool_widget_registry WHERE verification_state = 2")[0]
                                 .as<long long>();
        std::printf("  %-55s %lld of %lld\n", (name + ": copies verified with the new primary's checksum").c_str(),
                    verified, m_records);
    }

    std::string m_binary;
    std::filesystem::path m_root, m_log;
    std::string m_label, m_main;
    long long m_records = 0;
};

}  // namespace

int main(int argc, char** argv) try {
    long long total = argc > 1 ? std::atoll(argv[1]) : 1000;
    bool large = argc > 2 && std::string(argv[2]) == "1";
    std::string binary = std::filesystem::canonical("/proc/self/exe").parent_path().parent_path() / "cmd" / "geo-ssf";
    bench::hermetic_git();
    {
        Failover small(binary, "small");
        small.add_records(total);
        std::string head = bench::make_template_repository(small.root() / "template.git");
        for (long long id = 1; id <= total; ++id)
            bench::copy_repository(small.root() / "template.git",
                                   small.root() / "primary" / "cool_widgets" / (std::to_string(id) + ".git"), head, id);
        small.run();
    }
    if (large) {
        Failover one(binary, "large");
        one.add_records(1);
        bench::make_large_repository(one.root() / "primary" / "cool_widgets" / "1.git");
        one.run();
    }
    if (!std::getenv("GEO_SSF_BENCH_KEEP"))
        for (const char* label : {"small", "large"})
            std::filesystem::remove_all(bench::temporary_root("geo-ssf-bench-failover-" + std::string(label)));
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "failover-bench: %s\n", e.what());
    return 1;
}
