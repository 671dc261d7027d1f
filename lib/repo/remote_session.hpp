// One operation against the primary's repository through libgit2 (a fetch, a listing of its
// refs), on the calling thread: the callbacks that check its identity (the host key against
// known_hosts, never trusted on first use; the TLS certificate against the system store or
// storage.ca_file) and hand over credentials (a key file, the ssh-agent, a password), the proxy
// settings, and the time bounds of watchdog.hpp. Its failures say why, in terms an admin can act on.
#pragma once

#include "repo/git.hpp"
#include "repo/watchdog.hpp"
#include "site/transport_settings.hpp"

#include <git2.h>

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace geo_ssf {

// Network timeouts apply from construction to destruction, for a network URL.
class RemoteSession {
public:
    RemoteSession(const TransportSettings& settings, const std::string& url);
    ~RemoteSession();
    RemoteSession(const RemoteSession&) = delete;
    RemoteSession& operator=(const RemoteSession&) = delete;

    git_remote_callbacks callbacks();
    git_proxy_options proxy_options() const;

    // Returns RC when it is not negative; otherwise throws GitError "<what>: <reason>", where the
    // reason is the session's own when it has one (host key, certificate, credentials, timeout).
    int check(int rc, std::string_view what);

    // What the server's identity check found ("host key ssh-ed25519 SHA256:... is known",
    // "TLS certificate verified"); empty before any check or for a local URL.
    const std::string& identity() const;
    // How the session authenticated ("storage.ssh_key /path"); empty when it was not asked to.
    const std::string& authentication() const;
    // Whether the last failure was the server's identity, or the credentials.
    bool identity_failed() const;
    bool authentication_failed() const;

    // Connects REMOTE (at URL) for a fetch and lists the refs it advertises, as git ls-remote
    // does: (name, object id in hex), HEAD and peeled tags ("^{}") included.
    std::vector<std::pair<std::string, std::string>> advertised_refs(git_remote* remote, const std::string& url);

    struct State;

private:
    std::unique_ptr<State> m_state;
    std::unique_ptr<WatchScope> m_watch_scope;
};

// A libgit2 remote for URL: an anonymous one of REPOSITORY (nothing written to its config), or
// a detached one when REPOSITORY is null. A GitError naming the URL, redacted, when it cannot be.
git::Remote remote_for(const std::string& url, git_repository* repository = nullptr);

// What connecting to URL as `git ls-remote` does found, for `check`.
struct RemoteProbe {
    bool reachable = false;
    std::string detail;          // "N refs" or the reason it failed
    bool identity_ok = true;     // the host key or TLS certificate was accepted (or none is used)
    std::string identity;        // what the check found, or why it failed
    bool authentication_ok = true;
    std::string authentication;  // how it authenticated, or why it failed
};
RemoteProbe probe_remote(const std::string& url, const TransportSettings& settings);

}  // namespace geo_ssf
