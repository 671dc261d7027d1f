#include "repo/transport.hpp"

#include "common/base64.hpp"
#include "common/digest.hpp"
#include "common/error.hpp"
#include "common/redact.hpp"
#include "common/shell_quoted.hpp"
#include "common/url.hpp"
#include "repo/git.hpp"

#include <git2/sys/stream.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

namespace geo_ssf {

// Named, not anonymous: RemoteSession::State derives from SessionState.
namespace transport_internal {

using Clock = std::chrono::steady_clock;

std::string seconds_text(std::chrono::seconds s) { return std::to_string(s.count()) + "s"; }

// ---------------------------------------------------------------------------------------------
// Time bounds: one Watch per session, checked by one watchdog thread.

struct Watch {
    Clock::time_point deadline;
    std::chrono::seconds stall;
    std::chrono::seconds total;
    std::atomic<Clock::rep> last_activity{0};
    std::vector<int> sockets;   // guarded by the watchdog's mutex
    std::string expired;        // guarded by the watchdog's mutex; the reason once out of time
    std::atomic<bool> out_of_time{false};

    void touch() { last_activity = Clock::now().time_since_epoch().count(); }
    Clock::time_point last() const { return Clock::time_point(Clock::duration(last_activity.load())); }
};

class Watchdog {
public:
    static Watchdog& instance() {
        static Watchdog* watchdog = new Watchdog;  // never destroyed: its thread outlives main
        return *watchdog;
    }

    void add(Watch* watch) {
        std::lock_guard lock(m_mutex);
        m_watches.insert(watch);
        if (!m_started) {
            m_started = true;
            std::thread([this] { loop(); }).detach();
        }
    }
    void remove(Watch* watch) {
        std::lock_guard lock(m_mutex);
        m_watches.erase(watch);
    }
    void add_socket(Watch* watch, int fd) {
        std::lock_guard lock(m_mutex);
        watch->sockets.push_back(fd);
        if (watch->out_of_time)
            shutdown(fd, SHUT_RDWR);
    }
    void remove_socket(Watch* watch, int fd) {
        std::lock_guard lock(m_mutex);
        std::erase(watch->sockets, fd);
    }
    // Marks WATCH out of time for REASON (the first reason wins) and shuts its sockets.
    void expire(Watch* watch, const std::string& reason) {
        std::lock_guard lock(m_mutex);
        expire_locked(watch, reason);
    }
    std::string reason(Watch* watch) {
        std::lock_guard lock(m_mutex);
        return watch->expired;
    }

private:
    void expire_locked(Watch* watch, const std::string& reason) {
        if (!watch->out_of_time) {
            watch->expired = reason;
            watch->out_of_time = true;
        }
        for (int fd : watch->sockets)
            shutdown(fd, SHUT_RDWR);
    }

    // How long since a socket of WATCH last received data, as the kernel tells it.
    static std::chrono::milliseconds socket_idle(int fd) {
        tcp_info info{};
        socklen_t size = sizeof info;
        if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &size) != 0)
            return std::chrono::milliseconds::max();
        return std::chrono::milliseconds(info.tcpi_last_data_recv);
    }

    void loop() {
        std::unique_lock lock(m_mutex);
        while (true) {
            m_wake.wait_for(lock, std::chrono::milliseconds(200));
            auto now = Clock::now();
            for (Watch* watch : m_watches) {
                if (watch->out_of_time)
                    continue;
                if (now >= watch->deadline) {
                    expire_locked(watch, "the fetch took longer than storage.fetch_timeout (" + seconds_text(watch->total) + ")");
                    continue;
                }
                auto idle = std::chrono::duration_cast<std::chrono::milliseconds>(now - watch->last());
                for (int fd : watch->sockets)
                    idle = std::min(idle, socket_idle(fd));
                if (idle >= watch->stall)
                    expire_locked(watch, "no data from the primary for " + seconds_text(watch->stall) +
                                             " (storage.fetch_stall_timeout)");
            }
        }
    }

    std::mutex m_mutex;
    std::condition_variable m_wake;
    std::set<Watch*> m_watches;
    bool m_started = false;
};

thread_local Watch* t_watch = nullptr;

// Milliseconds a blocking step of the current operation may wait: -1 (forever) outside a session.
int wait_budget_ms() {
    if (!t_watch)
        return -1;
    auto now = Clock::now();
    auto left = std::min(t_watch->deadline - now, Clock::duration(t_watch->stall));
    return static_cast<int>(std::max<long long>(1, std::chrono::duration_cast<std::chrono::milliseconds>(left).count()));
}

// ---------------------------------------------------------------------------------------------
// The TCP stream libgit2 uses for https:// (under TLS) and ssh:// (libssh2 uses its socket).

// The layout of libgit2 1.5's own socket stream: its ssh transport hands the `s` member of the
// stream to libssh2, so a replacement must keep these four members first, in this order.
struct SocketStream {
    git_stream parent;
    char* host;
    char* port;
    int s;
};

int stream_error(const std::string& message) {
    git_error_set_str(GIT_ERROR_NET, message.c_str());
    return -1;
}

// Waits until FD is ready for EVENTS within the current budget; -1 with libgit2's error set when not.
int wait_for(int fd, short events, const char* doing) {
    while (true) {
        pollfd p{fd, events, 0};
        int rc = poll(&p, 1, wait_budget_ms());
        if (rc > 0)
            return 0;
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc < 0)
            return stream_error(std::string("poll failed: ") + std::strerror(errno));
        std::string reason = t_watch && Clock::now() >= t_watch->deadline
                                 ? "the fetch took longer than storage.fetch_timeout (" + seconds_text(t_watch->total) + ")"
                                 : "no data from the primary for " + seconds_text(t_watch->stall) +
                                       " (storage.fetch_stall_timeout) while " + doing;
        Watchdog::instance().expire(t_watch, reason);
        return stream_error(reason);
    }
}

int stream_connect(git_stream* base) {
    auto* stream = reinterpret_cast<SocketStream*>(base);
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_family = AF_UNSPEC;
    addrinfo* addresses = nullptr;
    if (int rc = getaddrinfo(stream->host, stream->port, &hints, &addresses); rc != 0)
        return stream_error(std::string("cannot resolve ") + stream->host + ": " + gai_strerror(rc));
    std::string failure = "no address";
    for (addrinfo* a = addresses; a; a = a->ai_next) {
        int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
        if (fd < 0) {
            failure = std::strerror(errno);
            continue;
        }
        if (t_watch)
            Watchdog::instance().add_socket(t_watch, fd);
        int rc = connect(fd, a->ai_addr, a->ai_addrlen);
        if (rc != 0 && errno == EINPROGRESS) {
            if (wait_for(fd, POLLOUT, "connecting") == 0) {
                int error = 0;
                socklen_t size = sizeof error;
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size);
                rc = error ? -1 : 0;
                errno = error;
            } else {
                failure = git::last_error_message();
                errno = 0;
            }
        }
        if (rc == 0) {
            fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
            stream->s = fd;
            freeaddrinfo(addresses);
            if (t_watch)
                t_watch->touch();
            return 0;
        }
        if (errno)
            failure = std::strerror(errno);
        if (t_watch)
            Watchdog::instance().remove_socket(t_watch, fd);
        close(fd);
        if (t_watch && t_watch->out_of_time)
            break;
    }
    freeaddrinfo(addresses);
    return stream_error(std::string("cannot connect to ") + stream->host + " port " + stream->port + ": " + failure);
}

ssize_t stream_read(git_stream* base, void* data, size_t size) {
    auto* stream = reinterpret_cast<SocketStream*>(base);
    if (wait_for(stream->s, POLLIN, "reading") < 0)
        return -1;
    ssize_t n;
    do
        n = recv(stream->s, data, size, 0);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return stream_error(std::string("cannot read from ") + stream->host + ": " + std::strerror(errno));
    if (t_watch && n > 0)
        t_watch->touch();
    return n;
}

ssize_t stream_write(git_stream* base, const char* data, size_t size, int) {
    auto* stream = reinterpret_cast<SocketStream*>(base);
    size_t written = 0;
    while (written < size) {
        if (wait_for(stream->s, POLLOUT, "writing") < 0)
            return -1;
        ssize_t n = send(stream->s, data + written, size - written, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return stream_error(std::string("cannot write to ") + stream->host + ": " + std::strerror(errno));
        written += static_cast<size_t>(n);
    }
    return static_cast<ssize_t>(written);
}

int stream_close(git_stream* base) {
    auto* stream = reinterpret_cast<SocketStream*>(base);
    if (stream->s >= 0) {
        if (t_watch)
            Watchdog::instance().remove_socket(t_watch, stream->s);
        close(stream->s);
        stream->s = -1;
    }
    return 0;
}

void stream_free(git_stream* base) {
    auto* stream = reinterpret_cast<SocketStream*>(base);
    stream_close(base);
    std::free(stream->host);
    std::free(stream->port);
    std::free(stream);
}

int stream_new(git_stream** out, const char* host, const char* port) {
    auto* stream = static_cast<SocketStream*>(std::calloc(1, sizeof(SocketStream)));
    if (!stream)
        return -1;
    stream->parent.version = GIT_STREAM_VERSION;
    stream->parent.connect = stream_connect;
    stream->parent.read = stream_read;
    stream->parent.write = stream_write;
    stream->parent.close = stream_close;
    stream->parent.free = stream_free;
    stream->host = strdup(host);
    stream->port = strdup(port);
    stream->s = -1;
    *out = &stream->parent;
    return 0;
}

void install_stream() {
    static std::once_flag once;
    std::call_once(once, [] {
        git_stream_registration registration{};
        registration.version = GIT_STREAM_VERSION;
        registration.init = stream_new;
        git::check(git_stream_register(GIT_STREAM_STANDARD, &registration), "cannot register the network stream");
    });
}

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

// ---------------------------------------------------------------------------------------------
// Host keys.

// The key type named at the start of an ssh key blob ("ssh-ed25519").
std::string key_type_of(std::string_view blob) {
    if (blob.size() < 4)
        return "unknown";
    auto size = (static_cast<unsigned char>(blob[0]) << 24) | (static_cast<unsigned char>(blob[1]) << 16) |
                (static_cast<unsigned char>(blob[2]) << 8) | static_cast<unsigned char>(blob[3]);
    if (static_cast<size_t>(size) > blob.size() - 4)
        return "unknown";
    return std::string(blob.substr(4, static_cast<size_t>(size)));
}

std::vector<std::string_view> fields_of(std::string_view line) {
    std::vector<std::string_view> fields;
    size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && (line[i] == ' ' || line[i] == '\t'))
            ++i;
        size_t start = i;
        while (i < line.size() && line[i] != ' ' && line[i] != '\t')
            ++i;
        if (i > start)
            fields.push_back(line.substr(start, i - start));
    }
    return fields;
}

bool hashed_host_matches(std::string_view entry, const std::string& host) {
    // |1|base64(salt)|base64(HMAC-SHA1(salt, host))
    auto rest = entry.substr(3);
    auto bar = rest.find('|');
    if (bar == std::string_view::npos)
        return false;
    auto salt = base64_decoded(rest.substr(0, bar));
    auto hash = base64_decoded(rest.substr(bar + 1));
    return salt && hash && hmac_sha1(*salt, host) == *hash;
}

// OpenSSH's host patterns: '*' and '?' are wildcards, everything else (brackets too) is literal.
bool wildcard_matches(std::string_view pattern, std::string_view text) {
    if (pattern.empty())
        return text.empty();
    if (pattern[0] == '*')
        return wildcard_matches(pattern.substr(1), text) || (!text.empty() && wildcard_matches(pattern, text.substr(1)));
    return !text.empty() && (pattern[0] == '?' || pattern[0] == text[0]) &&
           wildcard_matches(pattern.substr(1), text.substr(1));
}

bool host_pattern_matches(std::string_view patterns, const std::string& host) {
    if (patterns.rfind("|1|", 0) == 0)
        return hashed_host_matches(patterns, host);
    bool matched = false;
    size_t start = 0;
    while (start <= patterns.size()) {
        size_t comma = patterns.find(',', start);
        std::string pattern(patterns.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
        bool negated = !pattern.empty() && pattern[0] == '!';
        if (negated)
            pattern.erase(0, 1);
        if (!pattern.empty() && wildcard_matches(pattern, host)) {
            if (negated)
                return false;
            matched = true;
        }
        if (comma == std::string_view::npos)
            break;
        start = comma + 1;
    }
    return matched;
}

std::filesystem::path default_known_hosts() {
    const char* home = std::getenv("HOME");
    if (!home || !*home) {
        if (passwd* pw = getpwuid(getuid()))
            home = pw->pw_dir;
    }
    return std::filesystem::path(home ? home : "/") / ".ssh" / "known_hosts";
}

}  // namespace transport_internal


bool known_hosts_line_matches(std::string_view line, const std::string& host) {
    auto fields = transport_internal::fields_of(line);
    if (fields.empty() || fields[0][0] == '#')
        return false;
    size_t first = fields[0][0] == '@' ? 1 : 0;
    return fields.size() > first && transport_internal::host_pattern_matches(fields[first], host);
}

std::string ssh_fingerprint(std::string_view key_blob) { return "SHA256:" + base64_encoded(sha256(key_blob), Base64Padding::dropped); }

// ---------------------------------------------------------------------------------------------

namespace transport_internal {

// The first line of a secret file, which must be readable by its owner only; nullopt, with the
// reason in FAILURE, when it cannot be had.
std::optional<std::string> read_secret(const std::filesystem::path& file, const char* key, std::string& failure) {
    struct stat st {};
    if (stat(file.c_str(), &st) != 0) {
        failure = std::string(key) + " " + file.string() + ": " + std::strerror(errno);
        return std::nullopt;
    }
    if ((st.st_mode & 077) != 0) {
        failure = std::string(key) + " " + file.string() + " may be read by others; chmod 600 it";
        return std::nullopt;
    }
    std::ifstream in(file);
    std::string line;
    if (!in || !std::getline(in, line)) {
        failure = std::string(key) + " " + file.string() + " cannot be read or is empty";
        return std::nullopt;
    }
    while (!line.empty() && (line.back() == '\r' || line.back() == ' '))
        line.pop_back();
    return line;
}

struct Password {
    std::string user, password;
    std::string authentication;  // where they come from, for messages
};

// The user and password storage.* gives a primary that asks for them: storage.credentials_file
// ("user:password", or a token sent with USER, the URL's), else GEO_SSF_PRIMARY_PASSWORD; nullopt,
// with the reason in FAILURE, when there are none.
std::optional<Password> password_for(const TransportSettings& settings, std::string user, std::string& failure) {
    Password out;
    if (!settings.credentials_file.empty()) {
        auto read = read_secret(settings.credentials_file, "storage.credentials_file", failure);
        if (!read)
            return std::nullopt;
        auto colon = read->find(':');
        if (colon == std::string::npos) {
            out.password = *read;  // a token, with the URL's user name
        } else {
            user = read->substr(0, colon);
            out.password = read->substr(colon + 1);
        }
        std::fill(read->begin(), read->end(), '\0');
        out.authentication =
            "the credentials of storage.credentials_file " + settings.credentials_file.string() + " (user " + user + ")";
    } else if (const char* env = std::getenv("GEO_SSF_PRIMARY_PASSWORD"); env && *env) {
        out.password = env;
        out.authentication = "GEO_SSF_PRIMARY_PASSWORD (user " + user + ")";
    } else {
        failure = "the primary asks for a password: set storage.credentials_file or GEO_SSF_PRIMARY_PASSWORD";
        return std::nullopt;
    }
    out.user = user;
    return out;
}

std::string user_or_git(const std::string& from_url) { return from_url.empty() ? "git" : from_url; }

struct SessionState {
    const TransportSettings& settings;
    std::string url;
    Url parts;  // empty when URL does not parse: libgit2 refuses it then
    Watch watch;
    Watch* outer_watch = nullptr;
    bool watched = false;
    std::string failure;         // the session's reason for the last failure
    enum class Failed { nothing, identity, authentication } failed = Failed::nothing;
    std::string identity;
    std::string authentication;
    int credential_requests = 0;

    SessionState(const TransportSettings& s, std::string u) : settings(s), url(std::move(u)), parts(parse_url(url).value_or(Url{})) {}

    std::string known_hosts_name() const {
        return parts.port.empty() || parts.port == "22" ? parts.host : "[" + parts.host + "]:" + parts.port;
    }

    int check_host_key(const git_cert_hostkey* cert) {
        std::string host = known_hosts_name();
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
        std::string type = offered ? key_type_of(*offered) : "ssh key";
        std::string fingerprint = "SHA256:" + base64_encoded(offered_sha256, Base64Padding::dropped);
        std::ifstream in(file);
        bool known_other_type = false, changed = false, revoked = false, matched = false;
        std::string line;
        while (in && std::getline(in, line)) {
            if (!known_hosts_line_matches(line, host))
                continue;
            auto fields = fields_of(line);
            bool marker = fields[0][0] == '@';
            if (marker && fields[0] != "@revoked")
                continue;  // @cert-authority: host certificates are not supported
            size_t first = marker ? 1 : 0;
            if (fields.size() < first + 3)
                continue;
            auto blob = base64_decoded(fields[first + 2]);
            if (!blob)
                continue;
            bool same = sha256(*blob) == offered_sha256;
            if (marker) {
                revoked = revoked || same;
            } else if (same) {
                matched = true;
            } else if (std::string(fields[first + 1]) == type) {
                changed = true;
            } else {
                known_other_type = true;
            }
        }
        if (revoked) {
            failed = Failed::identity;
            failure = "the host key of " + host + " (" + type + " " + fingerprint + ") is marked @revoked in " + file.string();
            return -1;
        }
        if (matched) {
            identity = "host key " + type + " " + fingerprint + " of " + host + " is in " + file.string();
            return 0;
        }
        failed = Failed::identity;
        if (changed)
            failure = "HOST KEY CHANGED for " + host + ": it offers " + type + " " + fingerprint + ", but " +
                      file.string() + " has another " + type + " key for it; someone may be impersonating the primary";
        else
            failure = "unknown host key for " + host + ": " + type + " " + fingerprint + " is not in " + file.string() +
                      (known_other_type ? " (it has keys of other types for this host)" : "") +
                      "; check the fingerprint, then add the key (ssh-keyscan" +
                      (parts.port.empty() ? "" : " -p " + parts.port) + " " + parts.host + ")";
        return -1;
    }

    int check_certificate(git_cert* cert, int valid, const char* host) {
        if (cert->cert_type == GIT_CERT_HOSTKEY_LIBSSH2)
            return check_host_key(reinterpret_cast<git_cert_hostkey*>(cert));
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
            auto given = password_for(settings, user_name(user_from_url), failure);
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

int certificate_check(git_cert* cert, int valid, const char* host, void* payload) {
    return static_cast<SessionState*>(payload)->check_certificate(cert, valid, host);
}

int credentials(git_credential** out, const char*, const char* user_from_url, unsigned int allowed, void* payload) {
    return static_cast<SessionState*>(payload)->credentials(out, user_from_url, allowed);
}

int transfer_progress(const git_indexer_progress*, void* payload) {
    auto* state = static_cast<SessionState*>(payload);
    if (state->watch.out_of_time)
        return -1;
    state->watch.touch();
    return 0;
}

int sideband_progress(const char*, int, void* payload) { return transfer_progress(nullptr, payload); }

}  // namespace transport_internal

struct RemoteSession::State : transport_internal::SessionState {
    using SessionState::SessionState;
};


RemoteSession::RemoteSession(const TransportSettings& settings, const std::string& url)
    : m_state(std::make_unique<State>(settings, url)) {
    transport_internal::install_stream();
    transport_internal::use_ca_file(settings.ca_file);
    m_state->watched = !local_path_of(url).has_value();
    if (!m_state->watched)
        return;  // a local fetch: no network to wait for
    transport_internal::Watch& watch = m_state->watch;
    watch.total = settings.fetch_timeout;
    watch.stall = settings.fetch_stall_timeout;
    watch.deadline = transport_internal::Clock::now() + settings.fetch_timeout;
    watch.touch();
    m_state->outer_watch = transport_internal::t_watch;
    transport_internal::t_watch = &watch;
    transport_internal::Watchdog::instance().add(&watch);
}

RemoteSession::~RemoteSession() {
    if (!m_state->watched)
        return;
    transport_internal::Watchdog::instance().remove(&m_state->watch);
    transport_internal::t_watch = m_state->outer_watch;
}

git_remote_callbacks RemoteSession::callbacks() {
    git_remote_callbacks callbacks = GIT_REMOTE_CALLBACKS_INIT;
    callbacks.credentials = transport_internal::credentials;
    callbacks.certificate_check = transport_internal::certificate_check;
    callbacks.transfer_progress = transport_internal::transfer_progress;
    callbacks.sideband_progress = transport_internal::sideband_progress;
    callbacks.payload = m_state.get();
    return callbacks;
}

git_proxy_options RemoteSession::proxy_options() const {
    git_proxy_options proxy = GIT_PROXY_OPTIONS_INIT;
    proxy.type = GIT_PROXY_AUTO;  // the http(s)_proxy variables and git config, as git
    proxy.certificate_check = transport_internal::certificate_check;
    proxy.payload = m_state.get();
    return proxy;
}

int RemoteSession::check(int rc, std::string_view what) {
    if (rc >= 0)
        return rc;
    std::string reason = transport_internal::Watchdog::instance().reason(&m_state->watch);
    if (reason.empty())
        reason = m_state->failure;
    if (reason.empty())
        reason = git::last_error_message();
    m_state->failure.clear();
    throw GitError(std::string(what) + ": " + reason);
}

const std::string& RemoteSession::identity() const { return m_state->identity; }
const std::string& RemoteSession::authentication() const { return m_state->authentication; }

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

RemoteProbe probe_remote(const std::string& url, const TransportSettings& settings) {
    RemoteProbe probe;
    RemoteSession session(settings, url);
    git_remote* raw = nullptr;
    try {
        git::check(git_remote_create_detached(&raw, url.c_str()), "cannot use " + redact_url_credentials(url));
        git::Remote remote(raw);
        size_t count = session.advertised_refs(remote.get(), url).size();
        probe.reachable = true;
        probe.detail = redact_url_credentials(url) + ": " + std::to_string(count) + " refs";
    } catch (const GitError& e) {
        probe.detail = e.what();
    }
    using Failed = transport_internal::SessionState::Failed;
    probe.identity_ok = session.m_state->failed != Failed::identity;
    probe.identity = !probe.identity_ok ? probe.detail
                     : !session.identity().empty() ? session.identity()
                     : probe.reachable ? "no host key or certificate to check for " + redact_url_credentials(url)
                                       : "not checked: the primary was not reached";
    probe.authentication_ok = session.m_state->failed != Failed::authentication;
    probe.authentication = !probe.authentication_ok ? probe.detail
                           : !session.authentication().empty() ? "accepted: " + session.authentication()
                           : probe.reachable ? "none asked"
                                             : "not checked: the primary was not reached";
    return probe;
}

namespace {

// Whether ssh takes PATH, given as an option's value, as it is: ssh splits such values at
// blanks, reads quotes and backslashes, and expands % and ${...} in file names.
bool plain_for_ssh(const std::filesystem::path& path) {
    for (unsigned char c : path.string())
        if (c <= ' ' || c == 0x7f || std::string_view("\"'\\%$").find(static_cast<char>(c)) != std::string_view::npos)
            return false;
    return true;
}

// An empty folder of this process's own, removed when it ends: curl, under git, trusts the
// system's CA folder besides http.sslCAInfo unless http.sslCAPath names another one. Empty when
// it cannot be made.
const std::filesystem::path& empty_folder() {
    struct Folder {
        std::filesystem::path path;
        Folder() {
            std::error_code ec;
            std::string name = (std::filesystem::temp_directory_path(ec) / "geo-ssf-no-ca-XXXXXX").string();
            if (!ec && ::mkdtemp(name.data()))
                path = name;
        }
        ~Folder() {
            std::error_code ec;
            if (!path.empty())
                std::filesystem::remove(path, ec);
        }
    };
    static const Folder folder;
    return folder.path;
}

// git's http.proxy from the user's or the system's git configuration, which libgit2 reads and
// the git program is told not to; empty when there is none.
std::string configured_http_proxy() {
    git::Library library;
    git_config* raw = nullptr;
    if (git_config_open_default(&raw) != 0)
        return "";
    git::Config defaults(raw);
    git::Buffer proxy;
    if (git_config_get_string_buf(proxy.get(), defaults.get(), "http.proxy") != 0)
        return "";
    return std::string(proxy.view());
}

bool has_line_break(const std::string& text) { return text.find_first_of("\r\n") != std::string::npos; }

}  // namespace

std::optional<GitSetup> git_transport(const std::string& url, const TransportSettings& settings) {
    auto parsed = parse_url(url);
    if (!parsed || parsed->password)
        return std::nullopt;  // it would be in git's command line, which any local user can read
    GitSetup setup;
    std::vector<std::string>& env = setup.environment;
    if (parsed->scheme == "ssh") {
        auto known_hosts =
            settings.ssh_known_hosts.empty() ? transport_internal::default_known_hosts() : settings.ssh_known_hosts;
        if (!settings.ssh_key_passphrase_file.empty() || !plain_for_ssh(known_hosts) ||
            (!settings.ssh_key.empty() && !plain_for_ssh(settings.ssh_key)))
            return std::nullopt;
        std::string command = "ssh -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=yes -o UpdateHostKeys=no"
                              " -o CheckHostIP=no -o GlobalKnownHostsFile=/dev/null -o UserKnownHostsFile=" +
                              shell_quoted(known_hosts.string());
        if (parsed->user.value_or("").empty())  // as libgit2, which logs in as git; ssh would take the local user
            command += " -o User=git";
        if (!settings.ssh_key.empty())
            command += " -o IdentitiesOnly=yes -o IdentityAgent=none -i " + shell_quoted(settings.ssh_key.string());
        env.push_back("GIT_SSH_COMMAND=" + command);
        env.push_back("GIT_SSH_VARIANT=ssh");
        return setup;
    }
    if (parsed->scheme != "https" && parsed->scheme != "http")
        return std::nullopt;
    auto& config = setup.config;
    if (auto proxy = configured_http_proxy(); !proxy.empty())
        config.emplace_back("http.proxy", proxy);
    if (!settings.ca_file.empty()) {
        if (empty_folder().empty())
            return std::nullopt;
        config.emplace_back("http.sslCAInfo", settings.ca_file.string());
        config.emplace_back("http.sslCAPath", empty_folder().string());
    }
    std::string failure;
    auto given = transport_internal::password_for(
        settings, transport_internal::user_or_git(parsed->user.value_or("")), failure);
    if (given && (has_line_break(given->user) || has_line_break(given->password)))
        return std::nullopt;  // they would end the helper's answer early
    if (given) {
        // Given only to the primary's host, when it asks ("get"); never stored or erased elsewhere.
        config.emplace_back("credential." + origin_of(*parsed) + ".helper",
                            "!f() { test \"$1\" = get && printf 'username=%s\\npassword=%s\\n' "
                            "\"$GEO_SSF_GIT_USER\" \"$GEO_SSF_GIT_PASSWORD\"; }; f");
        env.push_back("GEO_SSF_GIT_USER=" + given->user);
        env.push_back("GEO_SSF_GIT_PASSWORD=" + given->password);
        std::fill(given->password.begin(), given->password.end(), '\0');
    }
    return setup;
}

}  // namespace geo_ssf
