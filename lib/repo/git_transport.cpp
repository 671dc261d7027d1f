#include "repo/git_transport.hpp"

#include "common/digest.hpp"
#include "common/shell_quoted.hpp"
#include "common/subprocess.hpp"
#include "common/url.hpp"
#include "repo/credentials.hpp"
#include "repo/git.hpp"
#include "repo/known_hosts.hpp"

#include <stdlib.h>

#include <algorithm>
#include <chrono>
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

// A folder of this process's own (mkdtemp's, which only its owner may enter), removed when the
// process ends; empty when it cannot be made.
struct PrivateFolder {
    std::filesystem::path path;
    explicit PrivateFolder(const char* prefix) {
        std::error_code ec;
        std::string name = (std::filesystem::temp_directory_path(ec) / (std::string(prefix) + "XXXXXX")).string();
        if (!ec && ::mkdtemp(name.data()))
            path = name;
    }
    ~PrivateFolder() {
        std::error_code ec;
        if (!path.empty())
            std::filesystem::remove_all(path, ec);
    }
    PrivateFolder(const PrivateFolder&) = delete;
    PrivateFolder& operator=(const PrivateFolder&) = delete;
};

// An empty folder: curl, under git, trusts the system's CA folder besides http.sslCAInfo unless
// http.sslCAPath names another one.
const std::filesystem::path& empty_folder() {
    static const PrivateFolder folder("geo-ssf-no-ca-");
    return folder.path;
}

// How long a shared ssh connection outlives its last session.
constexpr char k_ssh_connection_linger[] = "60";

// Where the ssh connections to primaries are shared (ssh's ControlPath): a record's fetch
// opens one, and the next records' fetches reuse it, without a key
// exchange or a login of their own. When this process ends, each connection is closed rather
// than left to linger. Empty when there is no such folder, or its sockets' paths would be
// longer than a socket's path may be (ssh_control_path's 16 characters, and 17 more while ssh
// makes one).
const std::filesystem::path& ssh_control_folder() {
    struct Folder : PrivateFolder {
        Folder() : PrivateFolder("geo-ssf-ssh-") {
            std::error_code ec;
            if (!path.empty() && (path.string().size() + 1 + 16 + 17 >= 100 || !plain_for_ssh(path))) {
                std::filesystem::remove(path, ec);
                path.clear();
            }
        }
        ~Folder() {
            std::error_code ec;
            for (std::filesystem::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
                ProcessSpec spec;
                spec.argv = {"ssh", "-F", "/dev/null", "-o", "ControlPath=" + it->path().string(), "-O", "exit",
                             "primary"};
                spec.out = ProcessOutput::discard();
                spec.err = ProcessOutput::discard();
                ProcessLimits limits;
                limits.timeout = std::chrono::seconds(5);
                try {
                    run_process(spec, limits);
                } catch (const std::system_error&) {
                    // the connection ends on its own once it has lingered
                }
            }
        }
    };
    static const Folder folder;
    return folder.path;
}

// The socket of the connection that an ssh COMMAND to the host, port and user of URL shares, in
// FOLDER: named by a digest of all four (ssh's own %C would leave the command's key and
// known_hosts out, and take 40 characters of a socket path's 107), so that a connection opened
// under one storage's settings serves no other.
std::string ssh_control_path(const std::filesystem::path& folder, const std::string& command, const Url& url) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string name;
    for (unsigned char byte : sha256(command + '\n' + url.user.value_or("") + '@' + origin_of(url)).substr(0, 8)) {
        name += digits[byte >> 4];
        name += digits[byte & 15];
    }
    return (folder / name).string();
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
        if (const auto& folder = ssh_control_folder(); !folder.empty())
            command += std::string(" -o ControlMaster=auto -o ControlPersist=") + k_ssh_connection_linger +
                       " -o ControlPath=" + ssh_control_path(folder, command, *parsed);
        setup.ssh_command = command;
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
