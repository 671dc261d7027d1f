// What the primary lists to git before a fetch, read from git's own packet trace (GIT_TRACE_PACKET)
// as git receives it: the refs counted for sync.max_refs, and HEAD's branch. The listing of git's
// own session serves, so that no connection is opened for the listing alone.
//
// A trace line reads "packet: <who><direction> <payload>": WHO names the program (fetch or clone;
// "git" for remote-curl over https, which passes requests and answers on; "sideband" for pack
// data), '<' what it received; a byte outside printable ASCII is written "\<octal>". In protocol v2 the listing is ls-refs' answer: "<oid>
// <name>[ symref-target:<branch>][ peeled:<oid>]" for each ref (HEAD among them when it is asked
// for), then a flush-pkt, traced as "0000". Protocol v0's is read as well: "<oid>
// HEAD\0<capabilities>" first (symref=HEAD:<branch> among them), then "<oid> <name>" for each ref
// and "<oid> <name>^{}" for what a tag points at, then a flush-pkt.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace geo_ssf {

// Whether NAME, as a primary lists it, is a ref of its own: neither HEAD nor the object an
// annotated tag points at ("refs/tags/v1^{}").
bool is_advertised_ref(std::string_view name);

// The descriptor git writes its packet trace on (packet_trace_environment), which the program
// running git reads.
inline constexpr int k_packet_trace_fd = 3;

// The variables that make git write its packet trace on k_packet_trace_fd, lines without times.
std::vector<std::string> packet_trace_environment();

class RefListingReader {
public:
    explicit RefListingReader(long long max_refs) : m_max_refs(max_refs) {}

    // Reads ARRIVED, the trace's next bytes. Throws TooManyRefsError (fetcher.hpp) as soon as the
    // listing names more refs than MAX_REFS.
    void read(std::string_view arrived);

    // Whether the listing has been read to its end.
    bool ended() const { return m_ended; }
    // The refs it names (is_advertised_ref).
    size_t refs() const { return m_refs; }
    // Whether it names HEAD with an object: not when HEAD names a branch that does not exist.
    bool lists_head() const { return m_head; }
    long long max_refs() const { return m_max_refs; }
    // HEAD's branch; nullopt when HEAD is detached, or unborn (the listing then has no HEAD).
    std::optional<std::string> default_branch() const { return m_head ? m_head_target : std::nullopt; }

private:
    // What one program has received of the listing.
    struct Receiver {
        bool version_2 = false;  // its first line said so: a flush-pkt ends the capabilities first
        int flushes = 0;
        bool requests = false;   // it reads a client's requests ("command=ls-refs"), not a listing
    };

    void read_line(std::string_view line);
    void read_listing_line(std::string_view line);

    long long m_max_refs;
    std::string m_partial;  // a line whose end has not arrived
    std::map<std::string, Receiver, std::less<>> m_receivers;
    std::string m_who;      // the program whose refs are counted: the first to receive one
    bool m_ended = false;
    size_t m_refs = 0;
    bool m_head = false;
    std::optional<std::string> m_head_target;
};

}  // namespace geo_ssf
