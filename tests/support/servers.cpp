#include "servers.hpp"

#include "common/shell_quoted.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

namespace geo_ssf::test {

namespace {

int listener_on(int port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || listen(fd, 16) != 0)
        throw std::runtime_error(std::string("cannot listen on 127.0.0.1: ") + std::strerror(errno));
    return fd;
}

int port_of(int fd) {
    sockaddr_in address{};
    socklen_t size = sizeof address;
    getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size);
    return ntohs(address.sin_port);
}

int connect_to(int port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

std::string quoted(const std::filesystem::path& p) { return "'" + p.string() + "'"; }

// The processes whose parent is PARENT, from /proc.
std::vector<pid_t> child_processes(pid_t parent) {
    std::vector<pid_t> children;
    std::error_code ec;
    for (std::filesystem::directory_iterator it("/proc", ec), end; !ec && it != end; it.increment(ec)) {
        std::string name = it->path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos)
            continue;
        std::ifstream stat(it->path() / "stat");
        std::string line;
        std::getline(stat, line);
        // "pid (comm) state ppid ...": the name in parentheses may hold blanks and parentheses.
        auto close = line.rfind(')');
        if (close == std::string::npos)
            continue;
        std::istringstream rest(line.substr(close + 1));
        std::string state;
        long ppid = 0;
        if (rest >> state >> ppid && ppid == parent)
            children.push_back(static_cast<pid_t>(std::stol(name)));
    }
    return children;
}

// Waits until PID is stopped (by a SIGSTOP sent to it) or gone.
void wait_until_stopped(pid_t pid) {
    auto stopped = [pid] {
        std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
        std::string line;
        if (!std::getline(stat, line))
            return true;
        auto close = line.rfind(')');
        return close == std::string::npos || close + 2 >= line.size() || line[close + 2] == 'T' ||
               line[close + 2] == 'Z';
    };
    while (!stopped())
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

}  // namespace

int free_port() {
    int fd = listener_on(0);
    int port = port_of(fd);
    close(fd);
    return port;
}

Daemon::Daemon(const std::string& program, const std::vector<std::string>& args, const std::filesystem::path& log)
    : m_log(log) {
    ProcessSpec spec;
    spec.argv = {program};
    spec.argv.insert(spec.argv.end(), args.begin(), args.end());
    spec.out = ProcessOutput::to_file(log);
    spec.err = ProcessOutput::to_file(log);
    spec.own_process_group = true;
    m_process = std::make_unique<Process>(spec);
}

Daemon::~Daemon() { stop(); }

void Daemon::stop() {
    if (!m_process)
        return;
    // The connections it serves first (sshd's leave its process group): a stopped server serves
    // nobody, not even a client that shares a connection it opened before. The server is frozen
    // while they are found, so that no connection it accepts meanwhile escapes: one accepted
    // after the search would outlive it, and a client could share it for the rest of its run.
    pid_t pid = m_process->pid();
    ::kill(pid, SIGSTOP);
    wait_until_stopped(pid);
    for (pid_t child : child_processes(pid))
        ::kill(child, SIGTERM);
    m_process->signal(SIGTERM);
    ::kill(pid, SIGCONT);
    m_process->wait();
    m_process.reset();
}

void Daemon::wait_for_port(int port, const std::string& what) {
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < until) {
        int fd = connect_to(port);
        if (fd >= 0) {
            close(fd);
            return;
        }
        if (m_process->exit_if_ended()) {
            m_process.reset();
            throw std::runtime_error(what + " exited at start: " + read_file(m_log));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    throw std::runtime_error(what + " does not listen on port " + std::to_string(port) + ": " + read_file(m_log));
}

SshServer::SshServer(const std::filesystem::path& dir, const std::string& delay) : m_dir(dir), m_port(free_port()) {
    std::filesystem::create_directories(dir);
    for (const char* key : {"host_key", "user_key", "wrong_key"})
        shell("ssh-keygen -q -t ed25519 -N '' -C geo-ssf-test -f " + quoted(dir / key));
    std::string options = delay.empty() ? "" : "command=\"sleep " + delay + "; eval \\\"$SSH_ORIGINAL_COMMAND\\\"\" ";
    write_file(dir / "authorized_keys", options + read_file(dir / "user_key.pub"));
    write_file(known_hosts(), "[127.0.0.1]:" + std::to_string(m_port) + " " + read_file(dir / "host_key.pub"));
    write_file(dir / "sshd_config", "Port " + std::to_string(m_port) +
                                        "\nListenAddress 127.0.0.1\n"
                                        "HostKey " + (dir / "host_key").string() +
                                        "\nPidFile " + (dir / "sshd.pid").string() +
                                        "\nAuthorizedKeysFile " + (dir / "authorized_keys").string() +
                                        "\nStrictModes no\nUsePAM no\nPasswordAuthentication no\n"
                                        "KbdInteractiveAuthentication no\nPubkeyAuthentication yes\n"
                                        "PermitRootLogin prohibit-password\nLogLevel VERBOSE\n"
                                        // bash reads the user's ~/.bashrc when sshd runs it, unless it
                                        // is a nested shell: a session costs what a git server's does,
                                        // not what this machine's home makes it.
                                        "SetEnv SHLVL=2\n");
    if (geteuid() == 0)
        std::filesystem::create_directories("/run/sshd");  // sshd's privilege separation folder, as root
    m_daemon = std::make_unique<Daemon>("/usr/sbin/sshd",
                                        std::vector<std::string>{"-D", "-e", "-f", (dir / "sshd_config").string()},
                                        dir / "sshd.log");
    m_daemon->wait_for_port(m_port, "sshd");
}

std::string SshServer::user() const {
    passwd* pw = getpwuid(geteuid());
    if (!pw)
        throw std::runtime_error("no user name for the current user");
    return pw->pw_name;
}

std::string SshServer::url_base() const { return "ssh://" + user() + "@127.0.0.1:" + std::to_string(m_port); }

std::string SshServer::host_fingerprint() const {
    std::string line = shell("ssh-keygen -l -E sha256 -f " + quoted(m_dir / "host_key.pub"));
    auto start = line.find("SHA256:");
    return line.substr(start, line.find(' ', start) - start);
}

HttpsServer::HttpsServer(const std::filesystem::path& dir, const std::filesystem::path& root, const std::string& user,
                         const std::string& password)
    : m_dir(dir), m_port(free_port()) {
    std::filesystem::create_directories(dir);
    shell("cd " + quoted(dir) +
          " && openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=geo-ssf-test-ca 2>/dev/null"
          " && openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=localhost 2>/dev/null"
          " && printf 'subjectAltName=DNS:localhost\\nbasicConstraints=CA:FALSE\\n' >server.ext"
          " && openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2"
          " -extfile server.ext 2>/dev/null");
    write_file(dir / "users", user + ":" + password + "\n");
    std::filesystem::create_directories(dir / "www");
    std::string config =
        "server.modules = (\"mod_access\", \"mod_alias\", \"mod_auth\", \"mod_authn_file\", \"mod_setenv\", "
        "\"mod_cgi\", \"mod_openssl\")\n"
        "server.document-root = \"" + (dir / "www").string() + "\"\n"
        "server.bind = \"127.0.0.1\"\n"
        "server.port = " + std::to_string(m_port) + "\n"
        "server.errorlog = \"" + error_log().string() + "\"\n"
        "ssl.engine = \"enable\"\n"
        "ssl.pemfile = \"" + (dir / "server.pem").string() + "\"\n"
        "ssl.privkey = \"" + (dir / "server.key").string() + "\"\n"
        "auth.backend = \"plain\"\n"
        "auth.backend.plain.userfile = \"" + (dir / "users").string() + "\"\n"
        "alias.url = (\"/git\" => \"/usr/lib/git-core/git-http-backend\")\n"
        "$HTTP[\"url\"] =~ \"^/git\" {\n"
        "  cgi.assign = (\"\" => \"\")\n"
        "  setenv.add-environment = (\"GIT_PROJECT_ROOT\" => \"" + root.string() + "\", \"GIT_HTTP_EXPORT_ALL\" => \"1\")\n"
        "  auth.require = (\"\" => (\"method\" => \"basic\", \"realm\" => \"git\", \"require\" => \"valid-user\"))\n"
        "}\n";
    write_file(dir / "lighttpd.conf", config);
    m_daemon = std::make_unique<Daemon>("/usr/sbin/lighttpd",
                                        std::vector<std::string>{"-D", "-f", (dir / "lighttpd.conf").string()},
                                        dir / "lighttpd.log");
    m_daemon->wait_for_port(m_port, "lighttpd");
}

std::string HttpsServer::url_base() const { return "https://localhost:" + std::to_string(m_port) + "/git"; }

ConnectionThreads::ConnectionThreads(std::function<void(int client)> handle)
    : m_handle(std::move(handle)), m_listener(listener_on(0)), m_port(port_of(m_listener)) {
    m_thread = std::thread([this] {
        std::vector<std::thread> connections;
        while (!m_stop) {
            pollfd p{m_listener, POLLIN, 0};
            if (poll(&p, 1, 100) <= 0)
                continue;
            int client = accept4(m_listener, nullptr, nullptr, SOCK_CLOEXEC);
            if (client >= 0)
                connections.emplace_back([this, client] { m_handle(client); });
        }
        for (auto& t : connections)
            t.join();
    });
}

ConnectionThreads::~ConnectionThreads() {
    m_stop = true;
    m_thread.join();
    close(m_listener);
}

ConnectProxy::ConnectProxy() : m_connections([this](int client) { tunnel(client); }) {}

void ConnectProxy::tunnel(int client) {
    std::string request;
    char buffer[16384];
    while (request.find("\r\n\r\n") == std::string::npos) {
        ssize_t n = recv(client, buffer, sizeof buffer, 0);
        if (n <= 0) {
            close(client);
            return;
        }
        request.append(buffer, static_cast<size_t>(n));
    }
    // "CONNECT localhost:PORT HTTP/1.1"
    auto colon = request.find(':');
    int server = request.rfind("CONNECT ", 0) == 0 && colon != std::string::npos
                     ? connect_to(std::atoi(request.c_str() + colon + 1))
                     : -1;
    if (server < 0) {
        send(client, "HTTP/1.1 502 Bad Gateway\r\n\r\n", 28, MSG_NOSIGNAL);
        close(client);
        return;
    }
    ++m_tunnels;
    const char ok[] = "HTTP/1.1 200 Connection established\r\n\r\n";
    send(client, ok, sizeof ok - 1, MSG_NOSIGNAL);
    pollfd fds[2] = {{client, POLLIN, 0}, {server, POLLIN, 0}};
    while (!m_connections.stopping()) {
        if (poll(fds, 2, 100) <= 0)
            continue;
        bool done = false;
        for (int i = 0; i < 2 && !done; ++i) {
            if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            ssize_t n = recv(fds[i].fd, buffer, sizeof buffer, 0);
            done = n <= 0 || send(fds[1 - i].fd, buffer, static_cast<size_t>(n), MSG_NOSIGNAL) != n;
        }
        if (done)
            break;
    }
    close(server);
    close(client);
}

SilentServer::SilentServer() : m_connections([this](int client) { hold(client); }) {}

void SilentServer::hold(int client) {
    char buffer[16384];
    while (!m_connections.stopping()) {
        pollfd p{client, POLLIN, 0};
        if (poll(&p, 1, 100) <= 0)
            continue;
        if (recv(client, buffer, sizeof buffer, 0) <= 0)
            break;  // the client gave up
    }
    close(client);
}

GitDaemon::GitDaemon(const std::filesystem::path& dir, const std::filesystem::path& root) : m_port(free_port()) {
    std::filesystem::create_directories(dir);
    m_daemon = std::make_unique<Daemon>(
        "/usr/bin/git",
        std::vector<std::string>{"daemon", "--listen=127.0.0.1", "--port=" + std::to_string(m_port), "--reuseaddr",
                                 "--export-all", "--informative-errors", "--base-path=" + root.string()},
        dir / "git-daemon.log");
    m_daemon->wait_for_port(m_port, "git daemon");
}

std::string GitDaemon::url_base() const { return "git://127.0.0.1:" + std::to_string(m_port); }

StallingRelay::StallingRelay(int target_port, size_t limit)
    : m_target(target_port), m_limit(limit), m_connections([this](int client) { relay(client); }) {}

void StallingRelay::relay(int client) {
    int server = connect_to(m_target);
    if (server < 0) {
        close(client);
        return;
    }
    char buffer[16384];
    size_t answered = 0;
    bool held = false;
    while (!m_connections.stopping()) {
        // Once held, the server's side is no longer read: its answer waits in the socket.
        pollfd fds[2] = {{client, POLLIN, 0}, {server, static_cast<short>(held ? 0 : POLLIN), 0}};
        if (poll(fds, 2, 100) <= 0)
            continue;
        if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t n = recv(client, buffer, sizeof buffer, 0);
            if (n <= 0)
                break;  // the client gave up: the end of the test's stall
            if (!held && send(server, buffer, static_cast<size_t>(n), MSG_NOSIGNAL) != n)
                break;
        }
        if (!held && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) {
            ssize_t n = recv(server, buffer, std::min(sizeof buffer, m_limit - answered), 0);
            if (n <= 0 || send(client, buffer, static_cast<size_t>(n), MSG_NOSIGNAL) != n)
                break;
            answered += static_cast<size_t>(n);
            if (answered >= m_limit) {
                held = true;
                ++m_stalled;
            }
        }
    }
    close(server);
    close(client);
}

namespace {

// The primary: the server the PG* variables point at.
std::unique_ptr<pqxx::connection> primary_server() { return std::make_unique<pqxx::connection>("dbname=postgres"); }

std::string primary_scalar(const std::string& sql) {
    auto c = primary_server();
    auto rows = pqxx::nontransaction(*c).exec(sql);
    return rows.empty() || rows[0][0].is_null() ? "" : rows[0][0].c_str();
}

}  // namespace

std::string StandbyServer::run(const std::string& command_line) {
    // runuser keeps the environment (the PG* variables) and changes only the user.
    std::string line = geteuid() == 0 ? "cd / && runuser -u postgres -- sh -ec " + shell_quoted(command_line)
                                      : "cd / && " + command_line;
    RunResult r = run_program("/bin/sh", {"-ec", line});
    if (r.status != 0)
        throw std::runtime_error("standby: command failed (" + std::to_string(r.status) + "): " + command_line + "\n" +
                                 r.out + r.err + "\n" + log());
    return r.out;
}

StandbyServer::StandbyServer(const std::vector<std::string>& settings) {
    try {
        start(settings);
    } catch (...) {
        // The destructor of an object whose constructor throws never runs.
        try {
            stop();
        } catch (const std::exception& e) {
            std::cerr << "standby: " << e.what() << "\n";
        }
        throw;
    }
}

void StandbyServer::start(const std::vector<std::string>& settings) {
    static std::atomic<int> counter{0};
    m_slot = "geo_ssf_standby_" + std::to_string(getpid()) + "_" + std::to_string(counter++);
    auto primary = primary_server();
    int major = primary->server_version() / 10000;
    m_bin = "/usr/lib/postgresql/" + std::to_string(major) + "/bin";
    if (!std::filesystem::exists(m_bin + "/pg_ctl"))
        throw std::runtime_error("standby: no " + m_bin + "/pg_ctl for the primary's PostgreSQL " + std::to_string(major));

    // A folder the server's user owns, in one it can reach.
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/geo-ssf-standby-XXXXXX";
    if (!mkdtemp(pattern.data()))
        throw std::runtime_error("standby: mkdtemp failed: " + std::string(std::strerror(errno)));
    m_dir = pattern;
    if (geteuid() == 0) {
        passwd* pw = getpwnam("postgres");
        if (!pw)
            throw std::runtime_error("standby: running as root, and there is no postgres user to run PostgreSQL as");
        if (chown(m_dir.c_str(), pw->pw_uid, pw->pw_gid) != 0)
            throw std::runtime_error("standby: cannot chown " + m_dir.string() + ": " + std::strerror(errno));
    }
    m_port = free_port();

    // Settings a hot standby must have at least as high as its primary's; and the kind of
    // dynamic shared memory the primary's initdb found working on this machine (POSIX shared
    // memory is not everywhere: a chroot without /dev/shm).
    std::string conf = "port = " + std::to_string(m_port) +
                       "\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '" + m_dir.string() +
                       "'\nhot_standby = on\nshared_buffers = 16MB\nfsync = off\n"
                       "log_line_prefix = '%m [%p] standby '\n";
    for (const auto& row : pqxx::nontransaction(*primary).exec(
             "SELECT name, setting FROM pg_settings WHERE name IN ('max_connections', 'max_worker_processes',"
             " 'max_wal_senders', 'max_prepared_transactions', 'max_locks_per_transaction',"
             " 'dynamic_shared_memory_type')"))
        conf += row[0].as<std::string>() + " = " + row[1].as<std::string>() + "\n";
    for (const auto& setting : settings)
        conf += setting + "\n";

    m_conf = conf;
    back_up();
    start_server();
}

void StandbyServer::back_up() {
    auto data = m_dir / "data";
    // The slot first, keeping WAL from now on: a slot made by pg_basebackup -C reserves WAL only
    // once the backup has started, and a busy primary may have recycled a segment by then.
    m_slot_made = true;
    primary_scalar("SELECT pg_create_physical_replication_slot('" + m_slot + "', true)");
    run("'" + m_bin + "/pg_basebackup' -D " + shell_quoted(data.string()) + " -R -X stream -S " + m_slot + " -c fast -w");
    // Debian keeps a cluster's configuration outside its data folder: the backup has none.
    run("cat >" + shell_quoted((data / "postgresql.conf").string()) + " <<'EOF'\n" + m_conf + "EOF\n" +
        "printf 'local all all trust\\nhost all all 127.0.0.1/32 md5\\n' >" +
        shell_quoted((data / "pg_hba.conf").string()) + "\n: >" + shell_quoted((data / "pg_ident.conf").string()));
}

void StandbyServer::start_server() {
    m_started = true;
    run("'" + m_bin + "/pg_ctl' -D " + shell_quoted((m_dir / "data").string()) + " -l " +
        shell_quoted((m_dir / "log").string()) + " -w -t 120 start >/dev/null");
    if (scalar("SELECT pg_is_in_recovery()") != "t")
        throw std::runtime_error("standby: the server on port " + std::to_string(m_port) + " is not in recovery\n" + log());
    // A transaction replayed, so that the standby knows when the primary last committed one.
    primary_scalar("SELECT txid_current()");
    catch_up();
}

void StandbyServer::stop_server() {
    m_started = false;
    run("'" + m_bin + "/pg_ctl' -D " + shell_quoted((m_dir / "data").string()) + " -m fast -w stop >/dev/null");
}

void StandbyServer::restart() {
    stop_server();
    start_server();
}

void StandbyServer::rebuild(const std::function<void()>& while_down) {
    stop_server();
    // The primary's walsender for the slot ends soon after the standby.
    while (primary_scalar("SELECT count(*) FROM pg_replication_slots WHERE slot_name = '" + m_slot + "' AND active") !=
           "0")
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    primary_scalar("SELECT pg_drop_replication_slot('" + m_slot + "')");
    m_slot_made = false;
    run("rm -rf " + shell_quoted((m_dir / "data").string()));
    if (while_down)
        while_down();
    back_up();
    start_server();
}

StandbyServer::~StandbyServer() {
    try {
        stop();
    } catch (const std::exception& e) {
        std::cerr << "standby: " << e.what() << "\n";
    }
}

void StandbyServer::stop() {
    if (m_started) {
        m_started = false;
        try {
            run("'" + m_bin + "/pg_ctl' -D " + shell_quoted((m_dir / "data").string()) + " -m immediate -w stop >/dev/null");
        } catch (const std::exception& e) {
            std::cerr << e.what() << "\n";
        }
    }
    if (m_slot_made) {
        m_slot_made = false;
        // The primary's walsender for the slot ends soon after the standby.
        for (int i = 0; i < 200; ++i) {
            if (primary_scalar("SELECT count(*) FROM pg_replication_slots WHERE slot_name = '" + m_slot + "' AND active") == "0")
                break;
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        primary_scalar("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '" +
                       m_slot + "'");
    }
    if (!m_dir.empty()) {
        if (std::getenv("GEO_SSF_KEEP_TEST_DIRS")) {
            std::cerr << "kept standby folder " << m_dir << "\n";
        } else {
            std::error_code ec;
            std::filesystem::remove_all(m_dir, ec);
        }
        m_dir.clear();
    }
}

std::string StandbyServer::conninfo(const std::string& dbname) const {
    return "host=127.0.0.1 port=" + std::to_string(m_port) + " dbname=" + dbname;
}

std::string StandbyServer::scalar(const std::string& sql, const std::string& dbname) {
    // With max_standby_streaming_delay = 0 replay cancels the test's own queries too, even
    // while they connect (reading the shared catalogs that other tests' CREATE and DROP
    // DATABASE change): those are tried again. A conflict that ends the session while it is set
    // up leaves libpq no reason to give ("Could not obtain client encoding: not connected").
    for (int attempt = 1;; ++attempt) {
        try {
            pqxx::connection c(conninfo(dbname));
            auto rows = pqxx::nontransaction(c).exec(sql);
            return rows.empty() || rows[0][0].is_null() ? "" : rows[0][0].c_str();
        } catch (const pqxx::broken_connection&) {
            if (attempt == 10)
                throw;
        } catch (const std::exception& e) {
            if (attempt == 10 || std::string(e.what()).find("conflict with recovery") == std::string::npos)
                throw;
        }
    }
}

void StandbyServer::wait_for_feedback() {
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (primary_scalar("SELECT xmin IS NOT NULL FROM pg_replication_slots WHERE slot_name = '" + m_slot + "'") != "t") {
        if (std::chrono::steady_clock::now() > until)
            throw std::runtime_error("standby: no hot_standby_feedback reached the primary within 60s\n" + log());
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
}

std::string StandbyServer::log() const {
    std::error_code ec;
    if (m_dir.empty() || !std::filesystem::exists(m_dir / "log", ec))
        return "";
    return "standby log:\n" + read_file(m_dir / "log");
}

void StandbyServer::catch_up() {
    std::string target = primary_scalar("SELECT pg_current_wal_flush_lsn()");
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (scalar("SELECT pg_last_wal_replay_lsn() >= '" + target + "'::pg_lsn") != "t") {
        if (std::chrono::steady_clock::now() > until)
            throw std::runtime_error("standby: has not replayed up to " + target + " within 60s\n" + log());
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

void StandbyServer::pause_replay() {
    scalar("SELECT pg_wal_replay_pause()");
    // The startup process pauses before the next record it replays: give it one.
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (scalar("SELECT pg_get_wal_replay_pause_state()") != "paused") {
        if (std::chrono::steady_clock::now() > until)
            throw std::runtime_error("standby: replay did not pause within 60s\n" + log());
        primary_scalar("SELECT txid_current()");
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

void StandbyServer::resume_replay() { scalar("SELECT pg_wal_replay_resume()"); }

void StandbyServer::promote() {
    run("'" + m_bin + "/pg_ctl' -D " + shell_quoted((m_dir / "data").string()) + " -w -t 120 promote >/dev/null");
    if (scalar("SELECT pg_is_in_recovery()") != "f")
        throw std::runtime_error("standby: still in recovery after pg_ctl promote\n" + log());
}

}  // namespace geo_ssf::test
