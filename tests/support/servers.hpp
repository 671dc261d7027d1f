// Real servers for the network transports, started by the tests on free ports of 127.0.0.1 and
// stopped at the end of their scope: OpenSSH's sshd, lighttpd serving git http-backend over TLS
// with basic auth, git daemon, a CONNECT proxy, and a listener that never answers. Each constructor fails
// the test (throws) when its server cannot start; nothing is ever skipped.
#pragma once

#include "test_support.hpp"

#include <sys/types.h>

#include <atomic>
#include <filesystem>
#include <string>
#include <thread>

namespace geo_ssf::test {

// A TCP port of 127.0.0.1 that nothing listens on right now.
int free_port();

// A program running in the background, in its own process group, killed at the end of its scope.
class Daemon {
public:
    Daemon(const std::string& program, const std::vector<std::string>& args, const std::filesystem::path& log);
    ~Daemon();
    Daemon(const Daemon&) = delete;
    Daemon& operator=(const Daemon&) = delete;
    // Waits until PORT of 127.0.0.1 accepts connections; throws with the log if it never does.
    void wait_for_port(int port, const std::string& what);
    void stop();
    bool running() const { return m_pid > 0; }

private:
    pid_t m_pid = -1;
    std::filesystem::path m_log;
};

// sshd as the current user, with a generated host key and user key. git-upload-pack runs after
// `delay` seconds when set (a slow primary).
class SshServer {
public:
    explicit SshServer(const std::filesystem::path& dir, const std::string& delay = "");
    int port() const { return m_port; }
    std::string user() const;
    // ssh://USER@127.0.0.1:PORT
    std::string url_base() const;
    std::filesystem::path user_key() const { return m_dir / "user_key"; }
    std::filesystem::path wrong_key() const { return m_dir / "wrong_key"; }
    std::filesystem::path known_hosts() const { return m_dir / "known_hosts"; }
    // The host key's fingerprint as ssh-keygen -l prints it ("SHA256:...").
    std::string host_fingerprint() const;
    void stop() { m_daemon->stop(); }

private:
    std::filesystem::path m_dir;
    int m_port;
    std::unique_ptr<Daemon> m_daemon;
};

// lighttpd with TLS (a certificate for "localhost" from a CA the test makes) and basic auth in
// front of git http-backend serving ROOT under /git.
class HttpsServer {
public:
    HttpsServer(const std::filesystem::path& dir, const std::filesystem::path& root, const std::string& user,
                const std::string& password);
    int port() const { return m_port; }
    // https://localhost:PORT/git
    std::string url_base() const;
    std::filesystem::path ca_file() const { return m_dir / "ca.pem"; }
    std::filesystem::path error_log() const { return m_dir / "lighttpd-error.log"; }

private:
    std::filesystem::path m_dir;
    int m_port;
    std::unique_ptr<Daemon> m_daemon;
};

// git daemon serving every repository under ROOT, anonymously and read-only.
class GitDaemon {
public:
    GitDaemon(const std::filesystem::path& dir, const std::filesystem::path& root);
    // git://127.0.0.1:PORT
    std::string url_base() const { return "git://127.0.0.1:" + std::to_string(m_port); }

private:
    int m_port;
    std::unique_ptr<Daemon> m_daemon;
};

// An HTTP CONNECT proxy on a thread of the test; counts the tunnels it opened.
class ConnectProxy {
public:
    ConnectProxy();
    ~ConnectProxy();
    int port() const { return m_port; }
    int tunnels() const { return m_tunnels; }

private:
    void serve();
    int m_listener = -1;
    int m_port = 0;
    std::atomic<int> m_tunnels{0};
    std::atomic<bool> m_stop{false};
    std::thread m_thread;
};

// A port that accepts TCP connections (the kernel completes them) and never sends a byte.
class SilentServer {
public:
    SilentServer();
    ~SilentServer();
    int port() const { return m_port; }

private:
    int m_listener = -1;
    int m_port = 0;
};

}  // namespace geo_ssf::test
