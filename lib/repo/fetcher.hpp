// The two ways a copy of the primary's repository is made or brought up to date, behind one
// interface: libgit2, and the git program, which transfers far faster (git_program.hpp) where
// it is installed and may follow geo-ssf's rules. fetcher_for chooses. Both refuse a primary
// that advertises more refs than sync.max_refs before anything is written.
#pragma once

#include "repo/git.hpp"
#include "repo/git_program.hpp"
#include "repo/remote_session.hpp"
#include "site/transport_settings.hpp"

#include <git2.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

namespace geo_ssf {

// The primary advertises more refs than sync.max_refs allows.
class TooManyRefsError : public GitError {
public:
    using GitError::GitError;
};

// The primary's repository is one that no copy could match or that nothing may read
// (mirror.hpp says which): a fresh clone would be refused the same way.
class UncopyablePrimaryError : public GitError {
public:
    using GitError::GitError;
};

// Every ref, forced, as a mirror takes them.
inline constexpr char k_mirror_refspec[] = "+refs/*:refs/*";

class Fetcher {
public:
    virtual ~Fetcher() = default;
    // Makes a new copy at GITDIR (absent): every object and ref, HEAD on the primary's default
    // branch, every ref in packed-refs. With POOL, the copy borrows the pool copy's objects
    // (pools.hpp), and those the pool has do not travel.
    virtual void clone(const std::filesystem::path& gitdir, const std::optional<std::filesystem::path>& pool) = 0;
    // Fetches every ref into REPOSITORY (at GITDIR), deleting the refs the primary no longer
    // has, and points HEAD at the primary's default branch.
    virtual void fetch(git_repository* repository, const std::filesystem::path& gitdir) = 0;
};

// libgit2, in-process, under the rules of remote_session.hpp.
std::unique_ptr<Fetcher> libgit2_fetcher(const std::string& url, const TransportSettings& transport,
                                         long long max_refs);

// The git program GIT with SETUP (git_transport.hpp). The primary's refs are counted for
// sync.max_refs as git's own session lists them (ref_listing.hpp), so no connection is made for
// the listing alone. When git fails to reach a network primary, a libgit2 session says why (which
// host key or certificate, which credentials), so that a refusal reads the same either way.
std::unique_ptr<Fetcher> git_program_fetcher(const std::filesystem::path& git, GitSetup setup, const std::string& url,
                                             const TransportSettings& transport, long long max_refs);

// The fetcher for URL: the git program when it is installed, for a local or git:// primary, and
// for ssh:// and http(s):// when git_transport allows (libgit2's negotiation finds too few
// common commits in a repository of thousands of refs, and its indexer resolves deltas on one
// thread); libgit2 otherwise.
std::unique_ptr<Fetcher> fetcher_for(const std::string& url, const TransportSettings& transport, long long max_refs);

// A TooManyRefsError when REFS is more than MAX_REFS.
void check_max_refs(size_t refs, long long max_refs);

// Connects REMOTE (at URL) for a fetch. The refs the primary advertises are counted first, on
// the same connection: more than MAX_REFS fails before anything is written.
void connect_within_max_refs(git_remote* remote, const std::string& url, RemoteSession& session, long long max_refs);

// The default branch of REMOTE (connected), when it advertises one.
std::optional<std::string> default_branch(git_remote* remote);

// Points HEAD of REPOSITORY at BRANCH, when there is one.
void set_head(git_repository* repository, const std::optional<std::string>& branch);

}  // namespace geo_ssf
