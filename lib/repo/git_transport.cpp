#include "repo/git_transport.hpp"

#include "common/shell_quoted.hpp"
#include "common/url.hpp"
#include "repo/credentials.hpp"
#include "repo/git.hpp"
#include "repo/known_hosts.hpp"

#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <string_view>
#include <system_error>
#include <vector>

namespace geo_ssf {

namespace {

// Whether ssh takes PATH, given as an option's value, as it is: ssh splits such values at
// blanks, reads quotes and backslashes, and expands % and ${...} in file names.
bool plain_for_ssh(const std::filesystem::path& path) {
    for (unsigned char c : path.string())
        if (c <= ' ' || c == 0x7f || std::string_view("\"'\\%$").find(static_cast<char>(c)) != std::string_view::npos)
            return false;
    return true;
}

// An empty folder of this process's own, removed when it ends: curl, under git, trusts the
// system's CA folder besides http.sslCAInfo unless http.sslCAPath names another one. Empty when
// it cannot be made.
const std::filesystem::path& empty_folder() {
    struct Folder {
        std::filesystem::path path;
        Folder() {
            std::error_code ec;
            std::string name = (std::filesystem::temp_directory_path(ec) / "geo-ssf-no-ca-XXXXXX").string();
            if (!ec && ::mkdtemp(name.data()))
                path = name;
        }
        ~Folder() {
            std::error_code ec;
            if (!path.empty())
                std::filesystem::remove(path, ec);
        }
    };
    static const Folder folder;
    return folder.path;
}

// git's http.proxy from the user's or the system's git configuration, which libgit2 reads and
// the git program is told not to; empty when there is none.
std::string configured_http_proxy() {
    git::Library library;
    git_config* raw = nullptr;
    if (git_config_open_default(&raw) != 0)
        return "";
    git::Config defaults(raw);
    git::Buffer proxy;
    if (git_config_get_string_buf(proxy.get(), defaults.get(), "http.proxy") != 0)
        return "";
    return std::string(proxy.view());
}

bool has_line_break(const std::string& text) { return text.find_first_of("\r\n") != std::string::npos; }

}  // namespace

std::optional<GitSetup> git_transport(const std::string& url, const TransportSettings& settings) {
    auto parsed = parse_url(url);
    if (!parsed)
        return std::nullopt;  // libgit2 says what is wrong with it
    if (parsed->password)
        return std::nullopt;  // it would be in git's command line, which any local user can read
    GitSetup setup;
    std::vector<std::string>& env = setup.environment;
    if (parsed->scheme == "ssh") {
        auto known_hosts =
            settings.ssh_known_hosts.empty() ? default_known_hosts() : settings.ssh_known_hosts;
        if (!settings.ssh_key_passphrase_file.empty() || !plain_for_ssh(known_hosts) ||
            (!settings.ssh_key.empty() && !plain_for_ssh(settings.ssh_key)))
            return std::nullopt;
        std::string command = "ssh -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=yes -o UpdateHostKeys=no"
                              " -o CheckHostIP=no -o GlobalKnownHostsFile=/dev/null -o UserKnownHostsFile=" +
                              shell_quoted(known_hosts.string());
        if (parsed->user.value_or("").empty())  // as libgit2, which logs in as git; ssh would take the local user
            command += " -o User=git";
        if (!settings.ssh_key.empty())
            command += " -o IdentitiesOnly=yes -o IdentityAgent=none -i " + shell_quoted(settings.ssh_key.string());
        env.push_back("GIT_SSH_COMMAND=" + command);
        env.push_back("GIT_SSH_VARIANT=ssh");
        return setup;
    }
    if (parsed->scheme != "https" && parsed->scheme != "http")
        return std::nullopt;
    auto& config = setup.config;
    if (auto proxy = configured_http_proxy(); !proxy.empty())
        config.emplace_back("http.proxy", proxy);
    if (!settings.ca_file.empty()) {
        if (empty_folder().empty())
            return std::nullopt;
        config.emplace_back("http.sslCAInfo", settings.ca_file.string());
        config.emplace_back("http.sslCAPath", empty_folder().string());
    }
    std::string failure;
    auto given = password_for(settings, parsed->user.value_or(""), failure);
    if (given && (has_line_break(given->user) || has_line_break(given->password)))
        return std::nullopt;  // they would end the helper's answer early
    if (!given && parsed->user)
        return std::nullopt;  // the URL's user (a token?) goes to git only through the helper below
    if (given) {
        // Given only to the primary's host, when it asks ("get"); never stored or erased elsewhere.
        config.emplace_back("credential." + origin_of(*parsed) + ".helper",
                            "!f() { test \"$1\" = get && printf 'username=%s\\npassword=%s\\n' "
                            "\"$GEO_SSF_GIT_USER\" \"$GEO_SSF_GIT_PASSWORD\"; }; f");
        env.push_back("GEO_SSF_GIT_USER=" + given->user);
        env.push_back("GEO_SSF_GIT_PASSWORD=" + given->password);
        std::fill(given->password.begin(), given->password.end(), '\0');
    }
    return setup;
}

}  // namespace geo_ssf
