// A file:// or plain-path primary whose repositories belong to another user, as on a shared or
// NFS storage owned by the application's user (git) while geo-ssf runs as its own: git and
// libgit2 refuse to read another user's repository ("dubious ownership") unless told to trust
// it. geo-ssf trusts the primary's repositories only when storage.trust_primary_owner says so,
// and otherwise refuses them itself, naming both users and the setting.
#pragma once

#include "repo/git_program.hpp"
#include "site/transport_settings.hpp"

#include <filesystem>
#include <string>

namespace geo_ssf {

// Throws GitError naming REPOSITORY's owner, the user geo-ssf runs as and
// storage.trust_primary_owner when another user owns REPOSITORY and TRANSPORT does not trust
// that; when it does, libgit2 checks no owner from then on (a setting of the whole process).
// A REPOSITORY that cannot be looked at is left to the open that follows to report.
void require_trusted_owner(const std::filesystem::path& repository, const TransportSettings& transport);

// What the git program needs to read a repository another user owns when TRANSPORT trusts it:
// a global configuration of geo-ssf's own that sets safe.directory to "*" (git honours
// safe.directory in its system and global files only, and geo-ssf runs git with neither).
// Empty otherwise, or when that file cannot be written (git then refuses, saying why).
GitSetup trusted_owner_setup(const TransportSettings& transport);

// For check: the refs of the local primary repository at URL, read as sync reads them (its
// owner, libgit2, then `git ls-remote` when the git program does the transfers).
struct LocalPrimaryProbe {
    bool readable = false;
    std::string detail;  // "<path>: N refs", or why it cannot be read
};
LocalPrimaryProbe probe_local_primary(const std::string& url, const TransportSettings& transport);

}  // namespace geo_ssf
