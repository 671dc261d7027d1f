// bench/fetch: one large repository synced by geo-ssf, against git in the same run, over file://,
// git://, ssh:// and https:// (git daemon, sshd, and lighttpd with git http-backend over TLS and
// basic auth: the tests' servers, started on free ports). For each transport it prints
// the first sync against `git clone --mirror`, and the sync after commits, tags and branch
// moves and deletions on the primary against `git fetch --prune` of that mirror clone: time and
// peak memory (of the process and the programs it waits for; the daemon's side is not counted),
// then the disk each copy takes and the loose refs left in it. Each figure is the median of
// three rounds, git's and geo-ssf's runs in turn. The first sync's figure includes the fresh
// copy's commit-graph, which git clone does not write; its share is printed too.
// Run under pg_virtualenv:
//   build/bench/fetch-bench [BARE-REPOSITORY]
// Without an argument it builds a repository the size of a large project (~160,000 objects,
// a pack of ~85 MB, 7,000 refs, a third of them annotated tags) in about a minute; with one, it
// copies that bare repository (a local mirror of a real project) instead.
// Targets: first sync no slower than git clone --mirror, a sync after changes at most 1.1 times
// git fetch --prune, disk within 5% of the mirror clone's, no loose refs after a first sync.
#include "bench_support.hpp"
#include "large_repository.hpp"
#include "servers.hpp"

#include <pqxx/pqxx>

#include <algorithm>
#include <cstdio>
#include <vector>

namespace {

using bench::ProcessFigures;

// A line of git's output in REPOSITORY.
std::string git_output(const std::filesystem::path& repository, const std::string& command) {
    FILE* in = ::popen(("git --git-dir='" + repository.string() + "' " + command).c_str(), "r");
    char line[4096] = "";
    if (!in || !std::fgets(line, sizeof line, in))
        throw std::runtime_error("no output from git " + command);
    ::pclose(in);
    std::string text = line;
    return text.substr(0, text.find('\n'));
}

// What the primary receives between two syncs: 200 commits on its default branch with their tags
// and branches, 20 branches moved and 20 deleted (of the built repository's).
void change_primary(const std::filesystem::path& repository) {
    bench::fast_import(repository, 10 * bench::k_large_repository_commits, 200, git_output(repository, "symbolic-ref HEAD"),
                git_output(repository, "rev-parse HEAD"), "new-");
    std::string updates;
    for (int i = 1; i <= 20; ++i) {
        updates += "update refs/heads/branch-" + std::to_string(40 * i) + " HEAD\n";
        updates += "delete refs/heads/branch-" + std::to_string(40 * (100 + i)) + "\n";
    }
    bench::write_file(repository / "bench-updates", updates);
    bench::run("git --git-dir='" + repository.string() + "' update-ref --stdin <'" + (repository / "bench-updates").string() +
               "'");
}

struct Transport {
    std::string name;                    // also the secondary's name
    std::string primary_url;             // the primary's storage root
    std::string storage_keys;            // the secondary's other storage settings, in YAML flow style
    std::vector<std::string> git_options;  // for git's own clone and fetch: the same key, CA and password
    std::string git_url;                 // the primary's storage root for git, with the password for https
    std::filesystem::path config, copy, mirror;
    ProcessFigures git_clone, first_sync, git_fetch, later_sync, current_sync;
};

// How long the housekeeping of T's copy took, as its secondary recorded it.
double housekeeping_seconds(const Transport& t) {
    pqxx::connection db("dbname=geo_ssf_bench_fetch_" + t.name);
    pqxx::nontransaction tx(db);
    return tx.exec1("SELECT coalesce(sum(housekeeping_seconds), 0) FROM geo_ssf_housekeeping")[0].as<double>();
}

std::vector<std::string> git_command(const Transport& t, std::vector<std::string> args) {
    args.insert(args.begin(), t.git_options.begin(), t.git_options.end());
    args.insert(args.begin(), "git");
    return args;
}

// How many times the syncs after changes are measured.
constexpr int k_rounds = 3;

void print(const char* what, const ProcessFigures& f) {
    std::printf("  %-30s %7.2f s, peak %7.1f MB", what, f.seconds, f.peak_kib / 1024.0);
    if (f.status)
        std::printf(", exit %d", f.status);
    std::printf("\n");
}

void print_ratio(const char* what, const ProcessFigures& ours, const ProcessFigures& git) {
    std::printf("  %-30s %7.2fx\n", what, ours.seconds / git.seconds);
}

}  // namespace

int main(int argc, char** argv) try {
    std::string binary = std::filesystem::canonical("/proc/self/exe").parent_path().parent_path() / "cmd" / "geo-ssf";
    auto root = std::filesystem::path(bench::temporary_root("geo-ssf-bench-fetch"));
    auto log = root / "bench.log";
    bench::hermetic_git();
    std::string main_db = bench::one_record_primary(root, binary, "geo_ssf_bench_fetch");
    auto source = root / "primary" / "cool_widgets" / "1.git";
    std::filesystem::create_directories(source.parent_path());
    auto started = std::chrono::steady_clock::now();
    if (argc > 1)
        bench::run("git clone -q --mirror '" + std::string(argv[1]) + "' '" + source.string() + "'");
    else
        bench::make_large_repository(source);
    double made = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    // The servers the tests use: git daemon, sshd, lighttpd with git http-backend over TLS.
    geo_ssf::test::GitDaemon daemon(root / "git-daemon", root / "primary");
    geo_ssf::test::SshServer ssh(root / "ssh");
    const std::string secret = "bench-secret";
    geo_ssf::test::HttpsServer https(root / "https", root / "primary", "geo", secret);
    bench::write_file(root / "credentials", "geo:" + secret + "\n");
    std::filesystem::permissions(root / "credentials", std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    std::string https_url = https.url_base();
    std::string ssh_command = "ssh -F /dev/null -o BatchMode=yes -o UserKnownHostsFile=" + ssh.known_hosts().string() +
                              " -o IdentitiesOnly=yes -i " + ssh.user_key().string();

    std::string local = "file://" + (root / "primary").string();
    std::vector<Transport> transports{
        {"file", local, "", {}, local, {}, {}, {}, {}, {}, {}, {}, {}},
        {"git", daemon.url_base(), "", {}, daemon.url_base(), {}, {}, {}, {}, {}, {}, {}, {}},
        {"ssh", ssh.url_base() + (root / "primary").string(),
         "ssh_key: \"" + ssh.user_key().string() + "\", ssh_known_hosts: \"" + ssh.known_hosts().string() + "\"",
         {"-c", "core.sshCommand=" + ssh_command}, ssh.url_base() + (root / "primary").string(), {}, {}, {}, {}, {}, {}, {}, {}},
        {"https", https_url,
         "ca_file: \"" + https.ca_file().string() + "\", credentials_file: \"" + (root / "credentials").string() + "\"",
         {"-c", "http.sslCAInfo=" + https.ca_file().string()},
         "https://geo:" + secret + "@" + https_url.substr(std::string("https://").size()), {}, {}, {}, {}, {}, {}, {}, {}}};
    for (auto& t : transports) {
        t.config = bench::secondary_site(root, binary, main_db, "geo_ssf_bench_fetch", t.name, t.primary_url, t.storage_keys);
        t.copy = root / t.name / "cool_widgets" / "1.git";
        t.mirror = root / ("mirror-" + t.name + ".git");
    }
    // The first syncs, k_rounds times, git's and geo-ssf's in turn: the copy and the mirror clone
    // removed before each (and the record marked for a resync, so that the sync makes it again).
    std::vector<std::vector<ProcessFigures>> git_clones(transports.size()), first_syncs(transports.size());
    std::vector<std::vector<double>> first_housekeepings(transports.size());
    std::vector<double> first_housekeeping(transports.size());  // of the median first sync
    for (int round = 0; round < k_rounds; ++round) {
        for (size_t i = 0; i < transports.size(); ++i) {
            const Transport& t = transports[i];
            if (round > 0) {
                bench::run("rm -rf '" + t.mirror.string() + "' '" + t.copy.string() + "'");
                bench::run("'" + binary + "' -c '" + t.config.string() + "' resync cool_widget 1 >/dev/null");
            }
            git_clones[i].push_back(bench::measure(
                git_command(t, {"clone", "-q", "--mirror", t.git_url + "/cool_widgets/1.git", t.mirror.string()}), log));
            first_syncs[i].push_back(bench::measure({binary, "-c", t.config.string(), "sync"}, log));
            first_housekeepings[i].push_back(housekeeping_seconds(t));
        }
    }
    for (size_t i = 0; i < transports.size(); ++i) {
        transports[i].git_clone = bench::median(git_clones[i]);
        transports[i].first_sync = bench::median(first_syncs[i]);
        for (size_t round = 0; round < first_syncs[i].size(); ++round)
            if (first_syncs[i][round].seconds == transports[i].first_sync.seconds)
                first_housekeeping[i] = first_housekeepings[i][round];
    }
    // The syncs after changes, k_rounds times from the same state (the mirror clone and the copy
    // put back as the first syncs left them), each figure the median of its rounds: one run on a
    // shared machine varies by a tenth.
    for (auto& t : transports)
        for (const auto& folder : {t.mirror, t.copy})
            bench::run("cp -a '" + folder.string() + "' '" + folder.string() + ".before'");
    change_primary(source);
    std::vector<std::vector<ProcessFigures>> git_fetches(transports.size()), later_syncs(transports.size()),
        current_syncs(transports.size());
    for (int round = 0; round < k_rounds; ++round) {
        for (size_t i = 0; i < transports.size(); ++i) {
            Transport& t = transports[i];
            if (round > 0)
                for (const auto& folder : {t.mirror, t.copy})
                    bench::run("rm -rf '" + folder.string() + "' && cp -a '" + folder.string() + ".before' '" +
                               folder.string() + "'");
            git_fetches[i].push_back(
                bench::measure(git_command(t, {"--git-dir=" + t.mirror.string(), "fetch", "-q", "--prune"}), log));
            later_syncs[i].push_back(
                bench::measure({binary, "-c", t.config.string(), "resync", "cool_widget", "1", "--now"}, log));
            current_syncs[i].push_back(
                bench::measure({binary, "-c", t.config.string(), "resync", "cool_widget", "1", "--now"}, log));
        }
    }
    for (size_t i = 0; i < transports.size(); ++i) {
        transports[i].git_fetch = bench::median(git_fetches[i]);
        transports[i].later_sync = bench::median(later_syncs[i]);
        transports[i].current_sync = bench::median(current_syncs[i]);
    }

    std::string counts = root / "counts";
    bench::run("cd '" + source.string() + "' && (git count-objects -v | sed -n 's/^in-pack: //p'; git for-each-ref | wc -l) >'" +
               counts + "'");
    long long objects = 0, refs = 0;
    std::ifstream(counts) >> objects >> refs;
    std::printf("primary: %s, %lld objects, %lld refs, %lld KiB on disk%s (%.0f s to make)\n",
                argc > 1 ? argv[1] : "built", objects, refs, bench::disk_kib(source),
                argc > 1 ? "" : ", 200 commits and 40 branch changes between the syncs", made);
    std::printf("first syncs, and fetches and resyncs after changes: the median of %d rounds\n", k_rounds);
    for (size_t i = 0; i < transports.size(); ++i) {
        const Transport& t = transports[i];
        std::printf("%s://\n", t.name.c_str());
        print("git clone --mirror:", t.git_clone);
        print("geo-ssf sync, first sync:", t.first_sync);
        print("git fetch --prune:", t.git_fetch);
        print("geo-ssf resync --now:", t.later_sync);
        print("geo-ssf resync --now, current:", t.current_sync);
        print_ratio("first sync / clone:", t.first_sync, t.git_clone);
        // A clone writes no commit-graph; a fresh copy gets one at once, for its later fetches.
        std::printf("  %-30s %7.2f s, so %.2fx without it\n", "of which the commit-graph:", first_housekeeping[i],
                    (t.first_sync.seconds - first_housekeeping[i]) / t.git_clone.seconds);
        print_ratio("resync / fetch:", t.later_sync, t.git_fetch);
        long long copy_kib = bench::disk_kib(t.copy), mirror_kib = bench::disk_kib(t.mirror);
        std::printf("  disk: copy %lld KiB, mirror clone %lld KiB (%+.1f%%); loose refs: copy %lld, mirror clone %lld\n",
                    copy_kib, mirror_kib, 100.0 * (copy_kib - mirror_kib) / mirror_kib, bench::loose_refs(t.copy),
                    bench::loose_refs(t.mirror));
        bench::run("cd '" + t.copy.string() + "' && git for-each-ref >'" + (root / "copy-refs").string() + "' && cd '" +
                   source.string() + "' && git for-each-ref | cmp -s - '" + (root / "copy-refs").string() + "' || echo '  THE COPY HAS OTHER REFS THAN THE PRIMARY'");
    }
    if (!std::getenv("GEO_SSF_BENCH_KEEP"))
        std::filesystem::remove_all(root);
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "fetch-bench: %s\n", e.what());
    return 1;
}
