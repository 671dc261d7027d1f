#include "repo/known_hosts.hpp"

#include "common/base64.hpp"
#include "common/digest.hpp"

#include <pwd.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <optional>
#include <vector>

namespace geo_ssf {

namespace {

std::vector<std::string_view> fields_of(std::string_view line) {
    std::vector<std::string_view> fields;
    size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && (line[i] == ' ' || line[i] == '\t'))
            ++i;
        size_t start = i;
        while (i < line.size() && line[i] != ' ' && line[i] != '\t')
            ++i;
        if (i > start)
            fields.push_back(line.substr(start, i - start));
    }
    return fields;
}

bool hashed_host_matches(std::string_view entry, const std::string& host) {
    // |1|base64(salt)|base64(HMAC-SHA1(salt, host))
    auto rest = entry.substr(3);
    auto bar = rest.find('|');
    if (bar == std::string_view::npos)
        return false;
    auto salt = base64_decoded(rest.substr(0, bar));
    auto hash = base64_decoded(rest.substr(bar + 1));
    return salt && hash && hmac_sha1(*salt, host) == *hash;
}

// OpenSSH's host patterns: '*' and '?' are wildcards, everything else (brackets too) is literal.
bool wildcard_matches(std::string_view pattern, std::string_view text) {
    if (pattern.empty())
        return text.empty();
    if (pattern[0] == '*')
        return wildcard_matches(pattern.substr(1), text) || (!text.empty() && wildcard_matches(pattern, text.substr(1)));
    return !text.empty() && (pattern[0] == '?' || pattern[0] == text[0]) &&
           wildcard_matches(pattern.substr(1), text.substr(1));
}

// A comma-separated list of patterns matches when one matches and no negated one ("!pattern") does.
bool host_pattern_matches(std::string_view patterns, const std::string& host) {
    if (patterns.rfind("|1|", 0) == 0)
        return hashed_host_matches(patterns, host);
    bool matched = false;
    size_t start = 0;
    while (start <= patterns.size()) {
        size_t comma = patterns.find(',', start);
        size_t end = comma == std::string_view::npos ? patterns.size() : comma;
        std::string_view pattern = patterns.substr(start, end - start);
        bool negated = !pattern.empty() && pattern[0] == '!';
        if (negated)
            pattern.remove_prefix(1);
        if (!pattern.empty() && wildcard_matches(pattern, host)) {
            if (negated)
                return false;
            matched = true;
        }
        if (comma == std::string_view::npos)
            break;
        start = comma + 1;
    }
    return matched;
}

}  // namespace

bool known_hosts_line_matches(std::string_view line, const std::string& host) {
    auto fields = fields_of(line);
    if (fields.empty() || fields[0][0] == '#')
        return false;
    size_t first = fields[0][0] == '@' ? 1 : 0;
    return fields.size() > first && host_pattern_matches(fields[first], host);
}

HostKeyCheck check_host_key(std::string_view known_hosts, const std::string& host, std::string_view key_type,
                            std::string_view key_sha256) {
    bool matched = false, changed = false, revoked = false;
    HostKeyCheck check;
    while (!known_hosts.empty()) {
        size_t end = known_hosts.find('\n');
        std::string_view line = known_hosts.substr(0, end);
        known_hosts.remove_prefix(end == std::string_view::npos ? known_hosts.size() : end + 1);
        if (!known_hosts_line_matches(line, host))
            continue;
        auto fields = fields_of(line);
        bool marker = fields[0][0] == '@';
        if (marker && fields[0] != "@revoked")
            continue;  // @cert-authority: host certificates are not supported
        size_t first = marker ? 1 : 0;
        if (fields.size() < first + 3)
            continue;
        auto blob = base64_decoded(fields[first + 2]);
        if (!blob)
            continue;
        bool same = sha256(*blob) == key_sha256;
        if (marker)
            revoked = revoked || same;
        else if (same)
            matched = true;
        else if (fields[first + 1] == key_type)
            changed = true;
        else
            check.other_types_known = true;
    }
    check.verdict = revoked   ? HostKeyVerdict::revoked
                    : matched ? HostKeyVerdict::matched
                    : changed ? HostKeyVerdict::changed
                              : HostKeyVerdict::unknown;
    return check;
}

std::string known_hosts_name(const std::string& host, const std::string& port) {
    return port.empty() || port == "22" ? host : "[" + host + "]:" + port;
}

std::string ssh_key_type(std::string_view blob) {
    if (blob.size() < 4)
        return "unknown";
    uint32_t size = 0;
    for (int i = 0; i < 4; ++i)
        size = size << 8 | static_cast<unsigned char>(blob[i]);  // big-endian, as ssh writes it
    if (size > blob.size() - 4)
        return "unknown";
    return std::string(blob.substr(4, static_cast<size_t>(size)));
}

std::string sha256_fingerprint(std::string_view key_sha256) {
    return "SHA256:" + base64_encoded(key_sha256, Base64Padding::dropped);
}

std::string ssh_fingerprint(std::string_view key_blob) { return sha256_fingerprint(sha256(key_blob)); }

std::filesystem::path default_known_hosts() {
    const char* home = std::getenv("HOME");
    if (!home || !*home) {
        if (passwd* pw = getpwuid(getuid()))
            home = pw->pw_dir;
    }
    return std::filesystem::path(home ? home : "/") / ".ssh" / "known_hosts";
}

}  // namespace geo_ssf
