#include "repo/credentials.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>

namespace geo_ssf {

std::optional<std::string> read_secret(const std::filesystem::path& file, const char* key, std::string& failure) {
    struct stat st {};
    if (stat(file.c_str(), &st) != 0) {
        failure = std::string(key) + " " + file.string() + ": " + std::strerror(errno);
        return std::nullopt;
    }
    if ((st.st_mode & 077) != 0) {
        failure = std::string(key) + " " + file.string() + " may be read by others; chmod 600 it";
        return std::nullopt;
    }
    std::ifstream in(file);
    std::string line;
    if (!in || !std::getline(in, line)) {
        failure = std::string(key) + " " + file.string() + " cannot be read or is empty";
        return std::nullopt;
    }
    while (!line.empty() && (line.back() == '\r' || line.back() == ' '))
        line.pop_back();
    return line;
}

std::optional<Password> password_for(const TransportSettings& settings, const std::string& url_user,
                                     std::string& failure) {
    Password out;
    std::string user = user_or_git(url_user);
    std::string user_named = url_user.empty() ? "user " + user : "the URL's user";
    if (!settings.credentials_file.empty()) {
        auto read = read_secret(settings.credentials_file, "storage.credentials_file", failure);
        if (!read)
            return std::nullopt;
        auto colon = read->find(':');
        if (colon == std::string::npos) {
            out.password = *read;  // a token, with the URL's user name
        } else {
            user = read->substr(0, colon);
            user_named = "user " + user;
            out.password = read->substr(colon + 1);
        }
        std::fill(read->begin(), read->end(), '\0');
        out.authentication = "the credentials of storage.credentials_file " + settings.credentials_file.string() +
                             " (" + user_named + ")";
    } else if (const char* env = std::getenv("GEO_SSF_PRIMARY_PASSWORD"); env && *env) {
        out.password = env;
        out.authentication = "GEO_SSF_PRIMARY_PASSWORD (" + user_named + ")";
    } else {
        failure = "the primary asks for a password: set storage.credentials_file or GEO_SSF_PRIMARY_PASSWORD";
        return std::nullopt;
    }
    out.user = user;
    return out;
}

std::string user_or_git(const std::string& from_url) { return from_url.empty() ? "git" : from_url; }

}  // namespace geo_ssf
