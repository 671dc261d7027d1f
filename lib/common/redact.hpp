// Secrets kept out of what is printed, logged or stored: the userinfo of every URL in a text.
// Built on parse_url; a URL that RFC 3986 does not accept is redacted all the same, since a
// password with a raw '@', a quote or a bad %-escape is what makes a URL invalid, and error
// messages quote exactly those back: its userinfo is then taken to end at its last '@', the
// fallback of GitLab's UrlSanitizer.
#pragma once

#include "common/url.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace geo_ssf {

inline constexpr std::string_view k_redacted = "***";

// Where the credentials of URL (one URL, from its scheme on) lie in it: parse_url's spans for a
// valid URL; for another one with "://", the userinfo up to its last '@' and the password after
// the userinfo's first ':'.
struct UrlCredentials {
    std::optional<TextSpan> userinfo;
    std::optional<TextSpan> password;
};
UrlCredentials credentials_in(std::string_view url);

// TEXT with the userinfo of every URL in it replaced by "***": "https://***@host/...", for a
// user name alone may be a token ("https://TOKEN@host/"), and a token may be the user beside a
// dummy password. A URL in TEXT ends at a blank, a quote or an angle bracket. Whatever may hold
// a URL goes through this before it is printed, logged or stored.
std::string redact_url_credentials(std::string_view text);

}  // namespace geo_ssf
