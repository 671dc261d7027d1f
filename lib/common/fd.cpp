#include "common/fd.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace geo_ssf {

std::string errno_text(int error) {
    return std::strerror(error);
}

FileDescriptor::~FileDescriptor() {
    if (m_fd >= 0)
        ::close(m_fd);
}

int read_file(int fd, std::string& out, size_t size_hint, size_t max_size) {
    size_t size = 0;
    out.resize(std::max(size_hint, out.capacity()));
    while (true) {
        ssize_t n = ::read(fd, out.data() + size, out.size() - size);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return errno;
        }
        size += static_cast<size_t>(n);
        if (size > max_size)
            return EFBIG;
        if (size < out.size())
            break;
        out.resize(2 * out.size());
    }
    out.resize(size);
    return 0;
}

}  // namespace geo_ssf
