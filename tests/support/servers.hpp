// Real servers, started by the tests on free ports of 127.0.0.1 and stopped at the end of their
// scope: for the network transports OpenSSH's sshd, lighttpd serving git http-backend over TLS
// with basic auth, git daemon, a CONNECT proxy, a listener that never answers and a relay that
// stops forwarding mid-answer; and a hot standby of the tests' PostgreSQL cluster. Each
// constructor fails the test (throws) when its server cannot start; nothing is ever skipped.
#pragma once

#include "test_support.hpp"

#include "common/subprocess.hpp"

#include <atomic>
#include <functional>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace geo_ssf::test {

// A TCP port of 127.0.0.1 that nothing listens on right now.
int free_port();

// A program running in the background, in its own process group, its output appended to LOG;
// stopped (SIGTERM to its group) at the end of its scope.
class Daemon {
public:
    Daemon(const std::string& program, const std::vector<std::string>& args, const std::filesystem::path& log);
    ~Daemon();
    Daemon(const Daemon&) = delete;
    Daemon& operator=(const Daemon&) = delete;
    // Waits until PORT of 127.0.0.1 accepts connections; throws with the log if it never does.
    void wait_for_port(int port, const std::string& what);
    void stop();
    bool running() const { return m_process != nullptr; }

private:
    std::unique_ptr<Process> m_process;
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

// A listener on a free port of 127.0.0.1 that hands each connection it accepts to HANDLE, on a
// thread of its own, until destroyed; HANDLE closes the connection, and returns soon once
// stopping() is true (the destructor waits for it).
class ConnectionThreads {
public:
    explicit ConnectionThreads(std::function<void(int client)> handle);
    ~ConnectionThreads();
    ConnectionThreads(const ConnectionThreads&) = delete;
    ConnectionThreads& operator=(const ConnectionThreads&) = delete;
    int port() const { return m_port; }
    bool stopping() const { return m_stop; }

private:
    std::function<void(int)> m_handle;
    int m_listener = -1;
    int m_port = 0;
    std::atomic<bool> m_stop{false};
    std::thread m_thread;
};

// An HTTP CONNECT proxy on a thread of the test; counts the tunnels it opened.
class ConnectProxy {
public:
    ConnectProxy();
    int port() const { return m_connections.port(); }
    int tunnels() const { return m_tunnels; }

private:
    void tunnel(int client);
    std::atomic<int> m_tunnels{0};
    ConnectionThreads m_connections;  // last: its threads use the members above
};

// A port that accepts every TCP connection and never sends a byte; each connection is held
// until its client closes it. Accepting them keeps the listen queue from filling, where new
// connections would hang in their connect instead.
class SilentServer {
public:
    SilentServer();
    int port() const { return m_connections.port(); }

private:
    void hold(int client);
    ConnectionThreads m_connections;  // last: its threads use the members above
};

// git daemon serving the bare repositories under ROOT as git://127.0.0.1:PORT/<path under ROOT>.
class GitDaemon {
public:
    GitDaemon(const std::filesystem::path& dir, const std::filesystem::path& root);
    int port() const { return m_port; }
    // git://127.0.0.1:PORT
    std::string url_base() const;

private:
    int m_port;
    std::unique_ptr<Daemon> m_daemon;
};

// A TCP relay on threads of the test, from its own port to TARGET_PORT of 127.0.0.1: it
// forwards all a client sends, and of each connection's answer the first LIMIT bytes; then it
// forwards nothing more and keeps both connections open, as a server that stops sending in the
// middle of a pack, until the client closes its end.
class StallingRelay {
public:
    StallingRelay(int target_port, size_t limit);
    int port() const { return m_connections.port(); }
    // Connections whose answer reached LIMIT, and were held from then on.
    int stalled() const { return m_stalled; }

private:
    void relay(int client);
    int m_target;
    size_t m_limit;
    std::atomic<int> m_stalled{0};
    ConnectionThreads m_connections;  // last: its threads use the members above
};

// A hot standby of the PostgreSQL cluster the PG* variables point at (the one pg_virtualenv
// started): a base backup taken with pg_basebackup -R through a replication slot of its own,
// started with pg_ctl on a free port of 127.0.0.1 with SETTINGS added to its postgresql.conf
// ("max_standby_streaming_delay = 0"), streaming from the primary. The primary's roles and
// passwords are the standby's. PostgreSQL refuses to run as root: as root the standby runs as
// the postgres user, in a folder it owns. Stopped, its slot dropped and its folder removed at
// the end of its scope, whatever happened.
class StandbyServer {
public:
    explicit StandbyServer(const std::vector<std::string>& settings = {});
    ~StandbyServer();
    StandbyServer(const StandbyServer&) = delete;
    StandbyServer& operator=(const StandbyServer&) = delete;

    int port() const { return m_port; }
    // A libpq connection string for DBNAME on the standby, without user or password.
    std::string conninfo(const std::string& dbname) const;
    // Runs SQL on the standby (read-only) as the PG* variables' user, in DBNAME; the first
    // column of the first row as text ("" for NULL or no row).
    std::string scalar(const std::string& sql, const std::string& dbname = "postgres");
    // Waits until the standby has replayed everything the primary has written so far.
    void catch_up();
    // With hot_standby_feedback = on in SETTINGS: waits until the primary keeps, for the
    // standby's slot, the row versions the standby's queries may need, so that its VACUUM
    // (or HOT pruning, of the shared catalogs too) cancels none of them.
    void wait_for_feedback();
    // pg_wal_replay_pause() and waits until replay has stopped; pg_wal_replay_resume().
    void pause_replay();
    void resume_replay();
    // pg_ctl promote, as a DBA promotes a standby when its primary is lost: waits until the
    // server is out of recovery and takes writes, on a new timeline.
    void promote();
    // The server's log, for failure messages.
    std::string log() const;
    // Stops the server (fast shutdown: its clients' connections end) and starts it again.
    void restart();
    // Stops the server, throws its data away and makes it again from a new base backup, on the
    // same port; WHILE_DOWN, when set, runs while it is down.
    void rebuild(const std::function<void()>& while_down = {});

private:
    // Runs COMMAND_LINE with sh, as the postgres user when root; throws with the log if it fails.
    std::string run(const std::string& command_line);
    void start(const std::vector<std::string>& settings);
    void back_up();
    void start_server();
    void stop_server();
    void stop();

    std::filesystem::path m_dir;
    std::string m_bin;
    std::string m_slot;
    std::string m_conf;  // its postgresql.conf
    int m_port = 0;
    bool m_started = false;
    bool m_slot_made = false;
};

}  // namespace geo_ssf::test
