// How a secondary reaches the primary's repositories over the network (storage.* keys of
// geo-ssf.yml): ssh keys and known hosts, the TLS CA, HTTP credentials, time bounds, and whose
// repositories a local primary may have.
#pragma once

#include <chrono>
#include <filesystem>

namespace geo_ssf {

struct TransportSettings {
    std::filesystem::path ssh_key;                  // a private key; empty: the ssh-agent's keys
    std::filesystem::path ssh_key_passphrase_file;  // its passphrase, if it has one
    std::filesystem::path ssh_known_hosts;          // empty: ~/.ssh/known_hosts
    std::filesystem::path ca_file;                  // empty: the system's CA store
    std::filesystem::path credentials_file;         // "user:password" or a token; empty: $GEO_SSF_PRIMARY_PASSWORD
    std::chrono::seconds fetch_timeout = std::chrono::hours(1);        // one fetch, end to end
    std::chrono::seconds fetch_stall_timeout = std::chrono::minutes(5);  // no byte received for this long
    // storage.trust_primary_owner: a file:// or plain-path primary's repositories may belong to
    // another user (git and libgit2 refuse such repositories unless told to trust them).
    bool trust_primary_owner = false;
};

}  // namespace geo_ssf
