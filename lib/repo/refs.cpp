#include "repo/refs.hpp"

#include "common/error.hpp"
#include "common/fd.hpp"
#include "repo/git.hpp"
#include "repo/packed_refs.hpp"
#include "repo/ref_names.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <deque>
#include <optional>
#include <string>
#include <vector>

namespace geo_ssf {

namespace {

constexpr int k_max_symref_hops = 4;  // git's SYMREF_MAXDEPTH: five reads, the ref's own included
// A loose ref holds an object id or "ref: <name>": a file larger than this is no ref.
constexpr size_t k_max_ref_file_size = 64 * 1024;

// What MODE makes a file that nothing may open (a FIFO would block the read, a device may never
// end); nullptr for a regular file or a folder.
const char* special_kind(mode_t mode) {
    if (S_ISFIFO(mode))
        return "a FIFO";
    if (S_ISSOCK(mode))
        return "a socket";
    if (S_ISCHR(mode))
        return "a character device";
    if (S_ISBLK(mode))
        return "a block device";
    return nullptr;
}

[[noreturn]] void throw_special(std::string_view name, const char* kind) {
    throw GitError(printable(name) + " is " + kind + ", not a regular file");
}

// Opens FILE in the folder DIR_FD for reading without ever blocking: a FIFO put in a ref's place
// opens at once, and reads as empty (a corrupt ref) rather than waiting for a writer.
int open_for_reading(int dir_fd, const char* file) {
    return ::openat(dir_fd, file, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
}

// 0 when FD is a regular file; else throws what it is, naming it NAME, or returns the errno.
int require_regular_file(int fd, std::string_view name, struct stat& st) {
    if (::fstat(fd, &st) != 0)
        return errno;
    if (const char* kind = special_kind(st.st_mode))
        throw_special(name, kind);
    return S_ISDIR(st.st_mode) ? EISDIR : 0;
}

// One loose ref; names and targets live in RefScan's arena, as offsets so the arena can grow.
struct LooseRef {
    uint32_t name_at;
    uint32_t name_size;
    uint32_t target_at;  // symbolic refs: the target's name
    uint32_t target_size;
    bool symbolic;
    git_oid oid;
};

// The refs of one repository as `git show-ref --head` sees them, checked and checksummed.
class RefScan {
public:
    RefScan(git_repository* repository, git_odb* odb)
        : m_odb(odb),
          m_gitdir(open_directory(AT_FDCWD, git_repository_path(repository), "the repository")),
          m_commondir(open_common_directory(repository, m_gitdir.get())) {}

    void run(const RefVisitor& visit) {
        // Loose refs first, then packed-refs, as git reads them: a ref that `git pack-refs`
        // moves meanwhile is then found in one place or the other.
        std::string name(k_refs_prefix);
        walk(open_directory(m_commondir.get(), "refs", "refs"), name, 0);
        read_packed_refs();
        std::sort(m_loose.begin(), m_loose.end(),
                  [this](const LooseRef& a, const LooseRef& b) { return loose_name(a) < loose_name(b); });

        for (const LooseRef& ref : m_loose) {
            std::optional<git_oid> oid = ref.symbolic ? resolve(loose_name(ref), loose_target(ref)) : ref.oid;
            if (oid)  // a symbolic ref to a ref that does not exist is left out, as git does
                add(visit, loose_name(ref), *oid);
        }
        for (const PackedRef& ref : m_packed)
            if (!find_loose(ref.name))  // a loose ref shadows its packed copy
                add(visit, ref.name, ref.oid);
        add_head(visit);
    }

private:
    static int open_directory(int at, const char* path, std::string_view what) {
        int fd = ::openat(at, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
            throw GitError("cannot read " + std::string(what) + ": " + errno_text(errno));
        return fd;
    }

    static int open_common_directory(git_repository* repository, int gitdir) {
        const char* commondir = git_repository_commondir(repository);
        if (commondir && std::strcmp(commondir, git_repository_path(repository)) != 0)
            return open_directory(AT_FDCWD, commondir, "the repository's common folder");
        int fd = ::fcntl(gitdir, F_DUPFD_CLOEXEC, 0);
        if (fd < 0)
            throw GitError("cannot read the repository: " + errno_text(errno));
        return fd;
    }

    std::string_view loose_name(const LooseRef& ref) const {
        return std::string_view(m_arena).substr(ref.name_at, ref.name_size);
    }
    std::string_view loose_target(const LooseRef& ref) const {
        return std::string_view(m_arena).substr(ref.target_at, ref.target_size);
    }

    // Lists the folder DIR_FD into the listing buffer for DEPTH (getdents64 straight, which
    // saves the three system calls fdopendir costs); returns the bytes used.
    size_t list_directory(int dir_fd, size_t depth, std::string_view name) {
        if (m_listings.size() <= depth)
            m_listings.emplace_back(16 * 1024);
        std::vector<char>& listing = m_listings[depth];
        size_t used = 0;
        while (true) {
            if (listing.size() - used < 2 * sizeof(dirent64))
                listing.resize(2 * listing.size());
            ssize_t n = ::getdents64(dir_fd, listing.data() + used, listing.size() - used);
            if (n < 0) {
                if (errno == EINTR)
                    continue;
                throw GitError("cannot read " + printable(name) + ": " + errno_text(errno));
            }
            if (n == 0)
                return used;
            used += static_cast<size_t>(n);
        }
    }

    // Every file under refs/ is a ref, except dot-files and *.lock, which git skips too.
    void walk(int dir_fd, std::string& name, size_t depth) {
        FileDescriptor dir(dir_fd);
        const size_t used = list_directory(dir.get(), depth, name);
        const char* listing = m_listings[depth].data();
        const size_t prefix_size = name.size();
        for (size_t at = 0; at < used;) {
            const auto* entry = reinterpret_cast<const dirent64*>(listing + at);
            at += entry->d_reclen;
            std::string_view file = entry->d_name;
            if (file.front() == '.' || file.ends_with(k_lock_suffix))
                continue;
            unsigned char type = entry->d_type;
            const char* kind = nullptr;
            if (type == DT_UNKNOWN || type == DT_LNK) {
                // git follows symbolic links here, and ignores what it cannot stat.
                struct stat st;
                if (::fstatat(dir.get(), entry->d_name, &st, 0) != 0)
                    continue;
                type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : DT_UNKNOWN;
                kind = special_kind(st.st_mode);
            } else if (type != DT_DIR && type != DT_REG) {
                kind = type == DT_FIFO ? "a FIFO" : type == DT_SOCK ? "a socket" : "a device";
            }
            name.resize(prefix_size);
            name.append(file);
            if (kind)
                throw_special(name, kind);
            if (type == DT_DIR) {
                int sub = ::openat(dir.get(), entry->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (sub < 0) {
                    if (errno == ENOENT)  // deleted meanwhile
                        continue;
                    throw GitError("cannot read " + printable(name) + ": " + errno_text(errno));
                }
                name.push_back('/');
                walk(sub, name, depth + 1);
            } else if (type == DT_REG) {
                read_loose_ref(dir.get(), entry->d_name, name);
            }
        }
        name.resize(prefix_size);
    }

    void read_loose_ref(int dir_fd, const char* file, std::string_view name) {
        if (!is_valid_refname(name))
            throw GitError("invalid reference name '" + printable(name) + "'");
        FileDescriptor fd(open_for_reading(dir_fd, file));
        if (fd.get() < 0 && errno == ENOENT)  // deleted (or packed) meanwhile; packed-refs is read next
            return;
        int error = fd.get() < 0 ? errno : read_file(fd.get(), m_file, 256, k_max_ref_file_size);
        if (error)
            throw GitError("cannot read reference " + printable(name) + ": " + errno_text(error));
        RefContent content = parse_ref_content(m_file);
        if (!content.valid)
            throw_corrupt_ref(name, m_file);

        LooseRef ref{};
        ref.name_at = static_cast<uint32_t>(m_arena.size());
        ref.name_size = static_cast<uint32_t>(name.size());
        m_arena.append(name);
        ref.symbolic = content.symbolic;
        ref.oid = content.oid;
        if (content.symbolic) {
            ref.target_at = static_cast<uint32_t>(m_arena.size());
            ref.target_size = static_cast<uint32_t>(content.target.size());
            m_arena.append(content.target);
        }
        m_loose.push_back(ref);
    }

    // Reads packed-refs into m_packed_text and parses it; none is no ref.
    void read_packed_refs() {
        FileDescriptor fd(open_for_reading(m_commondir.get(), "packed-refs"));
        if (fd.get() < 0 && errno == ENOENT)
            return;
        int error = fd.get() < 0 ? errno : 0;
        struct stat st;
        if (!error)
            error = require_regular_file(fd.get(), "packed-refs", st);
        if (!error)  // a regular file ends; one that grows while it is read is cut at twice its size
            error = read_file(fd.get(), m_packed_text, static_cast<size_t>(st.st_size) + 1,
                              2 * static_cast<size_t>(st.st_size) + k_max_ref_file_size);
        if (error)
            throw GitError("cannot read packed-refs: " + errno_text(error));
        m_packed = parse_packed_refs(m_packed_text);
    }

    const LooseRef* find_loose(std::string_view name) const {
        auto it = std::lower_bound(m_loose.begin(), m_loose.end(), name,
                                   [this](const LooseRef& ref, std::string_view n) { return loose_name(ref) < n; });
        return it != m_loose.end() && loose_name(*it) == name ? &*it : nullptr;
    }

    const PackedRef* find_packed(std::string_view name) const {
        auto it = std::lower_bound(m_packed.begin(), m_packed.end(), name,
                                   [](const PackedRef& ref, std::string_view n) { return ref.name < n; });
        return it != m_packed.end() && it->name == name ? &*it : nullptr;
    }

    // Follows the symbolic ref REFERRER to TARGET and on to an object id, as git resolves it.
    // nullopt: the chain ends at a ref that does not exist (git leaves such a ref out).
    std::optional<git_oid> resolve(std::string_view referrer, std::string_view target) {
        std::string next;  // the target of the current hop, copied out of reused buffers
        for (int hop = 1;; ++hop) {
            if (!is_valid_refname(target))
                throw GitError("symbolic reference " + printable(referrer) + " points at an invalid name '" +
                               printable(target) + "'");
            RefContent content;
            if (const LooseRef* loose = find_loose(target)) {
                content.valid = true;
                content.symbolic = loose->symbolic;
                content.oid = loose->oid;
                content.target = loose_target(*loose);
            } else if (!target.starts_with(k_refs_prefix) && read_root_ref(target)) {
                // HEAD and its kind live beside refs/, not under it.
                content = parse_ref_content(m_file);
                if (!content.valid)
                    throw_corrupt_ref(target, m_file);
            } else if (const PackedRef* packed = find_packed(target)) {
                return packed->oid;
            } else {
                return std::nullopt;
            }
            if (!content.symbolic)
                return content.oid;
            if (hop == k_max_symref_hops)
                throw GitError("symbolic reference " + printable(referrer) + ": too many levels of symbolic references");
            next.assign(content.target);
            target = next;
        }
    }

    // Reads the root ref NAME (HEAD, FETCH_HEAD...) into m_file; false when there is none.
    bool read_root_ref(std::string_view name) {
        std::string file(name);
        FileDescriptor fd(open_for_reading(m_gitdir.get(), file.c_str()));
        if (fd.get() < 0 && (errno == ENOENT || errno == ENOTDIR))
            return false;
        int error = fd.get() < 0 ? errno : 0;
        struct stat st;
        if (!error)
            error = require_regular_file(fd.get(), name, st);
        if (!error)
            error = read_file(fd.get(), m_file, 256, k_max_ref_file_size);
        if (error)
            throw GitError("cannot read " + printable(name) + ": " + errno_text(error));
        return true;
    }

    // HEAD is listed (as "HEAD", with the resolved id) only when it resolves.
    void add_head(const RefVisitor& visit) {
        if (!read_root_ref(k_head))
            throw GitError("repository does not exist");  // libgit2 opened it, so HEAD went away meanwhile
        RefContent content = parse_ref_content(m_file);
        if (!content.valid)
            throw_corrupt_ref(k_head, m_file);
        std::optional<git_oid> oid = content.oid;
        if (content.symbolic) {
            std::string target(content.target);  // m_file is reused while resolving
            oid = resolve(k_head, target);
        }
        if (oid)
            add(visit, k_head, *oid);
    }

    void add(const RefVisitor& visit, std::string_view name, const git_oid& oid) {
        char hex[k_hex_size];
        format_oid(oid, hex);
        // Refs often share an object; one lookup is enough for a run of them.
        if (!m_last_found || git_oid_cmp(&*m_last_found, &oid) != 0) {
            int found = git_odb_exists(m_odb, &oid);
            if (found == 0)
                throw GitError("reference " + printable(name) + " points at a missing object " +
                               std::string(hex, k_hex_size));
            m_last_found = oid;
        }
        visit(std::string_view(hex, k_hex_size), name);
    }

    git_odb* m_odb;
    FileDescriptor m_gitdir;     // HEAD and the other root refs
    FileDescriptor m_commondir;  // refs/ and packed-refs (not m_gitdir only in a linked work tree)
    std::deque<std::vector<char>> m_listings;  // one folder listing per depth under refs/
    std::string m_arena;                       // names and targets of loose refs
    std::vector<LooseRef> m_loose;
    std::string m_packed_text;
    std::vector<PackedRef> m_packed;  // views into m_packed_text
    std::string m_file;               // the last loose ref file read
    std::optional<git_oid> m_last_found;
};

}  // namespace

void scan_refs(git_repository* repository, git_odb* odb, const RefVisitor& visit) {
    RefScan(repository, odb).run(visit);
}

}  // namespace geo_ssf
