// The git program fetcher: git clone --mirror and git fetch --prune, run by run_git under the
// time bounds and stop requests of a fetch, after the primary's refs are counted for
// sync.max_refs; a copy whose refs are all as the primary's is not fetched into.
#include "common/redact.hpp"
#include "common/shell_quoted.hpp"
#include "common/url.hpp"
#include "repo/fetcher.hpp"
#include "repo/git.hpp"
#include "repo/git_program.hpp"
#include "repo/ref_advertisement.hpp"
#include "repo/remote_session.hpp"
#include "repo/ssh_listing.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace geo_ssf {

namespace {

// URL as git takes it: a local path as file://, since a plain path would be cloned with hard
// links, sharing the primary's files instead of copying them; no userinfo but an ssh:// URL's
// user name, which ssh needs and which is no secret there (the key is): git's command line is
// for every local user to read, and git_transport hands the user and password to a credential
// helper instead.
std::string git_url(const std::string& url) {
    auto path = local_path_of(url);
    if (path)
        return url.starts_with("file://") ? url : "file://" + std::filesystem::absolute(*path).string();
    auto parsed = parse_url(url);
    return parsed && parsed->scheme == "ssh" ? url : without_userinfo(url);
}

// The options that make git see every ref of a local primary: the primary's own configuration
// may hide some from upload-pack (uploadpack.hideRefs, transfer.hideRefs), which its checksum
// counts all the same. A later "!refs" entry exposes them again. The command runs in a shell.
std::vector<std::string> upload_pack_options(const std::filesystem::path& git, const std::string& url) {
    if (!local_path_of(url))
        return {};  // a server applies its own configuration; verify says when refs are hidden
    return {"--upload-pack=" + shell_quoted(git.string()) + " -c 'uploadpack.hideRefs=!refs' upload-pack"};
}

// The refs of REPOSITORY as git advertises them: a symbolic ref by the object it resolves to
// (one that resolves to nothing is left out, as git leaves it out), sorted by name.
RefList refs_of_repository(git_repository* repository) {
    RefList refs;
    git::ReferenceIterator iterator =
        git::make<git::ReferenceIterator>(git_reference_iterator_new, "cannot list refs", repository);
    git_reference* raw = nullptr;
    while (git_reference_next(&raw, iterator.get()) == 0) {
        git::Reference ref(raw);
        git_oid oid;
        if (git_reference_type(ref.get()) == GIT_REFERENCE_DIRECT)
            refs.emplace_back(git_reference_name(ref.get()), *git_reference_target(ref.get()));
        else if (git_reference_name_to_id(&oid, repository, git_reference_name(ref.get())) == 0)
            refs.emplace_back(git_reference_name(ref.get()), oid);
    }
    sort_by_name(refs);
    return refs;
}

bool same_refs(const RefList& a, const RefList& b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const auto& x, const auto& y) {
        return x.first == y.first && git_oid_equal(&x.second, &y.second);
    });
}

// Lists the network primary at URL through a libgit2 session (remote_session.hpp).
PrimaryListing list_by_libgit2(const std::string& url, const TransportSettings& transport, long long max_refs) {
    PrimaryListing listing;
    git::Remote remote = remote_for(url);
    RemoteSession session(transport, url);
    connect_within_max_refs(remote.get(), url, session, max_refs);
    listing.default_branch = default_branch(remote.get());
    const git_remote_head** heads = nullptr;
    size_t count = 0;
    git::check(git_remote_ls(&heads, &count, remote.get()), "cannot list the refs of " + redact_url_credentials(url));
    for (size_t i = 0; i < count; ++i) {
        if (is_advertised_ref(heads[i]->name))
            listing.refs.emplace_back(heads[i]->name, heads[i]->oid);
    }
    sort_by_name(listing.refs);
    return listing;
}

// Lists the primary at URL, refusing it (TooManyRefsError) if it has more than MAX_REFS refs,
// before git fetches from it. A local primary is read directly rather than through libgit2's
// local transport, which would peel every tag, reading the primary's pack (80 MB of memory for
// a large repository); an ssh:// one by SETUP's ssh command, whose connection git's then reuses,
// where libgit2 would open one of its own.
PrimaryListing list_primary_within_max_refs(const std::string& url, const GitSetup& setup,
                                            const TransportSettings& transport, long long max_refs) {
    if (!setup.ssh_command.empty()) {
        try {
            return list_over_ssh(url, setup, transport, max_refs);
        } catch (const TooManyRefsError&) {
            throw;
        } catch (const GitProgramInterrupted&) {
            throw;
        } catch (const GitError&) {
            // ssh says little ("Host key verification failed."): a libgit2 session says which host
            // key was offered, or which key was refused, as when it listed every primary. Its
            // listing is not used: when it gets through, ssh's reason stands.
            list_by_libgit2(url, transport, max_refs);
            throw;
        }
    }
    PrimaryListing listing;
    if (auto path = local_path_of(url)) {
        git::Repository primary = git::open_repository(*path);
        {
            // Counted by name first: a primary of millions of refs is refused before they are read.
            git::ReferenceIterator names =
                git::make<git::ReferenceIterator>(git_reference_iterator_new, "cannot list refs", primary.get());
            size_t refs = 0;
            const char* name = nullptr;
            while (git_reference_next_name(&name, names.get()) == 0)
                ++refs;
            check_max_refs(refs, max_refs);
        }
        listing.refs = refs_of_repository(primary.get());
        git_reference* raw = nullptr;
        if (git_reference_lookup(&raw, primary.get(), "HEAD") != 0)
            return listing;
        git::Reference head(raw);
        const char* branch = git_reference_symbolic_target(head.get());
        git_reference* target = nullptr;
        if (!branch || git_reference_lookup(&target, primary.get(), branch) != 0)
            return listing;  // unborn, as the primary advertises no HEAD then
        git_reference_free(target);
        listing.default_branch = branch;
        return listing;
    }
    return list_by_libgit2(url, transport, max_refs);
}

class GitProgramFetcher : public Fetcher {
public:
    GitProgramFetcher(const std::filesystem::path& git, GitSetup setup, const std::string& url,
                      const TransportSettings& transport, long long max_refs)
        : m_git(git), m_setup(std::move(setup)), m_url(url), m_transport(transport), m_max_refs(max_refs) {}

    // git clone writes a fresh copy's refs straight into packed-refs and sets HEAD itself; the
    // remote it records goes, as geo-ssf always names the primary's URL itself.
    void clone(const std::filesystem::path& gitdir, const std::optional<std::filesystem::path>& pool) override {
        list_primary_within_max_refs(m_url, m_setup, m_transport, m_max_refs);
        spdlog::debug("{}: git clone --mirror from {}", gitdir.string(), redact_url_credentials(m_url));
        std::vector<std::string> args = {"clone", "--mirror", "--progress", "--template="};
        if (pool)  // the pool's refs are the haves, and its objects/info/alternates names the pool
            args.insert(args.end(), {"--reference", pool->string()});
        for (std::string& option : upload_pack_options(m_git, m_url))
            args.push_back(std::move(option));
        args.insert(args.end(), {git_url(m_url), gitdir.string()});
        run_git(m_git, args, m_transport, what(), m_setup);
        run_git(m_git, {"--git-dir=" + gitdir.string(), "config", "--remove-section", "remote.origin"}, m_transport,
                what());
    }

    void fetch(git_repository* repository, const std::filesystem::path& gitdir) override {
        PrimaryListing primary = list_primary_within_max_refs(m_url, m_setup, m_transport, m_max_refs);
        // Every ref already as the primary has it: git would transfer nothing and prune nothing.
        if (same_refs(primary.refs, refs_of_repository(repository))) {
            spdlog::debug("{}: every ref is as the primary has it: nothing to fetch", gitdir.string());
            set_head(repository, primary.default_branch);
            return;
        }
        spdlog::debug("{}: git fetch --prune from {}", gitdir.string(), redact_url_credentials(m_url));
        std::vector<std::string> args = {"--git-dir=" + gitdir.string(), "fetch", "--progress", "--prune",
                                         "--no-write-fetch-head"};
        for (std::string& option : upload_pack_options(m_git, m_url))
            args.push_back(std::move(option));
        args.insert(args.end(), {git_url(m_url), k_mirror_refspec});
        run_git(m_git, args, m_transport, what(), m_setup);
        set_head(repository, primary.default_branch);
    }

private:
    std::string what() const { return "cannot fetch from " + redact_url_credentials(m_url); }

    std::filesystem::path m_git;
    GitSetup m_setup;
    std::string m_url;
    const TransportSettings& m_transport;
    long long m_max_refs;
};

}  // namespace

std::unique_ptr<Fetcher> git_program_fetcher(const std::filesystem::path& git, GitSetup setup, const std::string& url,
                                             const TransportSettings& transport, long long max_refs) {
    return std::make_unique<GitProgramFetcher>(git, std::move(setup), url, transport, max_refs);
}

}  // namespace geo_ssf
