#include "repo/refs.hpp"

#include "common/error.hpp"
#include "common/fd.hpp"
#include "repo/git.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
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
constexpr std::string_view k_lock_suffix = ".lock";
constexpr size_t k_sha256_hex_size = 64;

bool is_git_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// -1 for a byte that is no hex digit. A table: the checksum parses a hundred ids a repository.
constexpr std::array<signed char, 256> k_hex_values = [] {
    std::array<signed char, 256> values{};
    values.fill(-1);
    for (int i = 0; i < 10; ++i)
        values['0' + i] = static_cast<signed char>(i);
    for (int i = 0; i < 6; ++i) {
        values['a' + i] = static_cast<signed char>(10 + i);
        values['A' + i] = static_cast<signed char>(10 + i);
    }
    return values;
}();

int hex_value(char c) {
    return k_hex_values[static_cast<unsigned char>(c)];
}

// Exactly 40 hex digits (either case, as git accepts) into OID.
bool parse_oid(std::string_view hex, git_oid& oid) {
    if (hex.size() != k_hex_size)
        return false;
    for (size_t i = 0; i < GIT_OID_RAWSZ; ++i) {
        int high = hex_value(hex[2 * i]), low = hex_value(hex[2 * i + 1]);
        if (high < 0 || low < 0)
            return false;
        oid.id[i] = static_cast<unsigned char>(high << 4 | low);
    }
    return true;
}

// TEXT starts with a SHA-256 object id: a repository libgit2 1.5 cannot read.
bool starts_with_sha256_oid(std::string_view text) {
    if (text.size() < k_sha256_hex_size || (text.size() > k_sha256_hex_size && !is_git_space(text[k_sha256_hex_size])))
        return false;
    return std::all_of(text.begin(), text.begin() + k_sha256_hex_size, [](char c) { return hex_value(c) >= 0; });
}

void format_oid(const git_oid& oid, char (&hex)[k_hex_size]) {
    for (size_t i = 0; i < GIT_OID_RAWSZ; ++i) {
        hex[2 * i] = k_hex_digits[oid.id[i] >> 4];
        hex[2 * i + 1] = k_hex_digits[oid.id[i] & 0xf];
    }
}

// What a byte means in a ref name, after git's refname_disposition table.
enum class RefnameByte : unsigned char { ok, slash, dot, brace, bad };

constexpr std::array<RefnameByte, 256> k_refname_bytes = [] {
    std::array<RefnameByte, 256> bytes{};
    for (int c = 0; c < 0x20; ++c)
        bytes[c] = RefnameByte::bad;
    for (unsigned char c : {' ', '~', '^', ':', '?', '*', '[', '\\', '\x7f'})
        bytes[c] = RefnameByte::bad;
    bytes['/'] = RefnameByte::slash;
    bytes['.'] = RefnameByte::dot;
    bytes['{'] = RefnameByte::brace;
    return bytes;
}();

// git's check_refname_format(NAME, REFNAME_ALLOW_ONELEVEL): no empty component, none starting
// with '.' or ending with ".lock", no "..", "@{", control characters, space, ~^:?*[\, not "@"
// and not ending with '.'.
bool is_valid_refname(std::string_view name) {
    if (name.empty() || name == "@" || name.back() == '.')
        return false;
    size_t component_start = 0;
    char last = '\0';
    for (size_t i = 0; i <= name.size(); ++i) {
        RefnameByte kind = i == name.size() ? RefnameByte::slash : k_refname_bytes[static_cast<unsigned char>(name[i])];
        switch (kind) {
        case RefnameByte::ok:
            break;
        case RefnameByte::bad:
            return false;
        case RefnameByte::dot:
            if (last == '.')
                return false;
            break;
        case RefnameByte::brace:
            if (last == '@')
                return false;
            break;
        case RefnameByte::slash: {
            std::string_view component = name.substr(component_start, i - component_start);
            if (component.empty() || component.front() == '.' || component.ends_with(k_lock_suffix))
                return false;
            component_start = i + 1;
            last = '\0';
            continue;
        }
        }
        last = name[i];
    }
    return true;
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

struct PackedRef {
    std::string_view name;
    git_oid oid;
};

// What a loose ref file (or HEAD) says: an object id, or "ref: <target>".
struct RefContent {
    bool valid = false;
    bool symbolic = false;
    git_oid oid{};
    std::string_view target;
};

// git's parse_loose_ref_contents over the file with its trailing blanks removed.
RefContent parse_ref_content(std::string_view text) {
    while (!text.empty() && is_git_space(text.back()))
        text.remove_suffix(1);
    RefContent content;
    if (text.starts_with("ref:")) {
        text.remove_prefix(4);
        while (!text.empty() && is_git_space(text.front()))
            text.remove_prefix(1);
        content.valid = true;
        content.symbolic = true;
        content.target = text;
        return content;
    }
    content.valid = text.size() >= k_hex_size && parse_oid(text.substr(0, k_hex_size), content.oid) &&
                    (text.size() == k_hex_size || is_git_space(text[k_hex_size]));
    return content;
}

[[noreturn]] void throw_corrupt_ref(std::string_view name, std::string_view text) {
    if (starts_with_sha256_oid(text))
        throw GitError("reference " + printable(name) + " holds a SHA-256 object id: SHA-256 repositories are not supported");
    throw GitError("corrupt reference " + printable(name) + ": neither an object id nor a symbolic reference");
}

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
            if (type == DT_UNKNOWN || type == DT_LNK) {
                // git follows symbolic links here, and ignores what it cannot stat.
                struct stat st;
                if (::fstatat(dir.get(), entry->d_name, &st, 0) != 0)
                    continue;
                type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : DT_UNKNOWN;
            }
            name.resize(prefix_size);
            name.append(file);
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
        FileDescriptor fd(::openat(dir_fd, file, O_RDONLY | O_CLOEXEC));
        if (fd.get() < 0 && errno == ENOENT)  // deleted (or packed) meanwhile; packed-refs is read next
            return;
        int error = fd.get() < 0 ? errno : read_file(fd.get(), m_file, 256);
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

    // packed-refs: an optional "# pack-refs with:" header, then "<oid> <name>" lines, each
    // optionally followed by a "^<oid>" line with the peeled object. Anything else is corrupt.
    // Reads packed-refs into m_packed_text; false when there is none.
    bool read_packed_refs_file() {
        FileDescriptor fd(::openat(m_commondir.get(), "packed-refs", O_RDONLY | O_CLOEXEC));
        if (fd.get() < 0 && errno == ENOENT)
            return false;
        int error = fd.get() < 0 ? errno : 0;
        struct stat st;
        if (!error && ::fstat(fd.get(), &st) != 0)
            error = errno;
        if (!error)
            error = read_file(fd.get(), m_packed_text, static_cast<size_t>(st.st_size) + 1);
        if (error)
            throw GitError("cannot read packed-refs: " + errno_text(error));
        return true;
    }

    void read_packed_refs() {
        if (!read_packed_refs_file())
            return;
        std::string_view text = m_packed_text;
        size_t line_number = 0;
        bool after_ref = false;
        auto corrupt = [&](const std::string& why) {
            return GitError("corrupt packed-refs, line " + std::to_string(line_number) + ": " + why);
        };
        m_packed.reserve(text.size() / 64);
        while (!text.empty()) {
            ++line_number;
            size_t end = text.find('\n');
            if (end == std::string_view::npos)
                throw corrupt("unterminated line");
            std::string_view line = text.substr(0, end);
            text.remove_prefix(end + 1);
            if (line_number == 1 && line.starts_with('#')) {
                if (!line.starts_with("# pack-refs with:"))
                    throw corrupt("unexpected header");
                continue;
            }
            git_oid oid;
            if (line.starts_with('^')) {
                if (!after_ref || !parse_oid(line.substr(1), oid))
                    throw corrupt("unexpected peeled line");
                after_ref = false;
                continue;
            }
            if (line.size() < k_hex_size + 2 || !parse_oid(line.substr(0, k_hex_size), oid) ||
                !is_git_space(line[k_hex_size])) {
                if (starts_with_sha256_oid(line))
                    throw corrupt("a SHA-256 object id: SHA-256 repositories are not supported");
                throw corrupt("not \"<object id> <reference>\"");
            }
            std::string_view name = line.substr(k_hex_size + 1);
            if (!is_valid_refname(name))
                throw corrupt("invalid reference name '" + printable(name) + "'");
            m_packed.push_back({name, oid});
            after_ref = true;
        }

        // git writes packed-refs sorted; sort anyway so lookups can bisect, and refuse
        // duplicates, whose lines would cancel out in the checksum.
        auto by_name = [](const PackedRef& a, const PackedRef& b) { return a.name < b.name; };
        if (!std::is_sorted(m_packed.begin(), m_packed.end(), by_name))
            std::sort(m_packed.begin(), m_packed.end(), by_name);
        auto duplicate = std::adjacent_find(m_packed.begin(), m_packed.end(),
                                            [](const PackedRef& a, const PackedRef& b) { return a.name == b.name; });
        if (duplicate != m_packed.end())
            throw GitError("corrupt packed-refs: " + printable(duplicate->name) + " is listed twice");
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
        FileDescriptor fd(::openat(m_gitdir.get(), file.c_str(), O_RDONLY | O_CLOEXEC));
        if (fd.get() < 0 && (errno == ENOENT || errno == ENOTDIR))
            return false;
        int error = fd.get() < 0 ? errno : read_file(fd.get(), m_file, 256);
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
