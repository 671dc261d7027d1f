#include "common/redact.hpp"

#include <algorithm>
#include <cctype>

namespace geo_ssf {

namespace {

constexpr std::string_view k_scheme_separator = "://";
constexpr std::string_view k_url_end = "\"' \t\r\n<>";

bool is_scheme_character(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
}

}  // namespace

UrlCredentials credentials_in(std::string_view url) {
    UrlCredentials found;
    if (auto parsed = parse_url(url)) {
        found.userinfo = parsed->userinfo_span;
        found.password = parsed->password_span;
        return found;
    }
    size_t separator = url.find(k_scheme_separator);
    if (separator == std::string_view::npos)
        return found;
    size_t start = separator + k_scheme_separator.size();
    size_t at = url.rfind('@');
    if (at == std::string_view::npos || at < start)
        return found;
    found.userinfo = TextSpan{start, at};
    size_t colon = url.substr(start, at - start).find(':');
    if (colon != std::string_view::npos)
        found.password = TextSpan{start + colon + 1, at};
    return found;
}

std::string redact_url_credentials(std::string_view text) {
    std::string out;
    size_t copied = 0;  // TEXT before this is in OUT
    for (size_t separator = text.find(k_scheme_separator); separator != std::string_view::npos;
         separator = text.find(k_scheme_separator, std::max(separator + k_scheme_separator.size(), copied))) {
        size_t begin = separator;
        while (begin > copied && is_scheme_character(text[begin - 1]))
            --begin;
        size_t end = text.find_first_of(k_url_end, separator);
        std::string_view url = text.substr(begin, end == std::string_view::npos ? std::string_view::npos : end - begin);
        auto userinfo = credentials_in(url).userinfo;
        if (!userinfo)
            continue;
        out.append(text.substr(copied, begin + userinfo->begin - copied));
        out.append(k_redacted);
        copied = begin + userinfo->end;
    }
    out.append(text.substr(copied));
    return out;
}

}  // namespace geo_ssf
