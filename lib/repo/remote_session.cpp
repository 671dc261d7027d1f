#include "repo/remote_session.hpp"

#include "common/digest.hpp"
#include "common/error.hpp"
#include "common/redact.hpp"
#include "common/url.hpp"
#include "repo/credentials.hpp"
#include "repo/git.hpp"
#include "repo/known_hosts.hpp"
#include "repo/socket_stream.hpp"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>

namespace geo_ssf {

namespace {

// storage.ca_file replaces the CA store for TLS (libgit2 keeps one for the process).
void use_ca_file(const std::filesystem::path& ca_file) {
    static std::mutex mutex;
    static std::string loaded;
    if (ca_file.empty())
        return;
    std::lock_guard lock(mutex);
    if (loaded == ca_file.string())
        return;
    git::check(git_libgit2_opts(GIT_OPT_SET_SSL_CERT_LOCATIONS, ca_file.c_str(), nullptr),
               "cannot load storage.ca_file " + ca_file.string());
    loaded = ca_file.string();
}

std::string file_text(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

}  // namespace

struct RemoteSession::State {
    const TransportSettings& settings;
    std::string url;
    Url parts;  // empty when URL does not parse: libgit2 refuses it then
    Watch watch;
    std::string failure;  // the session's reason for the last failure
    enum class Failed { nothing, identity, authentication } failed = Failed::nothing;
    std::string identity;
    std::string authentication;
    int credential_requests = 0;

    State(const TransportSettings& s, std::string u)
        : settings(s), url(std::move(u)), parts(parse_url(url).value_or(Url{})) {}

    int check_offered_key(const git_cert_hostkey* cert) {
        std::string host = known_hosts_name(parts.host, parts.port);
        std::filesystem::path file = settings.ssh_known_hosts.empty() ? default_known_hosts() : settings.ssh_known_hosts;
        std::optional<std::string> offered;
        if (cert->type & GIT_CERT_SSH_RAW)
            offered = std::string(cert->hostkey, cert->hostkey_len);
        std::string offered_sha256 = offered ? sha256(*offered)
                                     : (cert->type & GIT_CERT_SSH_SHA256)
                                         ? std::string(reinterpret_cast<const char*>(cert->hash_sha256), 32)
                                         : std::string();
        if (offered_sha256.empty()) {
            failed = Failed::identity;
            failure = "cannot check the host key of " + host + ": libgit2 gave neither the key nor its SHA-256 hash";
            return -1;
        }
        std::string type = offered ? ssh_key_type(*offered) : "ssh key";
        std::string fingerprint = sha256_fingerprint(offered_sha256);
        HostKeyCheck check = check_host_key(file_text(file), host, type, offered_sha256);
        switch (check.verdict) {
        case HostKeyVerdict::matched:
            identity = "host key " + type + " " + fingerprint + " of " + host + " is in " + file.string();
            return 0;
        case HostKeyVerdict::revoked:
            failure = "the host key of " + host + " (" + type + " " + fingerprint + ") is marked @revoked in " +
                      file.string();
            break;
        case HostKeyVerdict::changed:
            failure = "HOST KEY CHANGED for " + host + ": it offers " + type + " " + fingerprint + ", but " +
                      file.string() + " has another " + type + " key for it; someone may be impersonating the primary";
            break;
        case HostKeyVerdict::unknown:
            failure = "unknown host key for " + host + ": " + type + " " + fingerprint + " is not in " + file.string() +
                      (check.other_types_known ? " (it has keys of other types for this host)" : "") +
                      "; check the fingerprint, then add the key (ssh-keyscan" +
                      (parts.port.empty() ? "" : " -p " + parts.port) + " " + parts.host + ")";
            break;
        }
        failed = Failed::identity;
        return -1;
    }

    int check_certificate(git_cert* cert, int valid, const char* host) {
        if (cert->cert_type == GIT_CERT_HOSTKEY_LIBSSH2)
            return check_offered_key(reinterpret_cast<git_cert_hostkey*>(cert));
        if (valid) {
            identity = std::string("TLS certificate of ") + host + " verified against " +
                       (settings.ca_file.empty() ? std::string("the system's CA store") : settings.ca_file.string());
            return 0;
        }
        failed = Failed::identity;
        failure = std::string("the TLS certificate of ") + host + " is not valid (not signed by a trusted CA, or for another name): " +
                  (settings.ca_file.empty() ? "it is checked against the system's CA store; set storage.ca_file to the CA that signed it"
                                            : "it is checked against storage.ca_file " + settings.ca_file.string());
        return -1;
    }

    std::string user_name(const char* from_url) const { return user_or_git(from_url ? from_url : ""); }

    int credentials(git_credential** out, const char* user_from_url, unsigned int allowed) {
        if (allowed & GIT_CREDENTIAL_USERNAME)
            return git_credential_username_new(out, user_name(user_from_url).c_str());
        failed = Failed::authentication;  // cleared below when credentials are handed over
        if (++credential_requests > 1) {
            failure = "authentication to " + parts.host + " failed with " + authentication;
            return -1;
        }
        if (allowed & GIT_CREDENTIAL_SSH_KEY) {
            std::string user = user_name(user_from_url);
            if (!settings.ssh_key.empty()) {
                authentication = "storage.ssh_key " + settings.ssh_key.string() + " as " + user;
                std::string passphrase;
                if (!settings.ssh_key_passphrase_file.empty()) {
                    auto read = read_secret(settings.ssh_key_passphrase_file, "storage.ssh_key_passphrase_file", failure);
                    if (!read)
                        return -1;
                    passphrase = *read;
                }
                failed = Failed::nothing;
                int rc = git_credential_ssh_key_new(out, user.c_str(), nullptr, settings.ssh_key.c_str(),
                                                    passphrase.empty() ? nullptr : passphrase.c_str());
                std::fill(passphrase.begin(), passphrase.end(), '\0');
                return rc;
            }
            const char* agent = std::getenv("SSH_AUTH_SOCK");
            if (!agent || !*agent) {
                failure = "the primary asks for an ssh key: set storage.ssh_key, or run an ssh-agent (SSH_AUTH_SOCK is not set)";
                return -1;
            }
            authentication = "the keys of the ssh-agent as " + user;
            failed = Failed::nothing;
            return git_credential_ssh_key_from_agent(out, user.c_str());
        }
        if (allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT) {
            auto given = password_for(settings, user_from_url ? user_from_url : "", failure);
            if (!given)
                return -1;
            authentication = given->authentication;
            failed = Failed::nothing;
            int rc = git_credential_userpass_plaintext_new(out, given->user.c_str(), given->password.c_str());
            std::fill(given->password.begin(), given->password.end(), '\0');
            return rc;
        }
        failed = Failed::nothing;
        return GIT_PASSTHROUGH;
    }
};

namespace {

using State = RemoteSession::State;

int certificate_check(git_cert* cert, int valid, const char* host, void* payload) {
    return static_cast<State*>(payload)->check_certificate(cert, valid, host);
}

int credentials(git_credential** out, const char*, const char* user_from_url, unsigned int allowed, void* payload) {
    return static_cast<State*>(payload)->credentials(out, user_from_url, allowed);
}

int transfer_progress(const git_indexer_progress*, void* payload) {
    auto* state = static_cast<State*>(payload);
    if (state->watch.out_of_time)
        return -1;
    state->watch.touch();
    return 0;
}

int sideband_progress(const char*, int, void* payload) { return transfer_progress(nullptr, payload); }

}  // namespace

RemoteSession::RemoteSession(const TransportSettings& settings, const std::string& url)
    : m_state(std::make_unique<State>(settings, url)) {
    install_socket_stream();
    use_ca_file(settings.ca_file);
    if (!local_path_of(url))  // a local fetch has no network to wait for
        m_watch_scope =
            std::make_unique<WatchScope>(m_state->watch, settings.fetch_timeout, settings.fetch_stall_timeout);
}

RemoteSession::~RemoteSession() = default;

git_remote_callbacks RemoteSession::callbacks() {
    git_remote_callbacks callbacks = GIT_REMOTE_CALLBACKS_INIT;
    callbacks.credentials = geo_ssf::credentials;
    callbacks.certificate_check = certificate_check;
    callbacks.transfer_progress = transfer_progress;
    callbacks.sideband_progress = sideband_progress;
    callbacks.payload = m_state.get();
    return callbacks;
}

git_proxy_options RemoteSession::proxy_options() const {
    git_proxy_options proxy = GIT_PROXY_OPTIONS_INIT;
    proxy.type = GIT_PROXY_AUTO;  // the http(s)_proxy variables and git config, as git
    proxy.certificate_check = certificate_check;
    proxy.payload = m_state.get();
    return proxy;
}

int RemoteSession::check(int rc, std::string_view what) {
    if (rc >= 0)
        return rc;
    std::string reason = Watchdog::instance().reason(&m_state->watch);
    if (reason.empty())
        reason = m_state->failure;
    if (reason.empty())
        reason = git::last_error_message();
    m_state->failure.clear();
    throw GitError(std::string(what) + ": " + reason);
}

const std::string& RemoteSession::identity() const { return m_state->identity; }
const std::string& RemoteSession::authentication() const { return m_state->authentication; }
bool RemoteSession::identity_failed() const { return m_state->failed == State::Failed::identity; }
bool RemoteSession::authentication_failed() const { return m_state->failed == State::Failed::authentication; }

std::vector<std::pair<std::string, std::string>> RemoteSession::advertised_refs(git_remote* remote,
                                                                                const std::string& url) {
    git_remote_callbacks callbacks = this->callbacks();
    git_proxy_options proxy = proxy_options();
    check(git_remote_connect(remote, GIT_DIRECTION_FETCH, &callbacks, &proxy, nullptr),
          "cannot connect to " + redact_url_credentials(url));
    const git_remote_head** heads = nullptr;
    size_t count = 0;
    check(git_remote_ls(&heads, &count, remote), "cannot list the refs of " + redact_url_credentials(url));
    std::vector<std::pair<std::string, std::string>> refs;
    refs.reserve(count);
    for (size_t i = 0; i < count; ++i)
        refs.emplace_back(heads[i]->name, git::oid_hex(heads[i]->oid));
    return refs;
}

git::Remote remote_for(const std::string& url, git_repository* repository) {
    std::string what = "cannot use " + redact_url_credentials(url);
    if (repository)
        return git::make<git::Remote>(git_remote_create_anonymous, what, repository, url.c_str());
    return git::make<git::Remote>(git_remote_create_detached, what, url.c_str());
}

RemoteProbe probe_remote(const std::string& url, const TransportSettings& settings) {
    RemoteProbe probe;
    RemoteSession session(settings, url);
    try {
        git::Remote remote = remote_for(url);
        size_t count = session.advertised_refs(remote.get(), url).size();
        probe.reachable = true;
        probe.detail = redact_url_credentials(url) + ": " + std::to_string(count) + " refs";
    } catch (const GitError& e) {
        probe.detail = e.what();
    }
    probe.identity_ok = !session.identity_failed();
    probe.identity = !probe.identity_ok ? probe.detail
                     : !session.identity().empty() ? session.identity()
                     : probe.reachable ? "no host key or certificate to check for " + redact_url_credentials(url)
                                       : "not checked: the primary was not reached";
    probe.authentication_ok = !session.authentication_failed();
    probe.authentication = !probe.authentication_ok ? probe.detail
                           : !session.authentication().empty() ? "accepted: " + session.authentication()
                           : probe.reachable ? "none asked"
                                             : "not checked: the primary was not reached";
    return probe;
}

}  // namespace geo_ssf
