// packed-refs, the one file that holds many refs of a repository: read with the checks git's
// packed-refs backend makes, written from what a primary advertises, and how a copy's refs are
// kept packed (Gitaly's housekeeping rule), since a ref per file costs a block of disk and a
// system call per ref to read.
#pragma once

#include <git2.h>

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace geo_ssf {

struct PackedRef {
    std::string_view name;  // a view into the text parsed
    git_oid oid;
};

// The refs of packed-refs TEXT, sorted by name: an optional "# pack-refs with:" header, then
// "<oid> <name>" lines, each optionally followed by a "^<oid>" line with the peeled object.
// Anything else, an invalid name or a name listed twice (its lines would cancel out in the
// checksum) is a GitError "corrupt packed-refs, line N: ...".
std::vector<PackedRef> parse_packed_refs(std::string_view text);

// One ref as a primary advertises it: its object id and, for an annotated tag, the id of the
// object it peels to (else empty), both in hex.
struct AdvertisedRef {
    std::string oid;
    std::string peeled;
};

// packed-refs text for REFS (by name), sorted as git sorts it, peeled lines included. Not
// "fully-peeled": a tag under another namespace than refs/tags/ may be advertised unpeeled, so
// git and libgit2 peel those themselves.
std::string packed_refs_text(const std::map<std::string, AdvertisedRef>& refs);

// Writes GITDIR/packed-refs with TEXT; a GitError when it cannot.
void write_packed_refs(const std::filesystem::path& gitdir, const std::string& text);

// How many loose refs a copy may keep before they are packed: Gitaly's housekeeping rule
// (max(16, log base 1.15 of packed-refs' size / 100)), since packing rewrites packed-refs whole:
// 16 beside a small file, about 80 beside the 6 MB of 100,000 refs.
size_t loose_refs_allowed(const std::filesystem::path& gitdir);

// Packs the loose refs of REPOSITORY (at GITDIR) once they outgrow loose_refs_allowed, as
// `git pack-refs --all` does, and removes the folders under refs/ that are left empty.
void keep_refs_packed(git_repository* repository, const std::filesystem::path& gitdir);

}  // namespace geo_ssf
