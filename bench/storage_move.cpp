// bench/storage_move: GitLab's storage move on a file:// primary. A record's repository (a large
// project's history, with a few commits pushed since the secondary's last sync) moves from the
// storage default to the storage nfs-01, and the secondary, which holds the record's copy in
// default, syncs it into nfs-01. Its sync is measured as geo-ssf makes it (the new copy starts
// as a copy of the old one, then a fetch), against the same sync with the old copy gone (a
// clone from the primary) and against `git clone --mirror` of the moved repository: time and
// peak memory, each the median of three rounds in turn, then what the registry says.
// Run under pg_virtualenv:
//   build/bench/storage-move-bench [BARE-REPOSITORY]
// Without a repository it builds one the size of a large project (~160,000 objects, a pack of
// ~85 MB) in about a minute; with one (a local mirror of a real project), it copies that.
// Target: the move's sync a small part of a clone's time (a file copy and a fetch of what
// changed, no transfer of the whole history).
#include "bench_support.hpp"
#include "large_repository.hpp"

#include <pqxx/pqxx>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace {

using bench::ProcessFigures;

void print(const char* what, const ProcessFigures& f) {
    std::printf("  %-44s %7.2f s, peak %7.1f MB, exit %d\n", what, f.seconds, f.peak_kib / 1024.0, f.status);
}

}  // namespace

int main(int argc, char** argv) try {
    namespace fs = std::filesystem;
    std::string binary = fs::canonical("/proc/self/exe").parent_path().parent_path() / "cmd" / "geo-ssf";
    auto root = fs::path(bench::temporary_root("geo-ssf-bench-storage-move"));
    bench::hermetic_git();
    std::string main_db = bench::scratch_database("geo_ssf_bench_move_main");
    std::string geo_db = bench::scratch_database("geo_ssf_bench_move_geo");
    auto primary = root / "primary.yml", secondary = root / "secondary.yml", log = root / "bench.log";
    for (const char* folder : {"primary-default/cool_widgets", "primary-nfs-01/cool_widgets", "secondary-default",
                               "secondary-nfs-01"})
        fs::create_directories(root / folder);
    bench::write_file(primary, "databases: {main: \"" + main_db + "\"}\nstorage: {root: primary-default}\n"
                               "storages: {nfs-01: {root: primary-nfs-01}}\n");
    bench::write_file(secondary, "site: {role: secondary}\ndatabases: {main: \"" + main_db + "\", geo: \"" + geo_db +
                                     "\"}\nstorage: {root: secondary-default, primary_url: \"file://" +
                                     (root / "primary-default").string() + "\"}\nstorages: {nfs-01: {root: "
                                     "secondary-nfs-01, primary_url: \"file://" +
                                     (root / "primary-nfs-01").string() + "\"}}\n");
    bench::run("cd '" + root.string() + "' && '" + binary + "' -c primary.yml generate replicable CoolWidget >/dev/null");
    bench::append_file(root / "replicables" / "cool_widget.yml", "storage_column: repository_storage\n");
    pqxx::connection main(main_db);
    pqxx::nontransaction(main).exec(
        "CREATE TABLE cool_widgets (id bigserial PRIMARY KEY, repository_storage text NOT NULL); "
        "INSERT INTO cool_widgets VALUES (1, 'default')");
    std::string primary_run = "'" + binary + "' -c '" + primary.string() + "' ";
    std::string secondary_run = "'" + binary + "' -c '" + secondary.string() + "' ";
    bench::run(primary_run + "migrate >/dev/null && " + secondary_run + "migrate >/dev/null");

    auto before = root / "primary-default" / "cool_widgets" / "1.git";
    auto after = root / "primary-nfs-01" / "cool_widgets" / "1.git";
    if (argc > 1)
        bench::run("git clone -q --mirror '" + std::string(argv[1]) + "' '" + before.string() + "'");
    else
        bench::make_large_repository(before);
    bench::run(primary_run + "event cool_widget created 1 >/dev/null && " + primary_run + "verify >/dev/null && " +
               secondary_run + "sync >/dev/null 2>&1 && " + secondary_run + "verify >/dev/null");

    // Pushes since the last sync, then the move: the repository renamed into nfs-01, the row
    // naming it, an updated event and the primary's checksum of it there.
    bench::run("cd '" + before.string() + "' && for i in 1 2 3; do b=$(echo moved $i | git hash-object -w --stdin) && "
               "t=$(printf '100644 blob %s\\tmoved\\n' $b | git mktree) && c=$(git commit-tree $t -p HEAD -m moved) && "
               "git update-ref HEAD $c || exit 1; done");
    fs::rename(before, after);
    pqxx::nontransaction(main).exec("UPDATE cool_widgets SET repository_storage = 'nfs-01' WHERE id = 1");
    bench::run(primary_run + "event cool_widget updated 1 >/dev/null && " + primary_run + "verify >/dev/null");

    auto old_copy = root / "secondary-default" / "cool_widgets" / "1.git";
    auto new_copy = root / "secondary-nfs-01" / "cool_widgets" / "1.git";
    auto mirror = root / "mirror.git";
    bench::run("cp -a '" + old_copy.string() + "' '" + (root / "old-copy.git").string() + "'");
    std::vector<ProcessFigures> moves, clones, git_clones;
    for (int round = 0; round < 3; ++round) {
        bench::run("rm -rf '" + new_copy.string() + "' '" + old_copy.string() + "' '" + mirror.string() + "' && cp -a '" +
                   (root / "old-copy.git").string() + "' '" + old_copy.string() + "' && " + secondary_run +
                   "resync cool_widget 1 >/dev/null");
        moves.push_back(bench::measure({binary, "-c", secondary.string(), "sync"}, log));
        bench::run("rm -rf '" + new_copy.string() + "' '" + old_copy.string() + "' && " + secondary_run +
                   "resync cool_widget 1 >/dev/null");
        clones.push_back(bench::measure({binary, "-c", secondary.string(), "sync"}, log));
        git_clones.push_back(bench::measure({"git", "clone", "-q", "--mirror", "file://" + after.string(), mirror.string()}, log));
    }
    // The last round's state: the move made as geo-ssf makes it, then verified.
    bench::run("rm -rf '" + new_copy.string() + "' && cp -a '" + (root / "old-copy.git").string() + "' '" +
               old_copy.string() + "' && " + secondary_run + "resync cool_widget 1 >/dev/null && " + secondary_run +
               "sync >/dev/null 2>&1 && " + secondary_run + "verify >/dev/null");
    pqxx::connection geo(geo_db);
    auto row = pqxx::nontransaction(geo).exec1(
        "SELECT state, verification_state, (SELECT string_agg(storage, ',') FROM geo_ssf_copies WHERE record_id = 1) "
        "FROM cool_widget_registry WHERE cool_widget_id = 1");

    ProcessFigures move = bench::median(moves), clone = bench::median(clones), git_clone = bench::median(git_clones);
    std::printf("storage move of %s (%lld KiB), 3 commits pushed since the last sync; the median of 3 rounds\n",
                argc > 1 ? argv[1] : "a built repository", bench::disk_kib(after));
    print("geo-ssf sync, from the old copy:", move);
    print("geo-ssf sync, the old copy gone (a clone):", clone);
    print("git clone --mirror:", git_clone);
    std::printf("  %-44s %7.2fx\n", "move / clone:", move.seconds / clone.seconds);
    std::printf("  %-44s %7.2fx\n", "move / git clone --mirror:", move.seconds / git_clone.seconds);
    std::printf("after the move and a verify: state %s, verification_state %s, copies in %s\n", row[0].c_str(),
                row[1].c_str(), row[2].c_str());
    if (!std::getenv("GEO_SSF_BENCH_KEEP"))
        fs::remove_all(root);
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "storage-move-bench: %s\n", e.what());
    return 1;
}
