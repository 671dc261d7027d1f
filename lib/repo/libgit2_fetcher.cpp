// The libgit2 fetcher: in-process, through a RemoteSession (host keys, certificates,
// credentials, time bounds). A fresh copy's refs are written straight to packed-refs.
#include "common/redact.hpp"
#include "repo/fetcher.hpp"
#include "repo/pools.hpp"
#include "repo/git.hpp"
#include "repo/packed_refs.hpp"
#include "repo/remote_session.hpp"

#include <map>
#include <string_view>

namespace geo_ssf {

namespace {

git_strarray mirror_refspecs() {
    static char* refspecs[] = {const_cast<char*>(k_mirror_refspec)};  // libgit2 only reads it
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

// Every ref REMOTE (connected) advertises, by name, with the peeled id of an annotated tag.
std::map<std::string, AdvertisedRef> advertised_refs(git_remote* remote, const std::string& url,
                                                     RemoteSession& session) {
    const git_remote_head** heads = nullptr;
    size_t listed = 0;
    session.check(git_remote_ls(&heads, &listed, remote), "cannot list the refs of " + redact_url_credentials(url));
    std::map<std::string, AdvertisedRef> refs;
    for (size_t i = 0; i < listed; ++i) {
        std::string_view name = heads[i]->name;
        if (!name.starts_with("refs/"))
            continue;  // HEAD
        bool peeled = name.ends_with("^{}");
        std::string ref(peeled ? name.substr(0, name.size() - 3) : name);
        int valid = 0;
        if (git_reference_name_is_valid(&valid, ref.c_str()) != 0 || !valid)
            continue;  // a name the download skipped too: its objects are not here
        (peeled ? refs[ref].peeled : refs[ref].oid) = git::oid_hex(heads[i]->oid);
    }
    return refs;
}

class Libgit2Fetcher : public Fetcher {
public:
    Libgit2Fetcher(const std::string& url, const TransportSettings& transport, long long max_refs)
        : m_url(url), m_transport(transport), m_max_refs(max_refs) {}

    // Downloads every object, then writes every ref once, in packed-refs, where a fetch would
    // write each as a file of its own and then pack them.
    void clone(const std::filesystem::path& gitdir, const std::optional<std::filesystem::path>& pool) override {
        git::Repository repository =
            git::make<git::Repository>(git_repository_init, "cannot create a repository", gitdir.c_str(), 1u);
        // libgit2 negotiates with the copy's own refs only: the pool's objects still travel, and
        // the copy's next housekeeping (git repack -l) drops what the pool has.
        if (pool)
            borrow_pool_objects(gitdir, *pool);
        git::Remote remote = remote_for(m_url, repository.get());
        RemoteSession session(m_transport, m_url);
        connect_within_max_refs(remote.get(), m_url, session, m_max_refs);
        git_fetch_options options = mirror_fetch_options(session);
        git_strarray specs = mirror_refspecs();
        session.check(git_remote_download(remote.get(), &specs, &options),
                      "cannot fetch from " + redact_url_credentials(m_url));
        write_packed_refs(gitdir, packed_refs_text(advertised_refs(remote.get(), m_url, session)));
        set_head(repository.get(), default_branch(remote.get()));
    }

    void fetch(git_repository* repository, const std::filesystem::path&) override {
        git::Remote remote = remote_for(m_url, repository);
        RemoteSession session(m_transport, m_url);
        connect_within_max_refs(remote.get(), m_url, session, m_max_refs);
        git_fetch_options options = mirror_fetch_options(session);
        git_strarray specs = mirror_refspecs();
        session.check(git_remote_fetch(remote.get(), &specs, &options, nullptr),
                      "cannot fetch from " + redact_url_credentials(m_url));
        set_head(repository, default_branch(remote.get()));
    }

private:
    std::string m_url;
    const TransportSettings& m_transport;
    long long m_max_refs;
};

}  // namespace

std::unique_ptr<Fetcher> libgit2_fetcher(const std::string& url, const TransportSettings& transport,
                                         long long max_refs) {
    return std::make_unique<Libgit2Fetcher>(url, transport, max_refs);
}

}  // namespace geo_ssf
