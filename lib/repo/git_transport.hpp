// How the git program reaches a network primary under the rules the libgit2 sessions follow
// (remote_session.hpp): for ssh://, an ssh command that reads no ssh configuration, never
// prompts, accepts only a host key in the same known_hosts file and offers storage.ssh_key (else
// the ssh-agent's keys), sharing one connection to each host among the process's ssh runs; for
// http(s)://, storage.ca_file in place of the system's CA store, the
// user's or the system's http.proxy (which libgit2 reads and git is told not to), and the user
// and password of storage.credentials_file (or GEO_SSF_PRIMARY_PASSWORD), which a credential
// helper hands over from the environment.
#pragma once

#include "repo/git_program.hpp"
#include "site/transport_settings.hpp"

#include <optional>
#include <string>

namespace geo_ssf {

// What git needs to fetch from URL under SETTINGS; nullopt when git cannot follow the rules
// above (a password in the URL, which git would read from its command line; a key with a
// passphrase, which ssh would ask for; a path ssh would read otherwise) or URL uses another
// scheme. A missing or unreadable secret is left for the libgit2 session, which says why; so is
// the user of an http(s):// URL with no password to go with it. Git is given such a URL without
// its userinfo (git_fetcher.cpp): the user, which may be a token, comes from the helper.
std::optional<GitSetup> git_transport(const std::string& url, const TransportSettings& settings);

}  // namespace geo_ssf
