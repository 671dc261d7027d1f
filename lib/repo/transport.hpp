// Network access to the primary's repositories: ssh keys (a key file or the ssh-agent) and host
// keys checked against known_hosts, never trusted on first use; HTTPS with TLS verified against
// the system store or storage.ca_file and basic-auth credentials that are never printed; and
// time bounds, so a primary that hangs cannot hold a run. libgit2 1.5 has no network timeouts:
// geo-ssf gives it its own TCP stream, whose connects and reads are bounded, and a watchdog
// that shuts the sockets of an operation that ran out of time.
#pragma once

#include "repo/git_program.hpp"
#include "site/transport_settings.hpp"

#include <git2.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace geo_ssf {


struct RemoteProbe;

// One operation (a fetch, a connect) against URL, on the calling thread: the callbacks and
// proxy settings to hand to libgit2, and the reasons of its failures. Network timeouts apply
// from construction to destruction.
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

    // Connects REMOTE (at URL) for a fetch and lists the refs it advertises, as git ls-remote
    // does: (name, object id in hex), HEAD and peeled tags ("^{}") included.
    std::vector<std::pair<std::string, std::string>> advertised_refs(git_remote* remote, const std::string& url);

    struct State;

private:
    friend RemoteProbe probe_remote(const std::string& url, const TransportSettings& settings);
    std::unique_ptr<State> m_state;
};

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

// How the git program reaches the network URL under the same rules as the sessions above: for
// ssh://, an ssh command that reads no ssh
// configuration, never prompts, accepts only a host key in the same known_hosts file and offers
// storage.ssh_key (else the ssh-agent's keys); for http(s)://, storage.ca_file in place of the
// system's CA store and the user and password of storage.credentials_file (or
// GEO_SSF_PRIMARY_PASSWORD), which a credential helper hands over from the environment. nullopt
// when git cannot follow those rules (a key with a passphrase, which ssh would ask for) or URL
// uses another scheme; a missing or unreadable secret is left for the session, which says why.
std::optional<GitSetup> git_transport(const std::string& url, const TransportSettings& settings);

// The SHA-256 fingerprint of a raw ssh public key blob, as OpenSSH prints it ("SHA256:...").
std::string ssh_fingerprint(std::string_view key_blob);

// Whether known_hosts line LINE names HOST ("name" or "[name]:port"), including hashed entries.
bool known_hosts_line_matches(std::string_view line, const std::string& host);

}  // namespace geo_ssf
