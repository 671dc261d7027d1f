// Files of a repository that nothing may open: a FIFO, a socket or a device where git and
// libgit2 expect a regular file. Opening a FIFO blocks until someone writes to it, reading a
// device may never end, and libgit2 does both on the calling thread, where neither a time bound
// nor a stop request reaches it. So these are looked for before libgit2 or git opens a
// repository, and the repository is refused, naming the file. The ref scanner (refs.hpp) checks
// the refs it reads itself, opening nothing that could block.
#pragma once

#include <filesystem>
#include <string_view>

namespace geo_ssf {

// A GitError ("packed-refs is a FIFO, not a regular file") naming the first file of the
// repository at GITDIR that opening it, listing its refs or finding its objects reads, and
// that is a FIFO, a socket or a device: HEAD, config, commondir, packed-refs, shallow,
// info/grafts, and in objects/ and each object folder its alternates name (as deep as libgit2
// follows them), info/alternates, info/http-alternates, info/commit-graph and the files of
// pack/. Symbolic links are followed, as git follows them; what is absent is no concern here.
void refuse_special_files(const std::filesystem::path& gitdir);

// The same for every file under GITDIR/FOLDER ("refs", "objects") at any depth: the loose refs
// that libgit2 and git open one by one to list the refs, the loose objects that a transfer
// copies. Folders reached through a symbolic link are not walked.
void refuse_special_files_under(const std::filesystem::path& gitdir, std::string_view folder);

}  // namespace geo_ssf
