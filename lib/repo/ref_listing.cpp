#include "repo/ref_listing.hpp"

#include "repo/fetcher.hpp"

#include <algorithm>

namespace geo_ssf {

namespace {

bool is_octal(char c) { return c >= '0' && c <= '7'; }

// More programs than one clone or fetch runs (git, its transport helper, the sideband demuxer):
// past these, a trace line names none whose listing counts.
constexpr size_t k_most_receivers = 8;

// PAYLOAD as the trace wrote it, its "\<octal>" escapes made bytes again. Git writes a byte with
// printf's %o of a char: "\0" for the NUL before v0's capabilities, and a byte past ASCII as
// "\351" where char is unsigned, "\37777777751" where it is signed. A ref name holds no control
// character, so no other escape is followed by a digit of its own.
std::string unescaped(std::string_view payload) {
    std::string out;
    out.reserve(payload.size());
    for (size_t i = 0; i < payload.size(); ++i) {
        if (payload[i] != '\\') {
            out += payload[i];
            continue;
        }
        size_t digits = 0;
        while (digits < 11 && i + 1 + digits < payload.size() && is_octal(payload[i + 1 + digits]))
            ++digits;
        std::string_view octal = payload.substr(i + 1, digits);
        if (digits == 11 && octal.starts_with("37777777"))
            ;  // a signed char past ASCII
        else if (digits >= 3 && (octal[0] == '2' || octal[0] == '3'))
            octal = octal.substr(0, 3);  // an unsigned one
        else
            octal = octal.substr(0, std::min<size_t>(digits, 2));  // a control character
        if (octal.empty()) {
            out += '\\';
            continue;
        }
        unsigned long value = 0;
        for (char c : octal)
            value = value * 8 + static_cast<unsigned long>(c - '0');
        out += static_cast<char>(value & 0xff);
        i += octal.size();
    }
    return out;
}

// The length of the object id LINE starts with (SHA-1's or SHA-256's), followed by a blank; 0
// when it starts with none.
size_t object_id_length(std::string_view line) {
    for (size_t length : {40, 64})
        if (line.size() > length && line[length] == ' ' &&
            line.substr(0, length).find_first_not_of("0123456789abcdef") == std::string_view::npos)
            return length;
    return 0;
}

// The value of WORD=... among the blank-separated WORDS ("symref=HEAD:refs/heads/main" for
// "symref=HEAD:" gives "refs/heads/main").
std::optional<std::string> value_after(std::string_view words, std::string_view word) {
    while (!words.empty()) {
        auto blank = words.find(' ');
        std::string_view candidate = words.substr(0, blank);
        words = blank == std::string_view::npos ? std::string_view() : words.substr(blank + 1);
        if (candidate.starts_with(word))
            return std::string(candidate.substr(word.size()));
    }
    return std::nullopt;
}

}  // namespace

bool is_advertised_ref(std::string_view name) { return name != "HEAD" && !name.ends_with("^{}"); }

std::vector<std::string> packet_trace_environment() {
    return {"GIT_TRACE_PACKET=" + std::to_string(k_packet_trace_fd), "GIT_TRACE_BARE=1"};
}

void RefListingReader::read(std::string_view arrived) {
    while (!m_ended && !arrived.empty()) {
        auto end = arrived.find('\n');
        if (end == std::string_view::npos) {
            m_partial.append(arrived);
            return;
        }
        if (m_partial.empty()) {
            read_line(arrived.substr(0, end));
        } else {
            m_partial.append(arrived.substr(0, end));
            std::string line = std::move(m_partial);
            m_partial.clear();
            read_line(line);
        }
        arrived.remove_prefix(end + 1);
    }
}

void RefListingReader::read_line(std::string_view line) {
    constexpr std::string_view prefix = "packet: ";
    if (!line.starts_with(prefix))
        return;
    line.remove_prefix(prefix.size());
    auto who_starts = line.find_first_not_of(' ');
    auto direction = line.find_first_of("<>", who_starts);
    if (direction == std::string_view::npos || line[direction] != '<' || line.substr(direction + 1, 1) != " ")
        return;  // not a line received
    std::string_view who = line.substr(who_starts, direction - who_starts);
    std::string payload = unescaped(line.substr(direction + 2));
    auto receiver = m_receivers.find(who);
    if (receiver == m_receivers.end()) {
        if (m_receivers.size() >= k_most_receivers)
            return;  // more programs than a fetch runs: none of them lists
        receiver = m_receivers.emplace(std::string(who), Receiver{}).first;
    }
    Receiver& from = receiver->second;
    // A program that reads requests passes a listing on without reading it: remote-curl over
    // https (traced as "git"), upload-pack from a local primary.
    if (payload.starts_with("command="))
        from.requests = true;
    if (from.requests)
        return;
    // Protocol v2 starts with "version 2" (over https after a "# service=" line and its flush-pkt,
    // on some servers): the capabilities then end at a flush-pkt of their own.
    if (payload == "version 2" && m_who.empty()) {
        from.version_2 = true;
        from.flushes = 0;
        return;
    }
    // Where the listing ends: in v2 at the receiver's second flush-pkt, in v0 at its first after
    // a ref; either way the receiver whose refs are counted, or any when no ref came (an empty
    // repository).
    if (payload == "0000") {
        ++from.flushes;
        bool counted = m_who.empty() || who == m_who;
        if (counted && (from.version_2 ? from.flushes == 2 : who == m_who))
            m_ended = true;
        return;
    }
    // The first program to receive a ref is the one whose refs are counted.
    if (m_who.empty()) {
        if (!object_id_length(payload))
            return;
        m_who = who;
    } else if (who != m_who) {
        return;
    }
    read_listing_line(payload);
}

void RefListingReader::read_listing_line(std::string_view line) {
    size_t oid = object_id_length(line);
    if (!oid)
        return;
    std::string_view rest = line.substr(oid + 1);
    std::string_view attributes;
    if (auto nul = rest.find('\0'); nul != std::string_view::npos) {  // v0's first line
        m_head_target = value_after(rest.substr(nul + 1), "symref=HEAD:");
        rest = rest.substr(0, nul);
    } else if (auto blank = rest.find(' '); blank != std::string_view::npos) {  // v2's attributes
        attributes = rest.substr(blank + 1);
        rest = rest.substr(0, blank);
    }
    std::string_view name = rest;
    if (name == "HEAD") {
        m_head = true;
        if (!attributes.empty())
            m_head_target = value_after(attributes, "symref-target:");
        return;
    }
    if (!is_advertised_ref(name))
        return;  // a peeled tag, or v0's "capabilities^{}" of a repository without refs
    if (++m_refs > static_cast<unsigned long long>(m_max_refs))
        throw TooManyRefsError("the primary lists more refs than sync.max_refs (" + std::to_string(m_max_refs) +
                               ") allows; the fetch was stopped");
}

}  // namespace geo_ssf
