#include "common/error.hpp"

namespace geo_ssf {

std::string first_line(const std::string& message) {
    std::string line = message.substr(0, message.find('\n'));
    while (!line.empty() && (line.back() == ' ' || line.back() == '\r' || line.back() == '\t'))
        line.pop_back();
    return line;
}


std::string printable(std::string_view name, size_t max_length) {
    std::string shown;
    size_t kept = 0;
    for (char c : name) {
        if (kept == max_length)
            return shown + "...";
        auto byte = static_cast<unsigned char>(c);
        if (byte < 0x20 || byte == 0x7f) {
            const char* digits = "0123456789abcdef";
            shown += "\\x";
            shown += digits[byte >> 4];
            shown += digits[byte & 0xf];
        } else {
            shown += c;
        }
        ++kept;
    }
    return shown;
}

std::string redact_url_credentials(std::string_view text) {
    std::string out;
    size_t at = 0;
    while (true) {
        size_t scheme = text.find("://", at);
        if (scheme == std::string_view::npos)
            break;
        size_t start = scheme + 3;
        out.append(text.substr(at, start - at));
        // The authority ends at the first '/', '?', '#', blank or quote; its userinfo at its last '@'.
        size_t end = start;
        while (end < text.size() && std::string_view("/?#\"' \t\r\n<>").find(text[end]) == std::string_view::npos)
            ++end;
        std::string_view authority = text.substr(start, end - start);
        size_t userinfo_end = authority.rfind('@');
        size_t colon = authority.find(':');
        if (userinfo_end != std::string_view::npos && colon != std::string_view::npos && colon < userinfo_end) {
            out.append(authority.substr(0, colon));
            out.append(":***");
            out.append(authority.substr(userinfo_end));
        } else {
            out.append(authority);
        }
        at = end;
    }
    out.append(text.substr(at));
    return out;
}

}  // namespace geo_ssf
