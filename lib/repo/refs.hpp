// A repository's refs read the way git's files backend does (refs/files-backend.c and
// refs/packed-backend.c): loose refs and packed-refs, symbolic refs resolved, every name and
// id checked as git checks them. Not libgit2's reference iterator: it silently skips a loose ref
// it cannot parse, which would hide exactly the corruption verification exists to find, and it
// costs several times more system calls. libgit2 still opens the repository and its objects.
#pragma once

#include <git2.h>

#include <functional>
#include <string_view>

namespace geo_ssf {

inline constexpr std::string_view k_head = "HEAD";
inline constexpr std::string_view k_refs_prefix = "refs/";

// Receives each ref as (hex object id, name).
using RefVisitor = std::function<void(std::string_view hex_oid, std::string_view name)>;

// Visits the refs `git show-ref --head` lists, in its order (refs by name, then HEAD when it
// resolves), after checking that each points at an object in ODB. A corrupt ref, a bad name or
// a missing object is a GitError naming it.
void scan_refs(git_repository* repository, git_odb* odb, const RefVisitor& visit);

}  // namespace geo_ssf
