// Mirroring one repository from the primary: a bare mirror clone when it is absent here,
// otherwise a forced, pruning fetch of every ref (+refs/*:refs/*); then HEAD follows the
// primary's default branch. The fetcher (fetcher.hpp) transfers; a new copy is built in a
// staging folder (staging.hpp); refs are kept packed (packed_refs.hpp).
#pragma once

#include "site/transport_settings.hpp"

#include <filesystem>
#include <optional>
#include <string>

namespace geo_ssf {

// Where the primary's copy of RELATIVE_PATH is fetched from: PRIMARY_URL (file://, https://,
// ssh://, or a plain path) joined with the relative path.
std::string primary_repository_url(const std::string& primary_url, const std::string& relative_path);

// For a file:// or plain-path PRIMARY_URL, refuses RELATIVE_PATH as the primary's own verify
// refuses it (storage.hpp's repository_location: a symbolic link out of its storage root, ...),
// so that a secondary copies nothing from outside the primary's storage: a RuntimeError "the
// primary's repository path ... is refused: ...". Nothing for a network primary.
void check_primary_repository_path(const std::string& primary_url, const std::string& relative_path);

// Whether MESSAGE, of a failed transfer from the network primary URL, says the primary has no
// such repository: "not found", "does not exist", "does not appear to be a git repository", or
// an HTTP 404. URL is taken out first: a failure of any kind names it, and ".../1404.git" is no
// answer.
bool looks_like_not_found(std::string message, const std::string& url);

struct MirrorResult {
    bool missing_on_primary = false;  // nothing to fetch: the primary has no such repository
    bool cloned = false;              // made afresh rather than fetched into
};

// Brings TARGET (under STORAGE_ROOT) up to date with SOURCE_URL. A new or replaced copy is
// built in STORAGE_ROOT/.geo-ssf-tmp and renamed into place, so TARGET is never a half-written
// repository; a copy that a fetch cannot repair (corrupt, objects missing) is replaced by a
// fresh clone. A network URL is reached as TRANSPORT says (keys, host keys, CA, credentials,
// timeouts). A primary advertising more than MAX_REFS refs is refused (TooManyRefsError, in
// fetcher.hpp) before anything is written, as is a local primary that no copy could match or
// that nothing may read (UncopyablePrimaryError): a work tree, a shallow repository, one holding
// a FIFO, a socket or a device where git reads a file (special_files.hpp). The copy's refs are
// kept in packed-refs: all of them in a fresh copy, and in one fetched into once its loose refs
// (those changed since) outgrow a bound that scales with packed-refs. With POOL (a pool copy, up
// to date), the copy borrows its objects (pools.hpp); without, a copy that borrowed is made
// self-contained. Throws GitError with the reason on failure.
MirrorResult mirror_repository(const std::string& source_url, const std::filesystem::path& target,
                               const std::filesystem::path& storage_root, const TransportSettings& transport,
                               long long max_refs, const std::optional<std::filesystem::path>& pool = std::nullopt);

}  // namespace geo_ssf
