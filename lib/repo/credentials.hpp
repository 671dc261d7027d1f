// The secrets a secondary hands the primary, read when it asks for them and never printed:
// storage.credentials_file ("user:password", or a token), GEO_SSF_PRIMARY_PASSWORD, and the
// passphrase file of storage.ssh_key. A file holding a secret must be readable by its owner only.
#pragma once

#include "site/transport_settings.hpp"

#include <filesystem>
#include <optional>
#include <string>

namespace geo_ssf {

// The first line of the secret file FILE (the setting KEY names it), without trailing blanks;
// nullopt, with the reason in FAILURE, when it is missing, empty, unreadable or readable by
// others.
std::optional<std::string> read_secret(const std::filesystem::path& file, const char* key, std::string& failure);

struct Password {
    std::string user;
    std::string password;
    std::string authentication;  // where they come from, for messages
};

// The user and password SETTINGS give a primary that asks for them: storage.credentials_file
// ("user:password", or a token sent with URL_USER, the URL's user name, else git), else
// GEO_SSF_PRIMARY_PASSWORD with URL_USER (else git); nullopt, with the reason in FAILURE, when
// there are none. A user name from the URL may be a token itself: `authentication` calls it
// "the URL's user", never by its name.
std::optional<Password> password_for(const TransportSettings& settings, const std::string& url_user,
                                     std::string& failure);

// The user name of a URL, or git when it has none (as libgit2 logs in over ssh).
std::string user_or_git(const std::string& from_url);

}  // namespace geo_ssf
