#include "common/atomic_file.hpp"

#include "common/error.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace geo_ssf {

namespace {

// Closes and, unless released, removes the temporary file.
class TemporaryFile {
public:
    explicit TemporaryFile(const std::filesystem::path& target) {
        auto folder = target.has_parent_path() ? target.parent_path() : std::filesystem::path(".");
        // Appended, not "." + name: GCC 12 warns falsely (-Wrestrict) on that at -O2 and above.
        std::string name = ".";
        name += target.filename().string();
        name += ".tmp-XXXXXX";
        m_path = (folder / name).string();
        m_fd = mkstemp(m_path.data());
        if (m_fd < 0)
            throw_errno(target, "cannot create a temporary file beside it");
    }
    ~TemporaryFile() {
        if (m_fd >= 0)
            ::close(m_fd);
        if (!m_released)
            ::unlink(m_path.c_str());
    }
    TemporaryFile(const TemporaryFile&) = delete;
    TemporaryFile& operator=(const TemporaryFile&) = delete;

    int fd() const { return m_fd; }
    const std::string& path() const { return m_path; }
    void close(const std::filesystem::path& target) {
        int fd = m_fd;
        m_fd = -1;
        if (::close(fd) != 0)
            throw_errno(target, "cannot write it");
    }
    void release() { m_released = true; }

    [[noreturn]] static void throw_errno(const std::filesystem::path& target, const std::string& what) {
        throw RuntimeError(target.string() + ": " + what + ": " + std::strerror(errno));
    }

private:
    std::string m_path;
    int m_fd = -1;
    bool m_released = false;
};

}  // namespace

void write_file_atomically(const std::filesystem::path& file, std::string_view content) {
    TemporaryFile temporary(file);
    const char* data = content.data();
    size_t left = content.size();
    while (left > 0) {
        ssize_t written = ::write(temporary.fd(), data, left);
        if (written < 0 && errno == EINTR)
            continue;
        if (written < 0)
            TemporaryFile::throw_errno(file, "cannot write it");
        data += written;
        left -= static_cast<size_t>(written);
    }
    // mkstemp makes the file 0600. A file replaced keeps its owner, group and mode (a collector
    // may read it through its group); a new one is 0644, for a collector running as another user.
    struct stat old {};
    mode_t mode = 0644;
    if (::stat(file.c_str(), &old) == 0 && S_ISREG(old.st_mode)) {
        mode = old.st_mode & 07777;
        if (::fchown(temporary.fd(), old.st_uid, old.st_gid) != 0 &&
            ::fchown(temporary.fd(), static_cast<uid_t>(-1), old.st_gid) != 0) {
            // Not allowed to give it that owner or group (not root, not a member): the mode still holds.
        }
    }
    if (::fchmod(temporary.fd(), mode) != 0 || ::fsync(temporary.fd()) != 0)
        TemporaryFile::throw_errno(file, "cannot write it");
    temporary.close(file);
    if (::rename(temporary.path().c_str(), file.c_str()) != 0)
        TemporaryFile::throw_errno(file, "cannot replace it");
    temporary.release();
    // The rename itself is durable once the folder is.
    auto folder = file.has_parent_path() ? file.parent_path() : std::filesystem::path(".");
    int dir = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir >= 0) {
        ::fsync(dir);
        ::close(dir);
    }
}

std::optional<std::string> read_file_if_exists(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in)
        return std::nullopt;
    std::stringstream text;
    text << in.rdbuf();
    if (in.bad())
        return std::nullopt;
    return text.str();
}

}  // namespace geo_ssf
