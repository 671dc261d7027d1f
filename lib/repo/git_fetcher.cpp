// The git program fetcher: git clone --mirror and git fetch --prune under the time bounds and stop
// requests of a fetch (run_transfer), the primary's refs counted for sync.max_refs as git's own
// session lists them.
#include "common/redact.hpp"
#include "common/shell_quoted.hpp"
#include "common/subprocess.hpp"
#include "common/url.hpp"
#include "repo/fetcher.hpp"
#include "repo/git.hpp"
#include "repo/git_program.hpp"
#include "repo/ref_listing.hpp"
#include "repo/remote_session.hpp"

#include <spdlog/spdlog.h>

#include <filesystem>
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
// counts all the same. A later "!refs" entry exposes them again. The command runs in a shell; its
// packet trace, which nothing reads, is off.
std::vector<std::string> upload_pack_options(const std::filesystem::path& git, const std::string& url) {
    if (!local_path_of(url))
        return {};  // a server applies its own configuration; verify says when refs are hidden
    return {"--upload-pack=GIT_TRACE_PACKET=0 " + shell_quoted(git.string()) +
            " -c 'uploadpack.hideRefs=!refs' upload-pack"};
}

// Connects to the network primary at URL through a libgit2 session (remote_session.hpp) and lists
// its refs, for the reason of a refusal: throws GitError when either fails.
void list_by_libgit2(const std::string& url, const TransportSettings& transport, long long max_refs) {
    git::Remote remote = remote_for(url);
    RemoteSession session(transport, url);
    connect_within_max_refs(remote.get(), url, session, max_refs);
}

// Runs GIT with ARGS, a clone or fetch from the primary at URL, giving LISTING git's packet trace
// (ref_listing.hpp) as it arrives: git is stopped once the primary lists more refs than
// sync.max_refs allows (geo-ssf-sync(1), Refs, says how soon).
void run_git_listing(const std::filesystem::path& git, const std::vector<std::string>& args, const GitSetup& setup,
                     const std::string& url, const TransportSettings& transport, RefListingReader& listing,
                     std::string_view what) {
    GitSetup traced = setup;
    for (std::string& variable : packet_trace_environment())
        traced.environment.push_back(std::move(variable));
    ProcessSpec spec = git_transfer_spec(git, args, traced);
    spec.out = ProcessOutput::capture();
    spec.out_fd = k_packet_trace_fd;
    try {
        run_transfer(spec, transport, what, [&](std::string_view arrived) { listing.read(arrived); });
    } catch (const TooManyRefsError&) {
        throw;
    } catch (const GitProgramInterrupted&) {
        throw;
    } catch (const GitError&) {
        // Git says little of a connection refused before the listing ("Host key verification
        // failed.", "Authentication failed"): a libgit2 session says which host key was offered,
        // which certificate or credentials were refused. When it gets through, git's reason stands.
        if (!listing.ended() && !local_path_of(url))
            list_by_libgit2(url, transport, listing.max_refs());
        throw;
    }
    if (!listing.ended())
        throw GitError(std::string(what) +
                       ": git's trace showed no listing of the primary, so sync.max_refs could not be checked");
}

class GitProgramFetcher : public Fetcher {
public:
    GitProgramFetcher(const std::filesystem::path& git, GitSetup setup, const std::string& url,
                      const TransportSettings& transport, long long max_refs)
        : m_git(git), m_setup(std::move(setup)), m_url(url), m_transport(transport), m_max_refs(max_refs) {}

    // git clone writes a fresh copy's refs straight into packed-refs and sets HEAD itself; the
    // remote it records goes, as geo-ssf always names the primary's URL itself.
    void clone(const std::filesystem::path& gitdir, const std::optional<std::filesystem::path>& pool) override {
        spdlog::debug("{}: git clone --mirror from {}", gitdir.string(), redact_url_credentials(m_url));
        std::vector<std::string> args = {"clone", "--mirror", "--progress", "--template="};
        if (pool)  // the pool's refs are the haves, and its objects/info/alternates names the pool
            args.insert(args.end(), {"--reference", pool->string()});
        for (std::string& option : upload_pack_options(m_git, m_url))
            args.push_back(std::move(option));
        args.insert(args.end(), {git_url(m_url), gitdir.string()});
        RefListingReader listing(m_max_refs);  // git clone sets HEAD itself
        run_git_listing(m_git, args, m_setup, m_url, m_transport, listing, what());
        run_git(m_git, {"--git-dir=" + gitdir.string(), "config", "--remove-section", "remote.origin"}, m_transport,
                what());
    }

    void fetch(git_repository* repository, const std::filesystem::path& gitdir) override {
        spdlog::debug("{}: git fetch --prune from {}", gitdir.string(), redact_url_credentials(m_url));
        std::vector<std::string> args = {"--git-dir=" + gitdir.string(), "fetch", "--progress", "--prune",
                                         "--no-write-fetch-head"};
        for (std::string& option : upload_pack_options(m_git, m_url))
            args.push_back(std::move(option));
        args.insert(args.end(), {git_url(m_url), k_mirror_refspec});
        // HEAD too, so that the listing names its branch: protocol v2 lists HEAD only when it is
        // fetched. A primary whose HEAD names no branch that exists lists no HEAD, and git refuses
        // to fetch one: then the fetch is made without it, and the copy's HEAD stays.
        std::vector<std::string> with_head = args;
        with_head.push_back("HEAD");
        RefListingReader listing(m_max_refs);
        try {
            run_git_listing(m_git, with_head, m_setup, m_url, m_transport, listing, what());
        } catch (const GitError& e) {  // a refused max_refs or a stop never says that git found no HEAD
            if (!listing.ended() || listing.lists_head() ||
                std::string_view(e.what()).find("couldn't find remote ref HEAD") == std::string_view::npos)
                throw;
            RefListingReader again(m_max_refs);
            run_git_listing(m_git, args, m_setup, m_url, m_transport, again, what());
            return;
        }
        set_head(repository, listing.default_branch());
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
