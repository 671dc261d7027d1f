#include "repo/checksum.hpp"

#include "common/error.hpp"
#include "repo/git.hpp"
#include "repo/refs.hpp"
#include "repo/special_files.hpp"

#include <openssl/evp.h>

#include <new>

namespace geo_ssf {

namespace {

constexpr std::string_view k_counted_namespaces[] = {"heads/",         "tags/",        "keep-around/",
                                                     "merge-requests/", "environments/", "notes/"};

// Fetched once: letting OpenSSL 3 look SHA-1 up on every digest costs more than the digest.
const EVP_MD* sha1() {
    static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA1", nullptr);
    if (!md)
        throw RuntimeError("OpenSSL provides no SHA-1");
    return md;
}

}  // namespace

bool checksum_counts_line(std::string_view line) {
    if (line.find(k_head) != std::string_view::npos)
        return true;
    for (size_t at = line.find(k_refs_prefix); at != std::string_view::npos; at = line.find(k_refs_prefix, at + 1)) {
        std::string_view rest = line.substr(at + k_refs_prefix.size());
        for (std::string_view name : k_counted_namespaces)
            if (rest.starts_with(name))
                return true;
    }
    return false;
}

std::string format_checksum(const ChecksumDigest& sum) {
    // Gitaly prints big.Int.Bytes(): the minimal big-endian encoding, without leading zero bytes.
    size_t first = 0;
    while (first < sum.size() && sum[first] == 0)
        ++first;
    if (first == sum.size())
        return std::string(k_zero_checksum);
    std::string hex;
    hex.reserve(2 * (sum.size() - first));
    for (size_t i = first; i < sum.size(); ++i) {
        hex.push_back(k_hex_digits[sum[i] >> 4]);
        hex.push_back(k_hex_digits[sum[i] & 0xf]);
    }
    return hex;
}

void ChecksumAccumulator::ContextDeleter::operator()(EVP_MD_CTX* context) const noexcept {
    EVP_MD_CTX_free(context);
}

ChecksumAccumulator::ChecksumAccumulator() : m_context(EVP_MD_CTX_new()) {
    if (!m_context)
        throw std::bad_alloc();
}

ChecksumAccumulator::~ChecksumAccumulator() = default;
ChecksumAccumulator::ChecksumAccumulator(ChecksumAccumulator&&) noexcept = default;
ChecksumAccumulator& ChecksumAccumulator::operator=(ChecksumAccumulator&&) noexcept = default;

bool ChecksumAccumulator::add_line(std::string_view line) {
    if (!checksum_counts_line(line))
        return false;
    add_digest(line, {}, {});
    return true;
}

bool ChecksumAccumulator::add_ref(std::string_view hex_oid, std::string_view refname) {
    // The pattern cannot match across the separating space, so testing the two halves apart
    // is the same as testing the whole line.
    if (!checksum_counts_line(hex_oid) && !checksum_counts_line(refname))
        return false;
    add_digest(hex_oid, " ", refname);
    return true;
}

void ChecksumAccumulator::add_digest(std::string_view hex_oid, std::string_view separator, std::string_view refname) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    bool ok = EVP_DigestInit_ex2(m_context.get(), sha1(), nullptr) == 1 &&
              EVP_DigestUpdate(m_context.get(), hex_oid.data(), hex_oid.size()) == 1 &&
              EVP_DigestUpdate(m_context.get(), separator.data(), separator.size()) == 1 &&
              EVP_DigestUpdate(m_context.get(), refname.data(), refname.size()) == 1 &&
              EVP_DigestFinal_ex(m_context.get(), digest, &size) == 1;
    if (!ok || size != m_sum.size())
        throw RuntimeError("SHA-1 failed in OpenSSL");
    for (size_t i = 0; i < m_sum.size(); ++i)
        m_sum[i] ^= digest[i];
}

std::string checksum_of_show_ref(std::string_view output) {
    ChecksumAccumulator accumulator;
    while (!output.empty()) {
        size_t end = output.find('\n');
        std::string_view line = output.substr(0, end);
        // Gitaly reads the lines with bufio.ScanLines, which drops a carriage return before LF.
        if (line.ends_with('\r'))
            line.remove_suffix(1);
        accumulator.add_line(line);
        output = end == std::string_view::npos ? std::string_view() : output.substr(end + 1);
    }
    return accumulator.checksum();
}

// ---------------------------------------------------------------------------------------------
std::string repository_checksum(const std::filesystem::path& repository) {
    // Nothing libgit2 opens here may hold the thread (a FIFO); the scanner checks the refs.
    refuse_special_files(repository);
    // The fast open and a config-free object database: the checksum reads neither config nor
    // work tree, and libgit2's full open reads four config files per repository.
    git::Repository repo = git::open_bare_repository(repository);
    git::Odb odb = git::open_odb(std::filesystem::path(git_repository_commondir(repo.get())) / "objects");
    ChecksumAccumulator accumulator;
    scan_refs(repo.get(), odb.get(), [&](std::string_view hex_oid, std::string_view name) { accumulator.add_ref(hex_oid, name); });
    return accumulator.checksum();
}

}  // namespace geo_ssf
