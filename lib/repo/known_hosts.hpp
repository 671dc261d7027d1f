// OpenSSH's known_hosts files, read as ssh reads them: host patterns with '*', '?' and '!',
// hashed names (|1|salt|HMAC-SHA1), "[host]:port" for other ports than 22, @revoked lines; and
// the verdict on the key a host offers, as a pure function of the file's text. Host keys are
// never trusted on first use: a key the file does not hold is refused.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace geo_ssf {

enum class HostKeyVerdict {
    matched,  // the file holds the key for the host
    changed,  // the file holds another key of the same type for the host: perhaps an impostor
    revoked,  // an @revoked line holds the key: refused whatever else the file says
    unknown,  // the file holds no key of that type for the host
};

struct HostKeyCheck {
    HostKeyVerdict verdict = HostKeyVerdict::unknown;
    bool other_types_known = false;  // the file holds keys of other types for the host
};

// The verdict of KNOWN_HOSTS (a file's text) on the key HOST offers, given by its type
// (KEY_TYPE, "ssh-ed25519"; or any name no line uses when it is not known) and the SHA-256
// digest of its blob (KEY_SHA256, raw bytes). @cert-authority lines are not supported and so
// ignored; lines that do not parse are skipped, as ssh skips them.
HostKeyCheck check_host_key(std::string_view known_hosts, const std::string& host, std::string_view key_type,
                            std::string_view key_sha256);

// The name known_hosts gives HOST on PORT: "host" on port 22 (or none), else "[host]:port".
std::string known_hosts_name(const std::string& host, const std::string& port);

// Whether known_hosts line LINE names HOST ("name" or "[name]:port"), including hashed entries.
bool known_hosts_line_matches(std::string_view line, const std::string& host);

// The key type named at the start of an ssh public key blob ("ssh-ed25519"); "unknown" when
// the blob is too short to name one.
std::string ssh_key_type(std::string_view key_blob);

// "SHA256:<base64 without padding>" of a key's SHA-256 digest, as OpenSSH prints fingerprints.
std::string sha256_fingerprint(std::string_view key_sha256);

// The fingerprint of a raw ssh public key blob: sha256_fingerprint of its SHA-256 digest.
std::string ssh_fingerprint(std::string_view key_blob);

// ~/.ssh/known_hosts of the user running geo-ssf ($HOME, else the password database's home).
std::filesystem::path default_known_hosts();

}  // namespace geo_ssf
