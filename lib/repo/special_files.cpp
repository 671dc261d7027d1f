#include "repo/special_files.hpp"

#include "common/error.hpp"
#include "common/fd.hpp"
#include "repo/git.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <set>
#include <string>
#include <system_error>
#include <vector>

namespace geo_ssf {

namespace {

namespace fs = std::filesystem;

// The files a repository is opened with and its refs are read from; and in an object folder
// (the repository's objects/ and each of its alternates), those read to find objects.
constexpr const char* k_files_read[] = {"HEAD", "config", "commondir", "packed-refs", "shallow", "info/grafts"};
constexpr const char* k_object_files_read[] = {"info/alternates", "info/http-alternates", "info/commit-graph"};
// As libgit2's GIT_ALTERNATES_MAX_DEPTH: alternates of alternates are followed this deep.
constexpr int k_alternates_depth = 5;
constexpr size_t k_max_alternates_size = 64 * 1024;

// What TYPE makes a file that nothing may open; nullptr for a regular file, a folder, or none.
const char* special_kind(fs::file_type type) {
    switch (type) {
    case fs::file_type::fifo:
        return "a FIFO";
    case fs::file_type::socket:
        return "a socket";
    case fs::file_type::character:
        return "a character device";
    case fs::file_type::block:
        return "a block device";
    default:
        return nullptr;
    }
}

// FILE as BASE (the repository) sees it: relative inside it, whole outside it (an alternate).
[[noreturn]] void refuse(const fs::path& file, const fs::path& base, const char* kind) {
    fs::path relative = file.lexically_relative(base);
    fs::path name = relative.empty() || *relative.begin() == ".." ? file.lexically_normal() : relative;
    throw GitError(printable(name.string(), std::string::npos) + " is " + kind + ", not a regular file");
}

// The type of ENTRY, through a symbolic link (cached from the folder listing otherwise).
fs::file_type type_of(const fs::directory_entry& entry) {
    std::error_code ec;
    fs::file_type type = entry.symlink_status(ec).type();
    return type == fs::file_type::symlink ? entry.status(ec).type() : type;
}

// The object folders OBJECTS/info/alternates names, one a line (relative ones from OBJECTS),
// read without blocking; none when it cannot be read (libgit2 then says why).
std::vector<fs::path> alternates_of(const fs::path& objects) {
    FileDescriptor fd(::open((objects / "info" / "alternates").c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
    struct stat st;
    std::string text;
    if (fd.get() < 0 || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode) ||
        read_file(fd.get(), text, 256, k_max_alternates_size) != 0)
        return {};
    std::vector<fs::path> out;
    for (size_t at = 0; at < text.size();) {
        size_t end = std::min(text.find('\n', at), text.size());
        std::string line = text.substr(at, end - at);
        at = end + 1;
        if (line.empty() || line.front() == '#')
            continue;
        out.push_back(objects / line);  // an absolute LINE replaces OBJECTS
    }
    return out;
}

// The files of the object folder OBJECTS (named as BASE sees it) and of its alternates, each
// folder once (SEEN).
void refuse_special_object_files(const fs::path& objects, const fs::path& base, int depth, std::set<fs::path>& seen) {
    if (!seen.insert(objects.lexically_normal()).second)
        return;
    std::error_code ec;
    for (const char* name : k_object_files_read)
        if (const char* kind = special_kind(fs::status(objects / name, ec).type()))
            refuse(objects / name, base, kind);
    for (fs::directory_iterator it(objects / "pack", ec), end; !ec && it != end; it.increment(ec))
        if (const char* kind = special_kind(type_of(*it)))
            refuse(it->path(), base, kind);
    if (depth < k_alternates_depth)
        for (const fs::path& alternate : alternates_of(objects))
            refuse_special_object_files(alternate, base, depth + 1, seen);
}

}  // namespace

void refuse_special_files(const fs::path& gitdir) {
    std::error_code ec;
    for (const char* name : k_files_read)
        if (const char* kind = special_kind(fs::status(gitdir / name, ec).type()))
            refuse(gitdir / name, gitdir, kind);
    std::set<fs::path> seen;
    refuse_special_object_files(gitdir / "objects", gitdir, 0, seen);
}

void refuse_special_files_under(const fs::path& gitdir, std::string_view folder) {
    std::error_code ec;
    for (fs::recursive_directory_iterator it(gitdir / folder, fs::directory_options::skip_permission_denied, ec), end;
         !ec && it != end; it.increment(ec))
        if (const char* kind = special_kind(type_of(*it)))
            refuse(it->path(), gitdir, kind);
}

}  // namespace geo_ssf
