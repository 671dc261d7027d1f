#include "repo/socket_stream.hpp"

#include "repo/git.hpp"
#include "repo/watchdog.hpp"

#include <fcntl.h>
#include <git2.h>
#include <git2/sys/stream.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <optional>
#include <string>

namespace geo_ssf {

namespace {

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

// Waits until FD is ready for EVENTS within the current watch's bounds; -1 with libgit2's error
// set when it is not, naming the bound the wait was for.
int wait_for(int fd, short events, const char* doing) {
    Watch* watch = current_watch();
    while (true) {
        std::optional<WatchWait> wait;
        if (watch)
            wait = wait_budget(WatchClock::now(), watch->deadline, watch->stall);
        pollfd p{fd, events, 0};
        int rc = poll(&p, 1, wait ? static_cast<int>(wait->timeout.count()) : -1);
        if (rc > 0)
            return 0;
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc < 0)
            return stream_error(std::string("poll failed: ") + std::strerror(errno));
        if (!wait->bound)
            continue;  // a long wait, cut short: not at a bound yet
        std::string reason = watch->reason(*wait->bound);
        if (*wait->bound == WatchBound::stall)
            reason += std::string(" while ") + doing;
        Watchdog::instance().expire(watch, reason);
        return stream_error(reason);
    }
}

int stream_connect(git_stream* base) {
    auto* stream = reinterpret_cast<SocketStream*>(base);
    Watch* watch = current_watch();
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
        if (watch)
            Watchdog::instance().add_socket(watch, fd);
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
            if (watch)
                watch->touch();
            return 0;
        }
        if (errno)
            failure = std::strerror(errno);
        if (watch)
            Watchdog::instance().remove_socket(watch, fd);
        close(fd);
        if (watch && watch->out_of_time)
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
    if (Watch* watch = current_watch(); watch && n > 0)
        watch->touch();
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
        if (Watch* watch = current_watch())
            Watchdog::instance().remove_socket(watch, stream->s);
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

}  // namespace

void install_socket_stream() {
    static std::once_flag once;
    std::call_once(once, [] {
        git_stream_registration registration{};
        registration.version = GIT_STREAM_VERSION;
        registration.init = stream_new;
        git::check(git_stream_register(GIT_STREAM_STANDARD, &registration), "cannot register the network stream");
    });
}

}  // namespace geo_ssf
