// Plain POSIX file descriptors: one owner per descriptor, and whole-file reads.
#pragma once

#include <string>

namespace geo_ssf {

// strerror(ERROR) as a string.
std::string errno_text(int error);

// A file descriptor, closed at the end of its scope.
class FileDescriptor {
public:
    explicit FileDescriptor(int fd = -1) : m_fd(fd) {}
    ~FileDescriptor();
    FileDescriptor(const FileDescriptor&) = delete;
    FileDescriptor& operator=(const FileDescriptor&) = delete;
    FileDescriptor(FileDescriptor&& other) noexcept : m_fd(other.m_fd) { other.m_fd = -1; }
    int get() const { return m_fd; }

private:
    int m_fd;
};

// Reads FD, a regular file, into OUT (which keeps its capacity from one file to the next),
// starting with room for SIZE_HINT bytes. A read that does not fill the room has reached the
// end of the file (callers read files replaced by rename, never written in place), which saves
// the second read() that would only confirm it. Returns 0 or an errno value: EFBIG once more
// than MAX_SIZE bytes come, so that no file (a device behind a symbolic link) is read forever.
int read_file(int fd, std::string& out, size_t size_hint, size_t max_size);

}  // namespace geo_ssf
