// URLs read as RFC 3986 reads them, by uriparser: their scheme, userinfo, host (IPv6 literals
// included), port, path, query and fragment, with where the userinfo lies in the text for
// redaction; the folder a file:// URL or a plain path names; and the %XX escapes of URLs and
// connection URIs.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace geo_ssf {

// A piece of a text: [begin, end) as offsets.
struct TextSpan {
    size_t begin = 0;
    size_t end = 0;
    size_t size() const { return end - begin; }
};

struct Url {
    std::string scheme;                     // lowercase: "https", "ssh", "file"
    bool has_authority = false;             // "//" follows the scheme
    std::optional<std::string> user;        // %XX decoded; nullopt without a userinfo
    std::optional<std::string> password;    // %XX decoded; nullopt without a ':' in the userinfo
    std::string host;                       // an IP literal without its brackets; "" when there is none
    bool ip_literal = false;                // the host was written in brackets ("[::1]")
    std::string port;                       // digits as written; "" when there is none
    std::string path;                       // as written, escapes kept ("" or "/..." after an authority)
    std::optional<std::string> query;       // after '?', as written
    std::optional<std::string> fragment;    // after '#', as written
    std::optional<TextSpan> userinfo_span;  // in the text parsed, without its '@'
    std::optional<TextSpan> password_span;  // in the text parsed
};

// TEXT as an absolute URL ("scheme:..."); nullopt when RFC 3986 does not accept it whole (a
// relative reference, a blank, a raw '@' in the userinfo, a bad %-escape, a port that is not
// digits...).
std::optional<Url> parse_url(std::string_view text);

// TEXT with its %XX escapes decoded; a '%' that starts no escape is kept as it is.
std::string percent_decoded(std::string_view text);

// "scheme://host" or "scheme://host:port", an IP literal in brackets: the server a URL names.
std::string origin_of(const Url& url);

// TEXT without its userinfo and the '@' after it ("https://host/x" for "https://u:p@host/x");
// TEXT as it is when RFC 3986 does not accept it or it has none.
std::string without_userinfo(const std::string& text);

// The folder a file:// URL or a plain path names, as git reads them (a file:// URL's %XX
// escapes decoded, its host ignored); nullopt for any other URL ("scheme://...").
std::optional<std::filesystem::path> local_path_of(const std::string& url);

}  // namespace geo_ssf
