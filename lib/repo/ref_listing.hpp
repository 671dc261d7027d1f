// What a primary's upload-pack advertises before a fetch (git's protocol v0): pkt-lines, the
// first "<oid> <name>\0<capabilities>", the others "<oid> <name>", a flush-pkt ("0000") at the
// end. Read as it arrives, so that a primary of more refs than sync.max_refs is refused before
// the rest of its listing is read.
#pragma once

#include <git2/oid.h>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace geo_ssf {

// Refs by name, each with the object it points at; HEAD and peeled tags left out.
using RefList = std::vector<std::pair<std::string, git_oid>>;

// Whether NAME, as a primary advertises it, is a ref of its own: neither HEAD nor the object an
// annotated tag points at ("refs/tags/v1^{}").
bool is_advertised_ref(std::string_view name);

// REFS sorted by name, as git lists them.
void sort_by_name(RefList& refs);

// What a primary has, listed before git fetches from it.
struct PrimaryListing {
    std::optional<std::string> default_branch;  // HEAD's target; nullopt when HEAD is unborn or detached
    RefList refs;                               // sorted by name
};

class RefAdvertisementReader {
public:
    explicit RefAdvertisementReader(long long max_refs) : m_max_refs(max_refs) {}

    // Reads the pkt-lines of RECEIVED (everything received so far) past those already read;
    // true once the advertisement has ended. Throws TooManyRefsError (fetcher.hpp) as soon as
    // there are more refs than MAX_REFS, and GitError when the primary says "ERR" or sends what
    // is no advertisement.
    bool read(std::string_view received);

    // The listing read, refs sorted by name.
    PrimaryListing listing() &&;

private:
    void read_line(std::string_view line);

    long long m_max_refs;
    size_t m_offset = 0;  // in RECEIVED, of the first pkt-line not yet read
    bool m_ended = false;
    bool m_first = true;
    bool m_head = false;  // HEAD was advertised
    std::optional<std::string> m_head_target;  // from the symref capability
    PrimaryListing m_listing;
};

}  // namespace geo_ssf
