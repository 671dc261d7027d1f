#include "repo/fetcher.hpp"

#include "common/redact.hpp"
#include "common/url.hpp"
#include "repo/git_transport.hpp"
#include "repo/primary_owner.hpp"
#include "repo/ref_listing.hpp"

#include <utility>

namespace geo_ssf {

namespace {

// The refs a remote's listing counts (is_advertised_ref).
size_t count_advertised_refs(git_remote* remote, const std::string& url, RemoteSession& session) {
    const git_remote_head** heads = nullptr;
    size_t listed = 0;
    session.check(git_remote_ls(&heads, &listed, remote), "cannot list the refs of " + redact_url_credentials(url));
    size_t refs = 0;
    for (size_t i = 0; i < listed; ++i)
        refs += is_advertised_ref(heads[i]->name);
    return refs;
}

}  // namespace

void check_max_refs(size_t refs, long long max_refs) {
    if (refs > static_cast<unsigned long long>(max_refs))
        throw TooManyRefsError("the primary advertises " + std::to_string(refs) + " refs, more than sync.max_refs (" +
                               std::to_string(max_refs) + "); nothing was fetched");
}

void connect_within_max_refs(git_remote* remote, const std::string& url, RemoteSession& session, long long max_refs) {
    git_remote_callbacks callbacks = session.callbacks();
    git_proxy_options proxy = session.proxy_options();
    session.check(git_remote_connect(remote, GIT_DIRECTION_FETCH, &callbacks, &proxy, nullptr),
                  "cannot connect to " + redact_url_credentials(url));
    check_max_refs(count_advertised_refs(remote, url, session), max_refs);
}

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

std::unique_ptr<Fetcher> fetcher_for(const std::string& url, const TransportSettings& transport, long long max_refs) {
    if (auto git = git_program()) {
        if (local_path_of(url))
            return git_program_fetcher(*git, trusted_owner_setup(transport), url, transport, max_refs);
        if (url.starts_with("git://"))
            return git_program_fetcher(*git, {}, url, transport, max_refs);
        if (auto setup = git_transport(url, transport))
            return git_program_fetcher(*git, std::move(*setup), url, transport, max_refs);
    }
    return libgit2_fetcher(url, transport, max_refs);
}

}  // namespace geo_ssf
