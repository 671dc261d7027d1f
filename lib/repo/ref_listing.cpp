#include "repo/ref_advertisement.hpp"

#include "common/error.hpp"
#include "repo/fetcher.hpp"

#include <algorithm>

namespace geo_ssf {

namespace {

// pkt-line's bounds: its four hex digits count themselves, and a line holds at most 65516 bytes.
constexpr size_t k_length_digits = 4;
constexpr size_t k_largest_line = 65520;

[[noreturn]] void malformed(const std::string& why) {
    throw GitError("the primary's ref listing is not git's: " + why);
}

std::optional<size_t> hex_length(std::string_view digits) {
    size_t length = 0;
    for (char c : digits) {
        int value = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (value < 0)
            return std::nullopt;
        length = length * 16 + static_cast<size_t>(value);
    }
    return length;
}

// The value of the capability NAME=... for KEY ("symref=HEAD:refs/heads/main" gives
// "refs/heads/main" for key "HEAD"), among the blank-separated CAPABILITIES.
std::optional<std::string> symref_target(std::string_view capabilities, std::string_view key) {
    std::string prefix = "symref=" + std::string(key) + ":";
    while (!capabilities.empty()) {
        auto blank = capabilities.find(' ');
        std::string_view capability = capabilities.substr(0, blank);
        capabilities = blank == std::string_view::npos ? std::string_view() : capabilities.substr(blank + 1);
        if (capability.starts_with(prefix))
            return std::string(capability.substr(prefix.size()));
    }
    return std::nullopt;
}

}  // namespace

bool is_advertised_ref(std::string_view name) { return name != "HEAD" && !name.ends_with("^{}"); }

void sort_by_name(RefList& refs) {
    std::sort(refs.begin(), refs.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
}

bool RefAdvertisementReader::read(std::string_view received) {
    while (!m_ended && received.size() - m_offset >= k_length_digits) {
        auto length = hex_length(received.substr(m_offset, k_length_digits));
        if (!length)
            malformed("a line does not start with its length");
        if (*length == 0) {
            m_offset += k_length_digits;
            m_ended = true;
            break;
        }
        if (*length <= k_length_digits || *length > k_largest_line)
            malformed("a line of length " + std::to_string(*length));
        if (received.size() - m_offset < *length)
            break;  // the rest of the line has not arrived
        std::string_view line = received.substr(m_offset + k_length_digits, *length - k_length_digits);
        m_offset += *length;
        if (line.ends_with('\n'))
            line.remove_suffix(1);
        read_line(line);
    }
    return m_ended;
}

void RefAdvertisementReader::read_line(std::string_view line) {
    if (line.starts_with("ERR "))
        throw GitError("the primary says: " + std::string(line.substr(4)));
    if (m_first && line == "version 1")
        return;  // a protocol v1 server's first line; the listing that follows is v0's
    std::string_view capabilities;
    if (auto nul = line.find('\0'); nul != std::string_view::npos) {
        if (!m_first)
            malformed("capabilities after the first line");
        capabilities = line.substr(nul + 1);
        line = line.substr(0, nul);
    }
    bool first = m_first;
    m_first = false;
    constexpr size_t hex = GIT_OID_HEXSZ;
    if (line.size() < hex + 2 || line[hex] != ' ')
        malformed("a line is not an object id and a name");
    std::string_view name = line.substr(hex + 1);
    // Checked here: libgit2 reports a bad digit through its error state, which needs it initialized.
    std::string_view digits = line.substr(0, hex);
    if (digits.find_first_not_of("0123456789abcdef") != std::string_view::npos)
        malformed("a line's object id is not hexadecimal");
    git_oid oid;
    git_oid_fromstrn(&oid, digits.data(), hex);
    if (first) {
        m_head_target = symref_target(capabilities, "HEAD");
        if (name == "capabilities^{}" && git_oid_is_zero(&oid))
            return;  // a repository without refs
    }
    if (name == "HEAD") {
        m_head = true;
        return;
    }
    if (!is_advertised_ref(name))
        return;
    if (static_cast<long long>(m_listing.refs.size()) >= m_max_refs)
        throw TooManyRefsError("the primary advertises at least " + std::to_string(m_max_refs + 1) +
                               " refs, more than sync.max_refs (" + std::to_string(m_max_refs) + "); nothing was fetched");
    m_listing.refs.emplace_back(std::string(name), oid);
}

PrimaryListing RefAdvertisementReader::listing() && {
    if (m_head && m_head_target)
        m_listing.default_branch = std::move(m_head_target);
    sort_by_name(m_listing.refs);
    return std::move(m_listing);
}

}  // namespace geo_ssf
