// Small RAII helpers for libgit2: one owning pointer type per handle, and one place where a
// negative libgit2 return becomes a GitError carrying libgit2's own message.
#pragma once

#include "common/error.hpp"

#include <git2.h>

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

namespace geo_ssf {

// A libgit2 call failed, or a repository is missing, unreadable or corrupt.
class GitError : public RuntimeError {
public:
    explicit GitError(const std::string& message) : RuntimeError(message) {}
};

inline constexpr char k_hex_digits[] = "0123456789abcdef";
inline constexpr size_t k_hex_size = 2 * GIT_OID_RAWSZ;  // a SHA-1 object id in hex

namespace git {

// libgit2's message for the last failure on this thread ("unknown libgit2 error" when it set
// none), without the trailing blanks some messages carry.
std::string last_error_message();

// Returns RC when it is not negative; otherwise throws GitError "<what>: <libgit2 message>".
int check(int rc, std::string_view what);

// git_libgit2_init() for the lifetime of the object. libgit2 counts these, so nesting is fine;
// every libgit2 call must happen while at least one is alive.
class Library {
public:
    Library() { git_libgit2_init(); }
    ~Library() { git_libgit2_shutdown(); }
    Library(const Library&) = delete;
    Library& operator=(const Library&) = delete;
};

template <typename T, void (*Free)(T*)>
struct Deleter {
    void operator()(T* handle) const noexcept { Free(handle); }
};

template <typename T, void (*Free)(T*)>
using Handle = std::unique_ptr<T, Deleter<T, Free>>;

using Repository = Handle<git_repository, git_repository_free>;
using Reference = Handle<git_reference, git_reference_free>;
using ReferenceIterator = Handle<git_reference_iterator, git_reference_iterator_free>;
using Odb = Handle<git_odb, git_odb_free>;
using OdbObject = Handle<git_odb_object, git_odb_object_free>;
using Object = Handle<git_object, git_object_free>;
using Commit = Handle<git_commit, git_commit_free>;
using Tree = Handle<git_tree, git_tree_free>;
using Tag = Handle<git_tag, git_tag_free>;
using Blob = Handle<git_blob, git_blob_free>;
using Signature = Handle<git_signature, git_signature_free>;
using Remote = Handle<git_remote, git_remote_free>;
using Config = Handle<git_config, git_config_free>;
using Index = Handle<git_index, git_index_free>;
using Revwalk = Handle<git_revwalk, git_revwalk_free>;
using Packbuilder = Handle<git_packbuilder, git_packbuilder_free>;
using Refdb = Handle<git_refdb, git_refdb_free>;

// A git_buf that libgit2 filled, disposed of at the end of its scope.
class Buffer {
public:
    Buffer() = default;
    ~Buffer() { git_buf_dispose(&m_buf); }
    Buffer(const Buffer&) = delete;
    Buffer& operator=(const Buffer&) = delete;
    git_buf* get() { return &m_buf; }
    std::string_view view() const { return m_buf.ptr ? std::string_view(m_buf.ptr, m_buf.size) : std::string_view(); }

private:
    git_buf m_buf = GIT_BUF_INIT;
};

// A git_strarray that libgit2 filled (remote and reference name lists).
class StrArray {
public:
    StrArray() = default;
    ~StrArray() { git_strarray_dispose(&m_array); }
    StrArray(const StrArray&) = delete;
    StrArray& operator=(const StrArray&) = delete;
    git_strarray* get() { return &m_array; }
    size_t size() const { return m_array.count; }
    std::string_view operator[](size_t i) const { return m_array.strings[i]; }

private:
    git_strarray m_array{nullptr, 0};
};

// Calls a libgit2 constructor of the form `int f(T** out, args...)` and returns the owned
// result, or throws GitError "<what>: <libgit2 message>".
//   auto odb = git::make<git::Odb>(git_repository_odb, "cannot open the object database", repo.get());
template <typename HandleType, typename Function, typename... Args>
HandleType make(Function function, std::string_view what, Args&&... args) {
    typename HandleType::pointer raw = nullptr;
    check(function(&raw, std::forward<Args>(args)...), what);
    return HandleType(raw);
}

// Opens the repository at exactly PATH (a bare repository, or a work tree with .git beneath
// it), reading its config as git does: no search in parent folders, which could silently open
// some other repository. A path that holds no repository throws GitError "repository does not
// exist"; one that exists but cannot be read says so.
Repository open_repository(const std::filesystem::path& path);

// Opens the bare repository (or .git folder) at exactly PATH for reading its refs and objects
// without reading any config file: git_repository_open_bare, the fast open for work on many
// repositories. It checks the layout (HEAD, objects/, refs/) but not the owner or the format
// version; pair it with open_odb, since repository_odb() would load the config after all.
// Errors as open_repository, and a work tree (PATH/.git) is "not a bare repository".
Repository open_bare_repository(const std::filesystem::path& path);

// The repository's object database (owned: freeing it does not free the repository).
Odb repository_odb(git_repository* repository);

// The object database in OBJECTS_DIR, alternates included, without any config.
Odb open_odb(const std::filesystem::path& objects_dir);

// The 40-character lowercase hex form of OID.
std::string oid_hex(const git_oid& oid);

}  // namespace git
}  // namespace geo_ssf
