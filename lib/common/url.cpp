#include "common/url.hpp"

#include <uriparser/Uri.h>

#include <algorithm>
#include <cctype>
#include <memory>

namespace geo_ssf {

namespace {

struct UriDeleter {
    void operator()(UriUriA* uri) const noexcept { uriFreeUriMembersA(uri); }
};

bool is_set(const UriTextRangeA& range) { return range.first != nullptr; }

size_t size_of(const UriTextRangeA& range) {
    return is_set(range) ? static_cast<size_t>(range.afterLast - range.first) : 0;
}

std::string text_of(const UriTextRangeA& range) {
    return is_set(range) ? std::string(range.first, range.afterLast) : std::string();
}

std::string lowercase(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
    return text;
}

bool starts_with_file_scheme(std::string_view url) {
    return url.size() >= 7 && lowercase(std::string(url.substr(0, 7))) == "file://";
}

}  // namespace

std::optional<Url> parse_url(std::string_view text) {
    if (text.empty())
        return std::nullopt;
    UriUriA uri;
    const char* error_at = nullptr;
    if (uriParseSingleUriExA(&uri, text.data(), text.data() + text.size(), &error_at) != URI_SUCCESS)
        return std::nullopt;
    std::unique_ptr<UriUriA, UriDeleter> owned(&uri);
    if (!is_set(uri.scheme))
        return std::nullopt;  // a relative reference

    // Offsets come from the generic syntax (RFC 3986, appendix B), which the parse has just
    // checked: uriparser's ranges of empty parts need not point into TEXT.
    Url url;
    url.scheme = lowercase(text_of(uri.scheme));
    size_t path_begin = url.scheme.size() + 1;  // after "scheme:"
    url.has_authority = is_set(uri.hostText);
    if (url.has_authority) {
        size_t authority_begin = path_begin + 2;  // after "//"
        path_begin = std::min(text.find_first_of("/?#", authority_begin), text.size());
        url.host = text_of(uri.hostText);
        url.ip_literal = uri.hostData.ip6 != nullptr || is_set(uri.hostData.ipFuture);
        url.port = text_of(uri.portText);
        if (is_set(uri.userInfo)) {
            std::string_view userinfo = text.substr(authority_begin, size_of(uri.userInfo));
            url.userinfo_span = TextSpan{authority_begin, authority_begin + userinfo.size()};
            size_t colon = userinfo.find(':');
            url.user = percent_decoded(userinfo.substr(0, colon));
            if (colon != std::string_view::npos) {
                url.password = percent_decoded(userinfo.substr(colon + 1));
                url.password_span = TextSpan{authority_begin + colon + 1, url.userinfo_span->end};
            }
        }
    }
    size_t path_end = std::min(text.find_first_of("?#", path_begin), text.size());
    url.path = std::string(text.substr(path_begin, path_end - path_begin));
    if (is_set(uri.query))
        url.query = text_of(uri.query);
    if (is_set(uri.fragment))
        url.fragment = text_of(uri.fragment);
    return url;
}

std::string percent_decoded(std::string_view text) {
    // uriparser decodes a C string in place (it only shortens it): one piece between NUL bytes
    // at a time. %00 decodes to a NUL byte too.
    std::string out;
    for (size_t start = 0;;) {
        size_t nul = text.find('\0', start);
        std::string piece(text.substr(start, nul == std::string_view::npos ? std::string_view::npos : nul - start));
        const char* end = uriUnescapeInPlaceExA(piece.data(), URI_FALSE, URI_BR_DONT_TOUCH);
        out.append(piece.data(), static_cast<size_t>(end - piece.data()));
        if (nul == std::string_view::npos)
            return out;
        out += '\0';
        start = nul + 1;
    }
}

std::string origin_of(const Url& url) {
    std::string host = url.ip_literal ? "[" + url.host + "]" : url.host;
    return url.scheme + "://" + host + (url.port.empty() ? "" : ":" + url.port);
}

std::string without_userinfo(const std::string& text) {
    auto url = parse_url(text);
    if (!url || !url->userinfo_span)
        return text;
    return text.substr(0, url->userinfo_span->begin) + text.substr(url->userinfo_span->end + 1);
}

std::optional<std::filesystem::path> local_path_of(const std::string& url) {
    if (url.find("://") == std::string::npos)
        return url;
    if (auto parsed = parse_url(url)) {
        if (parsed->scheme != "file")
            return std::nullopt;
        return percent_decoded(parsed->path);
    }
    if (!starts_with_file_scheme(url))
        return std::nullopt;
    // Not RFC 3986 (a blank in a folder's name), which git reads all the same: the path starts
    // at the first '/' after the host.
    std::string_view rest = std::string_view(url).substr(7);
    size_t slash = rest.find('/');
    return percent_decoded(slash == std::string_view::npos ? std::string_view() : rest.substr(slash));
}

}  // namespace geo_ssf
