// Refs as git's files backend writes them (refs.c, refs/files-backend.c): the rules a ref name
// must follow, object ids in hex, and the content of a loose ref file. Pure functions: the ref
// scanner and packed-refs use them on every ref, so the small ones are inline.
#pragma once

#include "repo/git.hpp"

#include <git2.h>

#include <array>
#include <string_view>

namespace geo_ssf {

inline constexpr size_t k_sha256_hex_size = 64;
inline constexpr std::string_view k_lock_suffix = ".lock";  // a ref being written, never a ref

// The blanks git strips around ref contents.
inline bool is_git_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// -1 for a byte that is no hex digit. A table: the checksum parses a hundred ids a repository.
inline constexpr std::array<signed char, 256> k_hex_values = [] {
    std::array<signed char, 256> values{};
    values.fill(-1);
    for (int i = 0; i < 10; ++i)
        values['0' + i] = static_cast<signed char>(i);
    for (int i = 0; i < 6; ++i) {
        values['a' + i] = static_cast<signed char>(10 + i);
        values['A' + i] = static_cast<signed char>(10 + i);
    }
    return values;
}();

inline int hex_value(char c) { return k_hex_values[static_cast<unsigned char>(c)]; }

// Exactly 40 hex digits (either case, as git accepts) into OID.
inline bool parse_oid(std::string_view hex, git_oid& oid) {
    if (hex.size() != k_hex_size)
        return false;
    for (size_t i = 0; i < GIT_OID_RAWSZ; ++i) {
        int high = hex_value(hex[2 * i]), low = hex_value(hex[2 * i + 1]);
        if (high < 0 || low < 0)
            return false;
        oid.id[i] = static_cast<unsigned char>(high << 4 | low);
    }
    return true;
}

// OID as 40 lowercase hex digits, into HEX.
inline void format_oid(const git_oid& oid, char (&hex)[k_hex_size]) {
    for (size_t i = 0; i < GIT_OID_RAWSZ; ++i) {
        hex[2 * i] = k_hex_digits[oid.id[i] >> 4];
        hex[2 * i + 1] = k_hex_digits[oid.id[i] & 0xf];
    }
}

// TEXT starts with a SHA-256 object id: a repository libgit2 1.5 cannot read.
bool starts_with_sha256_oid(std::string_view text);

// git's check_refname_format(NAME, REFNAME_ALLOW_ONELEVEL): no empty component, none starting
// with '.' or ending with ".lock", no "..", "@{", control characters, space, ~^:?*[\, not "@"
// and not ending with '.'.
bool is_valid_refname(std::string_view name);

// What a loose ref file (or HEAD) says: an object id, or "ref: <target>".
struct RefContent {
    bool valid = false;
    bool symbolic = false;
    git_oid oid{};
    std::string_view target;  // a view into the text parsed
};

// git's parse_loose_ref_contents over TEXT, its trailing blanks removed.
RefContent parse_ref_content(std::string_view text);

// The GitError for the ref NAME whose file holds TEXT, which is no ref: a SHA-256 object id
// (unsupported), or anything else (corrupt).
[[noreturn]] void throw_corrupt_ref(std::string_view name, std::string_view text);

}  // namespace geo_ssf
