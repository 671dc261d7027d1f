// Gitaly's repository checksum (CalculateChecksum), byte for byte, computed in-process.
//
// Over the lines `git show-ref --head` prints ("<hex oid> <refname>"), keep those the
// unanchored regex HEAD|(refs/(heads|tags|keep-around|merge-requests|environments|notes)/)
// matches, SHA-1 each line (no newline), XOR the digests, and print the XOR as lowercase hex
// without its leading zero bytes (40 zeros when it is zero): Gitaly's internal/git/checksum.go.
#pragma once

#include <openssl/types.h>

#include <array>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

namespace geo_ssf {

// Gitaly's ZeroChecksum: what an empty repository (no refs) gives.
inline constexpr std::string_view k_zero_checksum = "0000000000000000000000000000000000000000";

using ChecksumDigest = std::array<unsigned char, 20>;

// Whether Gitaly counts a show-ref LINE: the unanchored regex above, matched anywhere in the
// line. So any line containing "HEAD" counts, refs/remotes/origin/HEAD included.
bool checksum_counts_line(std::string_view line);

// Gitaly's text for an XOR of digests: minimal big-endian hex (leading zero bytes dropped, so
// 38 characters when the first byte is zero), or k_zero_checksum when every byte is zero.
std::string format_checksum(const ChecksumDigest& sum);

// The pure part of the checksum: feed it show-ref lines, read the result.
class ChecksumAccumulator {
public:
    ChecksumAccumulator();
    ~ChecksumAccumulator();
    ChecksumAccumulator(ChecksumAccumulator&&) noexcept;
    ChecksumAccumulator& operator=(ChecksumAccumulator&&) noexcept;

    // Counts LINE ("<hex oid> <refname>", no newline) if Gitaly's filter keeps it; returns
    // whether it did.
    bool add_line(std::string_view line);
    // add_line(HEX_OID + " " + REFNAME), without building the line.
    bool add_ref(std::string_view hex_oid, std::string_view refname);

    const ChecksumDigest& sum() const { return m_sum; }
    std::string checksum() const { return format_checksum(m_sum); }

private:
    void add_digest(std::string_view hex_oid, std::string_view separator, std::string_view refname);

    struct ContextDeleter {
        void operator()(EVP_MD_CTX* context) const noexcept;
    };
    ChecksumDigest m_sum{};
    std::unique_ptr<EVP_MD_CTX, ContextDeleter> m_context;  // reused: one allocation per checksum
};

// The checksum of `git show-ref --head` OUTPUT (lines separated by '\n').
std::string checksum_of_show_ref(std::string_view output);

// The checksum of the Git repository at REPOSITORY (a bare repository, or a .git folder), over
// the refs `git show-ref --head` would list: HEAD when it resolves, every loose and packed ref,
// symbolic refs resolved (a symbolic ref to a ref that does not exist is left out, as git
// does), annotated tags not peeled. Reads the refs itself and checks with libgit2 that every
// ref's object exists. Throws GitError (lib/git.hpp) when the repository does not exist
// ("repository does not exist"), is a work tree rather than a repository, cannot be read, holds
// a FIFO, a socket or a device where a file is read (special_files.hpp), or has a corrupt ref or
// a ref to a missing object, naming the ref: better than Gitaly, which returns the zero checksum
// then.
// Needs git::Library alive; safe to call on several threads at once.
std::string repository_checksum(const std::filesystem::path& repository);

}  // namespace geo_ssf
