// bench/forks: a fork network on a file:// primary: one pool repository (a large project's
// history) and N forks (default 50) that borrow its objects, each with a few commits of its own.
// It prints the secondary's disk against the primary's, the first sync of the whole network
// against `git clone --mirror` of the pool and then of each fork with `--reference` to that
// clone, and a sync after pushes to 10 forks against `git fetch --prune` of those 10 clones.
// Run under pg_virtualenv:
//   build/bench/forks-bench [BARE-REPOSITORY] [N]
// Without a repository it builds one the size of a large project (~160,000 objects, a pack of
// ~85 MB) in about a minute; with one (a local mirror of a real project), it copies that.
// Targets: the secondary's disk at most 1.1 times the primary's (without pools it would be
// about N times); first sync and later syncs close to git's.
#include "bench_support.hpp"
#include "large_repository.hpp"

#include <algorithm>
#include <cstdio>
#include <string>

namespace {

// Bytes under FOLDER, as du counts them.
long long disk_bytes(const std::filesystem::path& folder) {
    FILE* in = ::popen(("du -sb '" + folder.string() + "'").c_str(), "r");
    long long bytes = 0;
    if (!in || std::fscanf(in, "%lld", &bytes) != 1)
        throw std::runtime_error("du failed on " + folder.string());
    ::pclose(in);
    return bytes;
}

// COMMITS new commits on FORK's HEAD, each with a blob of its own (a fork's own work).
void push(const std::filesystem::path& fork, int commits, const std::string& tag) {
    bench::run("cd '" + fork.string() + "' && for i in $(seq 1 " + std::to_string(commits) +
               "); do b=$(echo '" + tag + "' $i | git hash-object -w --stdin) && "
               "t=$(printf '100644 blob %s\\tfork-file\\n' $b | git mktree) && "
               "c=$(git commit-tree $t -p HEAD -m '" + tag + "') && git update-ref HEAD $c || exit 1; done");
}

}  // namespace

int main(int argc, char** argv) try {
    std::string source = argc > 1 ? argv[1] : "";
    int forks = argc > 2 ? std::atoi(argv[2]) : 50;
    std::string binary = std::filesystem::canonical("/proc/self/exe").parent_path().parent_path() / "cmd" / "geo-ssf";
    auto root = std::filesystem::path(bench::temporary_root("geo-ssf-bench-forks"));
    std::string main_db = bench::scratch_database("geo_ssf_bench_forks_main");
    std::string geo_db = bench::scratch_database("geo_ssf_bench_forks_geo");
    auto primary = root / "primary.yml", secondary = root / "secondary.yml", log = root / "bench.log";
    bench::write_file(primary, "databases: {main: \"" + main_db + "\"}\nstorage: {root: primary}\n");
    bench::write_file(secondary, "site: {role: secondary}\ndatabases: {main: \"" + main_db + "\", geo: \"" + geo_db +
                                     "\"}\nstorage: {root: secondary, primary_url: \"file://" +
                                     (root / "primary").string() + "\"}\n");
    std::filesystem::create_directories(root / "secondary");
    bench::run("cd '" + root.string() + "' && '" + binary + "' -c primary.yml generate replicable CoolWidget >/dev/null");
    bench::append_file(root / "replicables" / "cool_widget.yml", "pool_repository_path: \"@pools/{pool_id}.git\"\n");
    {
        pqxx::connection db(main_db);
        pqxx::nontransaction tx(db);
        tx.exec("CREATE TABLE cool_widgets (id bigserial PRIMARY KEY, pool_id bigint)");
        tx.exec("INSERT INTO cool_widgets SELECT generate_series(1, " + std::to_string(forks) + "), 1");
    }
    bench::run("'" + binary + "' -c '" + primary.string() + "' migrate >/dev/null && '" + binary + "' -c '" +
               secondary.string() + "' migrate >/dev/null");

    auto pool = root / "primary" / "@pools" / "1.git";
    std::filesystem::create_directories(pool.parent_path());
    if (source.empty())
        bench::make_large_repository(pool);
    else
        bench::run("git clone -q --mirror '" + source + "' '" + pool.string() + "'");
    bench::run("git -C '" + pool.string() + "' repack -a -d -q");
    for (int id = 1; id <= forks; ++id) {
        auto fork = root / "primary" / "cool_widgets" / (std::to_string(id) + ".git");
        bench::run("git clone -q --bare --shared '" + pool.string() + "' '" + fork.string() + "'");
        push(fork, 3, "fork " + std::to_string(id));
    }
    bench::run("'" + binary + "' -c '" + primary.string() + "' verify >/dev/null 2>&1");

    // git's way: the pool cloned once, each fork cloned with it as reference.
    auto baseline = root / "baseline";
    std::filesystem::create_directories(baseline / "cool_widgets");
    std::string clones = "git clone -q --mirror file://" + pool.string() + " '" + (baseline / "pool.git").string() +
                         "' && for i in $(seq 1 " + std::to_string(forks) + "); do git clone -q --mirror --reference '" +
                         (baseline / "pool.git").string() + "' file://" + (root / "primary").string() +
                         "/cool_widgets/$i.git '" + baseline.string() + "/cool_widgets/'$i.git || exit 1; done";
    auto git_first = bench::measure({"sh", "-c", clones}, log);
    auto first = bench::measure({binary, "-c", secondary.string(), "sync"}, log);

    // Pushes to 10 forks, then the sync that follows them, against git fetch --prune of those 10.
    std::string ids;
    for (int id = 1; id <= std::min(forks, 10); ++id) {
        push(root / "primary" / "cool_widgets" / (std::to_string(id) + ".git"), 2, "push " + std::to_string(id));
        ids += " " + std::to_string(id);
    }
    bench::run("'" + binary + "' -c '" + primary.string() + "' event cool_widget updated" + ids + " >/dev/null && '" +
               binary + "' -c '" + primary.string() + "' verify >/dev/null 2>&1");
    std::string fetches = "for i in" + ids + "; do git --git-dir='" + baseline.string() +
                          "/cool_widgets/'$i.git fetch -q --prune file://" + (root / "primary").string() +
                          "/cool_widgets/$i.git '+refs/*:refs/*' || exit 1; done";
    auto git_later = bench::measure({"sh", "-c", fetches}, log);
    auto later = bench::measure({binary, "-c", secondary.string(), "sync"}, log);
    auto verified = bench::measure({binary, "-c", secondary.string(), "verify"}, log);

    pqxx::connection geo(geo_db);
    long long good = pqxx::nontransaction(geo)
                         .exec1("SELECT count(*) FROM cool_widget_registry WHERE state = 2 AND verification_state = 2")[0]
                         .as<long long>();
    long long primary_bytes = disk_bytes(root / "primary"), secondary_bytes = disk_bytes(root / "secondary");
    long long baseline_bytes = disk_bytes(baseline);
    long long pool_bytes = disk_bytes(pool);
    std::printf("fork network: %d forks of one pool of %.1f MB\n", forks, pool_bytes / 1e6);
    std::printf("disk: primary %.1f MB, secondary %.1f MB (%.2fx the primary's), git's clones %.1f MB; without pools "
                "about %.1f MB\n",
                primary_bytes / 1e6, secondary_bytes / 1e6, static_cast<double>(secondary_bytes) / primary_bytes,
                baseline_bytes / 1e6, (pool_bytes * static_cast<double>(forks)) / 1e6);
    std::printf("first sync:  geo-ssf %6.2f s, git clone --mirror (pool, then forks --reference) %6.2f s: %.2fx, exit "
                "%d (git's %d), peak %.1f MB\n",
                first.seconds, git_first.seconds, first.seconds / git_first.seconds, first.status, git_first.status,
                first.peak_kib / 1024.0);
    std::printf("after pushes to 10 forks: geo-ssf sync %6.2f s, git fetch --prune of the 10 %6.2f s: %.2fx, exit %d "
                "(git's %d)\n",
                later.seconds, git_later.seconds, later.seconds / git_later.seconds, later.status, git_later.status);
    std::printf("verify after it: %.2f s, exit %d; %lld of %d records synced and verified\n", verified.seconds,
                verified.status, good, forks);
    if (!std::getenv("GEO_SSF_BENCH_KEEP"))
        std::filesystem::remove_all(root);
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "forks-bench: %s\n", e.what());
    return 1;
}
