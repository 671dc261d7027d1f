#include "servers.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <stdexcept>
#include <vector>

extern char** environ;

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

}  // namespace

int free_port() {
    int fd = listener_on(0);
    int port = port_of(fd);
    close(fd);
    return port;
}

Daemon::Daemon(const std::string& program, const std::vector<std::string>& args, const std::filesystem::path& log)
    : m_log(log) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    posix_spawnattr_t attributes;
    posix_spawnattr_init(&attributes);
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attributes, 0);
    std::vector<std::string> all{program};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : all)
        argv.push_back(a.data());
    argv.push_back(nullptr);
    int rc = posix_spawn(&m_pid, program.c_str(), &actions, &attributes, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    if (rc != 0)
        throw std::runtime_error("cannot start " + program + ": " + std::strerror(rc));
}

Daemon::~Daemon() { stop(); }

void Daemon::stop() {
    if (m_pid <= 0)
        return;
    kill(-m_pid, SIGTERM);
    int status = 0;
    waitpid(m_pid, &status, 0);
    m_pid = -1;
}

void Daemon::wait_for_port(int port, const std::string& what) {
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < until) {
        int fd = connect_to(port);
        if (fd >= 0) {
            close(fd);
            return;
        }
        int status = 0;
        if (waitpid(m_pid, &status, WNOHANG) == m_pid) {
            m_pid = -1;
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
                                        "PermitRootLogin prohibit-password\nLogLevel VERBOSE\n");
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

GitDaemon::GitDaemon(const std::filesystem::path& dir, const std::filesystem::path& root) : m_port(free_port()) {
    std::filesystem::create_directories(dir);
    m_daemon = std::make_unique<Daemon>("/usr/bin/git",
                                        std::vector<std::string>{"daemon", "--reuseaddr", "--listen=127.0.0.1",
                                                                 "--port=" + std::to_string(m_port),
                                                                 "--base-path=" + root.string(), "--export-all",
                                                                 root.string()},
                                        dir / "git-daemon.log");
    m_daemon->wait_for_port(m_port, "git daemon");
}

std::string HttpsServer::url_base() const { return "https://localhost:" + std::to_string(m_port) + "/git"; }

ConnectProxy::ConnectProxy() : m_listener(listener_on(0)), m_port(port_of(m_listener)) {
    m_thread = std::thread([this] { serve(); });
}

ConnectProxy::~ConnectProxy() {
    m_stop = true;
    m_thread.join();
    close(m_listener);
}

void ConnectProxy::serve() {
    std::vector<std::thread> tunnels;
    while (!m_stop) {
        pollfd p{m_listener, POLLIN, 0};
        if (poll(&p, 1, 100) <= 0)
            continue;
        int client = accept4(m_listener, nullptr, nullptr, SOCK_CLOEXEC);
        if (client < 0)
            continue;
        tunnels.emplace_back([this, client] {
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
            while (!m_stop) {
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
        });
    }
    for (auto& t : tunnels)
        t.join();
}

SilentServer::SilentServer() : m_listener(listener_on(0)), m_port(port_of(m_listener)) {}

SilentServer::~SilentServer() { close(m_listener); }

}  // namespace geo_ssf::test
