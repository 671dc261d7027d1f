#include "repo/mirror.hpp"

#include "repo/checksum.hpp"
#include "repo/git.hpp"
#include "repo/git_program.hpp"
#include "repo/storage.hpp"
#include "repo/transport.hpp"

#include "common/error.hpp"
#include "common/url.hpp"

#include <spdlog/spdlog.h>

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <fstream>
#include <map>
#include <random>

namespace geo_ssf {

namespace {

const char* k_temporary_folder = ".geo-ssf-tmp";
char k_mirror_refspec[] = "+refs/*:refs/*";

// STORAGE_ROOT/.geo-ssf-tmp: new copies are built there and clean-up removes what is in it.
std::filesystem::path temporary_folder(const std::filesystem::path& storage_root, bool create) {
    return own_folder(storage_root / k_temporary_folder, create);
}

std::filesystem::path new_temporary_folder(const std::filesystem::path& storage_root) {
    static std::atomic<unsigned> counter{0};
    thread_local std::mt19937 random{std::random_device{}()};
    auto dir = temporary_folder(storage_root, true);
    return dir / (std::to_string(getpid()) + "-" + std::to_string(counter++) + "-" + std::to_string(random() % 1000000));
}

// Whether NAME is one new_temporary_folder makes: <pid>-<counter>-<random>, digits only.
bool is_temporary_name(const std::string& name) {
    int dashes = 0;
    bool digit_before = false;
    for (char c : name) {
        if (c == '-') {
            if (!digit_before)
                return false;
            ++dashes;
            digit_before = false;
        } else if (c >= '0' && c <= '9') {
            digit_before = true;
        } else {
            return false;
        }
    }
    return dashes == 2 && digit_before;
}

// A repository, or what a clone or a removal interrupted early leaves: an empty folder, or one
// with at least one of a repository's own entries.
bool is_partial_repository(const std::filesystem::path& path) {
    if (!is_folder_not_link(path))
        return false;
    std::error_code ec;
    if (std::filesystem::is_empty(path, ec))
        return !ec;
    for (const char* entry : {"HEAD", "objects", "refs", "config"})
        if (std::filesystem::exists(std::filesystem::symlink_status(path / entry, ec)))
            return true;
    return false;
}

git::Remote anonymous_remote(git_repository* repository, const std::string& url) {
    return git::make<git::Remote>(git_remote_create_anonymous, "cannot use " + redact_url_credentials(url), repository, url.c_str());
}

git::Remote detached_remote(const std::string& url) {
    return git::make<git::Remote>(git_remote_create_detached, "cannot use " + redact_url_credentials(url), url.c_str());
}

// The refs a remote's listing counts: HEAD and the peeled lines of annotated tags ("^{}") are
// not refs of their own.
size_t count_advertised_refs(git_remote* remote, const std::string& url, RemoteSession& session) {
    const git_remote_head** heads = nullptr;
    size_t listed = 0;
    session.check(git_remote_ls(&heads, &listed, remote), "cannot list the refs of " + redact_url_credentials(url));
    size_t refs = 0;
    for (size_t i = 0; i < listed; ++i) {
        std::string_view name = heads[i]->name;
        refs += name != "HEAD" && !name.ends_with("^{}");
    }
    return refs;
}

void check_max_refs(size_t refs, long long max_refs) {
    if (refs > static_cast<unsigned long long>(max_refs))
        throw TooManyRefsError("the primary advertises " + std::to_string(refs) + " refs, more than sync.max_refs (" +
                               std::to_string(max_refs) + "); nothing was fetched");
}

// Connects REMOTE (at URL) for a fetch. The refs the primary advertises are counted first, on
// the same connection: more than MAX_REFS fails before anything is written.
void connect_within_max_refs(git_remote* remote, const std::string& url, RemoteSession& session, long long max_refs) {
    git_remote_callbacks callbacks = session.callbacks();
    git_proxy_options proxy = session.proxy_options();
    session.check(git_remote_connect(remote, GIT_DIRECTION_FETCH, &callbacks, &proxy, nullptr),
                  "cannot connect to " + redact_url_credentials(url));
    check_max_refs(count_advertised_refs(remote, url, session), max_refs);
}

// The default branch of REMOTE (connected), when it advertises one.
std::optional<std::string> default_branch(git_remote* remote) {
    git::Buffer head;
    if (git_remote_default_branch(head.get(), remote) != 0)
        return std::nullopt;
    return std::string(head.view());
}

void set_head(git_repository* repository, const std::optional<std::string>& branch) {
    if (branch)
        git::check(git_repository_set_head(repository, branch->c_str()), "cannot set HEAD");
}

// Refuses the primary at URL if it has more than MAX_REFS refs, before git fetches from it, and
// returns its default branch. A local primary is read directly rather than through libgit2's
// local transport, which would peel every tag, reading the primary's pack (80 MB of memory for
// a large repository).
std::optional<std::string> default_branch_within_max_refs(const std::string& url, const TransportSettings& transport,
                                                          long long max_refs) {
    if (auto path = local_path_of(url)) {
        git::Repository primary = git::open_repository(*path);
        git::ReferenceIterator iterator =
            git::make<git::ReferenceIterator>(git_reference_iterator_new, "cannot list refs", primary.get());
        size_t refs = 0;
        const char* name = nullptr;
        while (git_reference_next_name(&name, iterator.get()) == 0)
            ++refs;
        check_max_refs(refs, max_refs);
        git_reference* raw = nullptr;
        if (git_reference_lookup(&raw, primary.get(), "HEAD") != 0)
            return std::nullopt;
        git::Reference head(raw);
        const char* branch = git_reference_symbolic_target(head.get());
        git_reference* target = nullptr;
        if (!branch || git_reference_lookup(&target, primary.get(), branch) != 0)
            return std::nullopt;  // unborn, as the primary advertises no HEAD then
        git_reference_free(target);
        return std::string(branch);
    }
    git::Remote remote = detached_remote(url);
    RemoteSession session(transport, url);
    connect_within_max_refs(remote.get(), url, session, max_refs);
    return default_branch(remote.get());
}

// The mirror's refspec, as libgit2 takes it.
git_strarray mirror_refspecs() {
    static char* refspecs[] = {k_mirror_refspec};
    return {refspecs, 1};
}

git_fetch_options mirror_fetch_options(RemoteSession& session) {
    git_fetch_options options = GIT_FETCH_OPTIONS_INIT;
    options.prune = GIT_FETCH_PRUNE;
    options.update_fetchhead = 0;
    options.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;  // the refspec already takes every tag
    options.callbacks = session.callbacks();
    options.proxy_opts = session.proxy_options();
    return options;
}

// The git program and what it needs to fetch from URL, when it is installed and may: from a
// local primary (see git_program.hpp); from git://, ssh:// and http(s)://, where libgit2's
// negotiation finds too few common commits in a repository of thousands of refs (a fetch of 200
// new commits brought a third of the repository again) and its indexer resolves deltas on one
// thread. Over ssh and http(s) git follows storage.*'s rules (git_transport), after a libgit2
// session has checked the primary's identity and the credentials while listing its refs for
// sync.max_refs, so that a refusal reads the same either way. An ssh key with a passphrase
// stays with libgit2, as ssh would ask for it.
struct GitFetcher {
    std::filesystem::path git;
    GitSetup setup;
};
std::optional<GitFetcher> git_fetcher_for(const std::string& url, const TransportSettings& transport) {
    auto git = git_program();
    if (!git)
        return std::nullopt;
    if (local_path_of(url) || url.starts_with("git://"))
        return GitFetcher{*git, {}};
    if (auto setup = git_transport(url, transport))
        return GitFetcher{*git, std::move(*setup)};
    return std::nullopt;
}

// URL as git takes it: a local path as file://, since a plain path would be cloned with hard
// links, sharing the primary's files instead of copying them.
std::string git_url(const std::string& url) {
    auto path = local_path_of(url);
    return !path || url.starts_with("file://") ? url : "file://" + std::filesystem::absolute(*path).string();
}

// Fetches every ref of URL into REPOSITORY (at GITDIR), deleting refs the primary no longer
// has, and points HEAD at the primary's default branch; see connect_within_max_refs.
void fetch_mirror(git_repository* repository, const std::filesystem::path& gitdir, const std::string& url,
                  const TransportSettings& transport, long long max_refs) {
    if (auto fetcher = git_fetcher_for(url, transport)) {
        auto branch = default_branch_within_max_refs(url, transport, max_refs);
        spdlog::debug("{}: git fetch --prune from {}", gitdir.string(), redact_url_credentials(url));
        run_git(fetcher->git,
                {"--git-dir=" + gitdir.string(), "fetch", "--progress", "--prune", "--no-write-fetch-head", git_url(url),
                 k_mirror_refspec},
                transport, "cannot fetch from " + redact_url_credentials(url), fetcher->setup);
        set_head(repository, branch);
        return;
    }
    git::Remote remote = anonymous_remote(repository, url);
    RemoteSession session(transport, url);
    connect_within_max_refs(remote.get(), url, session, max_refs);
    git_fetch_options options = mirror_fetch_options(session);
    git_strarray specs = mirror_refspecs();
    session.check(git_remote_fetch(remote.get(), &specs, &options, nullptr), "cannot fetch from " + redact_url_credentials(url));
    set_head(repository, default_branch(remote.get()));
}

// Writes GITDIR/packed-refs with every ref REMOTE (connected) advertises, peeled lines of
// annotated tags included, sorted as git sorts them: a fresh copy's refs are written once, in
// one file, where a fetch would write each as a file of its own and then pack them.
void write_advertised_refs(const std::filesystem::path& gitdir, git_remote* remote, const std::string& url,
                           RemoteSession& session) {
    const git_remote_head** heads = nullptr;
    size_t listed = 0;
    session.check(git_remote_ls(&heads, &listed, remote), "cannot list the refs of " + redact_url_credentials(url));
    std::map<std::string, std::pair<std::string, std::string>> refs;  // name → (oid, peeled oid)
    for (size_t i = 0; i < listed; ++i) {
        std::string_view name = heads[i]->name;
        if (!name.starts_with("refs/"))
            continue;  // HEAD
        bool peeled = name.ends_with("^{}");
        std::string ref(peeled ? name.substr(0, name.size() - 3) : name);
        int valid = 0;
        if (git_reference_name_is_valid(&valid, ref.c_str()) != 0 || !valid)
            continue;  // a name the download skipped too: its objects are not here
        (peeled ? refs[ref].second : refs[ref].first) = git::oid_hex(heads[i]->oid);
    }
    // Every annotated tag under refs/tags/ is advertised peeled; a tag named by another ref may
    // not be (libgit2's local transport peels refs/tags/ alone), so not "fully-peeled": git and
    // libgit2 peel those themselves.
    std::string text = "# pack-refs with: peeled sorted \n";
    for (const auto& [name, oids] : refs) {
        if (oids.first.empty())
            continue;
        text += oids.first + " " + name + "\n";
        if (!oids.second.empty())
            text += "^" + oids.second + "\n";
    }
    std::ofstream out(gitdir / "packed-refs", std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out)
        throw GitError("cannot write " + (gitdir / "packed-refs").string());
}

// Makes a new copy of URL at GITDIR (absent): every object and ref, HEAD on the primary's default
// branch, every ref in packed-refs.
void clone_mirror(const std::filesystem::path& gitdir, const std::string& url, const TransportSettings& transport,
                  long long max_refs) {
    if (auto fetcher = git_fetcher_for(url, transport)) {
        default_branch_within_max_refs(url, transport, max_refs);  // git clone sets HEAD itself
        // git clone writes a fresh copy's refs straight into packed-refs; the remote it records
        // goes, as geo-ssf always names the primary's URL itself.
        std::string what = "cannot fetch from " + redact_url_credentials(url);
        spdlog::debug("{}: git clone --mirror from {}", gitdir.string(), redact_url_credentials(url));
        run_git(fetcher->git, {"clone", "--mirror", "--progress", "--template=", git_url(url), gitdir.string()},
                transport, what, fetcher->setup);
        run_git(fetcher->git, {"--git-dir=" + gitdir.string(), "config", "--remove-section", "remote.origin"}, transport,
                what);
        return;
    }
    git::Repository repository =
        git::make<git::Repository>(git_repository_init, "cannot create a repository", gitdir.c_str(), 1u);
    git::Remote remote = anonymous_remote(repository.get(), url);
    RemoteSession session(transport, url);
    connect_within_max_refs(remote.get(), url, session, max_refs);
    git_fetch_options options = mirror_fetch_options(session);
    git_strarray specs = mirror_refspecs();
    session.check(git_remote_download(remote.get(), &specs, &options), "cannot fetch from " + redact_url_credentials(url));
    write_advertised_refs(gitdir, remote.get(), url, session);
    set_head(repository.get(), default_branch(remote.get()));
}

// How many loose refs a copy may keep before they are packed: Gitaly's housekeeping rule
// (max(16, log base 1.15 of packed-refs' size / 100)), since packing rewrites packed-refs whole:
// 16 beside a small file, about 80 beside the 6 MB of 100,000 refs.
size_t loose_refs_allowed(const std::filesystem::path& gitdir) {
    std::error_code ec;
    auto packed_size = std::filesystem::file_size(gitdir / "packed-refs", ec);
    double scaled = ec || packed_size < 100 ? 0 : std::log(static_cast<double>(packed_size) / 100) / std::log(1.15);
    return std::max<size_t>(16, static_cast<size_t>(scaled));
}

// Whether GITDIR holds more than LIMIT loose refs (files under refs/); stops counting there.
bool has_more_loose_refs_than(const std::filesystem::path& gitdir, size_t limit) {
    std::error_code ec;
    size_t files = 0;
    for (std::filesystem::recursive_directory_iterator it(gitdir / "refs", ec), end; !ec && it != end; it.increment(ec))
        if (it->is_regular_file(ec) && ++files > limit)
            return true;
    return false;
}

// Removes the empty folders below refs/<namespace>/ (refs/merge-requests/42/ once its head is
// packed), as git pack-refs does: each takes a block of disk.
void remove_empty_ref_folders(const std::filesystem::path& folder, int depth) {
    std::error_code ec;
    for (std::filesystem::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
        if (!it->is_directory(ec) || it->is_symlink(ec))
            continue;
        remove_empty_ref_folders(it->path(), depth + 1);
        if (depth >= 1)
            std::filesystem::remove(it->path(), ec);  // fails, harmlessly, unless empty
    }
}

// Packs the loose refs of REPOSITORY (at GITDIR) into packed-refs, as `git pack-refs --all`.
void pack_refs(git_repository* repository, const std::filesystem::path& gitdir) {
    git::Refdb refdb = git::make<git::Refdb>(git_repository_refdb, "cannot open the refs", repository);
    git::check(git_refdb_compress(refdb.get()), "cannot pack the refs");
    remove_empty_ref_folders(gitdir / "refs", 0);
}

// A copy fetched into is packed once its loose refs, the ones changed since, outgrow
// loose_refs_allowed (a fresh copy is made with every ref packed). Copies made before geo-ssf
// packed refs are packed on their next sync this way.
void keep_refs_packed(git_repository* repository, const std::filesystem::path& gitdir) {
    if (has_more_loose_refs_than(gitdir, loose_refs_allowed(gitdir)))
        pack_refs(repository, gitdir);
}

bool is_missing_on_primary(const std::string& url) {
    auto path = local_path_of(url);
    if (!path)
        return false;
    std::error_code ec;
    return !std::filesystem::exists(*path, ec);
}

// Whether MESSAGE, of a failed transfer from URL, says the primary has no such repository. The
// URL is taken out first: a failure of any kind names it, and ".../1404.git" is no answer.
bool looks_like_not_found(std::string message, const std::string& url) {
    std::string named = redact_url_credentials(url);
    for (size_t at; !named.empty() && (at = message.find(named)) != std::string::npos;)
        message.erase(at, named.size());
    for (const char* text : {"not found", "404", "does not appear to be a git repository", "does not exist"})
        if (message.find(text) != std::string::npos)
            return true;
    return false;
}

MirrorResult clone_into_place(const std::string& url, const std::filesystem::path& target,
                              const std::filesystem::path& storage_root, const TransportSettings& transport,
                              long long max_refs) {
    auto temporary = new_temporary_folder(storage_root);
    try {
        clone_mirror(temporary, url, transport, max_refs);
    } catch (...) {
        std::error_code ec;
        std::filesystem::remove_all(temporary, ec);
        throw;
    }
    std::filesystem::create_directories(target.parent_path());
    std::error_code ec;
    if (std::filesystem::exists(target, ec)) {
        // Swap: the old copy goes aside first, so TARGET is always one whole repository or none.
        auto old = new_temporary_folder(storage_root);
        std::filesystem::rename(target, old);
        std::filesystem::rename(temporary, target);
        std::filesystem::remove_all(old, ec);
    } else {
        std::filesystem::rename(temporary, target);
    }
    return {false, true};
}

}  // namespace

std::string primary_repository_url(const std::string& primary_url, const std::string& relative_path) {
    std::string base = primary_url;
    while (!base.empty() && base.back() == '/')
        base.pop_back();
    return base + "/" + relative_path;
}

MirrorResult mirror_repository(const std::string& url, const std::filesystem::path& target,
                               const std::filesystem::path& storage_root, const TransportSettings& transport,
                               long long max_refs) {
    if (is_missing_on_primary(url))
        return {true, false};
    try {
        std::error_code ec;
        if (!std::filesystem::exists(target / "HEAD", ec))
            return clone_into_place(url, target, storage_root, transport, max_refs);
        try {
            git::Repository repository = git::open_repository(target);
            fetch_mirror(repository.get(), target, url, transport, max_refs);
            keep_refs_packed(repository.get(), target);
            repository_checksum(target);  // every ref readable and every tip present
            return {false, false};
        } catch (const TooManyRefsError&) {
            throw;  // a fresh clone would be refused the same way
        } catch (const GitProgramInterrupted&) {
            throw;  // stopped, not broken
        } catch (const GitError&) {
            if (is_missing_on_primary(url))
                return {true, false};
            // The copy here is beyond what a fetch repairs: start again from the primary.
            return clone_into_place(url, target, storage_root, transport, max_refs);
        }
    } catch (const GitProgramInterrupted&) {
        throw;  // stopped or out of time: no answer from the primary
    } catch (const GitError& e) {
        if (!local_path_of(url) && looks_like_not_found(e.what(), url))
            return {true, false};  // a remote primary answered that it has no such repository
        throw;
    } catch (const std::filesystem::filesystem_error& e) {
        throw GitError(e.code().message() + ": " + e.path1().string());
    }
}

int remove_abandoned_mirror_folders(const std::filesystem::path& storage_root) {
    auto dir = temporary_folder(storage_root, false);
    if (dir.empty())
        return 0;
    std::error_code ec;
    int removed = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
        std::string name = entry.path().filename().string();
        if (!is_temporary_name(name) || !is_partial_repository(entry.path()))
            continue;  // not made by geo-ssf: left alone
        long pid = std::atol(name.c_str());
        if (pid > 0 && (kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM))
            continue;  // its process is still working on it
        std::filesystem::remove_all(entry.path(), ec);
        ++removed;
    }
    return removed;
}

void remove_repository(const std::filesystem::path& target, const std::filesystem::path& storage_root) {
    std::error_code ec;
    if (!std::filesystem::exists(std::filesystem::symlink_status(target, ec)))
        return;
    if (!is_bare_repository(target))
        throw RuntimeError(target.string() + " is not a bare repository (HEAD, objects/, refs/); it is left in place");
    // Renamed aside first, so a crash mid-removal leaves no half-deleted repository in place.
    try {
        auto aside = new_temporary_folder(storage_root);
        std::filesystem::rename(target, aside);
        std::filesystem::remove_all(aside, ec);
    } catch (const std::filesystem::filesystem_error& e) {
        throw RuntimeError("cannot remove " + target.string() + ": " + e.code().message());
    }
}

std::vector<RefDifference> compare_refs(const std::filesystem::path& local, const std::string& url,
                                        const TransportSettings& transport) {
    git::Repository repository = git::open_repository(local);
    std::map<std::string, std::pair<std::string, std::string>> refs;  // name → (here, primary)
    git::ReferenceIterator iterator =
        git::make<git::ReferenceIterator>(git_reference_iterator_new, "cannot list refs", repository.get());
    git_reference* raw = nullptr;
    while (git_reference_next(&raw, iterator.get()) == 0) {
        git::Reference ref(raw);
        const git_oid* oid = git_reference_target(ref.get());
        if (oid && checksum_counts_line(std::string(git_reference_name(ref.get()))))
            refs[git_reference_name(ref.get())].first = git::oid_hex(*oid);
    }
    git::Remote remote = anonymous_remote(repository.get(), url);
    RemoteSession session(transport, url);
    for (const auto& [name, oid] : session.advertised_refs(remote.get(), url)) {
        if (name == "HEAD" || name.ends_with("^{}"))
            continue;
        if (checksum_counts_line(name))
            refs[name].second = oid;
    }
    std::vector<RefDifference> out;
    for (const auto& [name, oids] : refs)
        if (oids.first != oids.second)
            out.push_back({name, oids.first, oids.second});
    return out;
}

}  // namespace geo_ssf
