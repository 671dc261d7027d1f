#include "repo/ssh_listing.hpp"

#include "common/error.hpp"
#include "common/redact.hpp"
#include "common/shell_quoted.hpp"
#include "common/subprocess.hpp"
#include "common/url.hpp"

#include <string_view>
#include <utility>
#include <vector>

namespace geo_ssf {

PrimaryListing list_over_ssh(const std::string& url, const GitSetup& setup, const TransportSettings& transport,
                             long long max_refs) {
    std::string what = "cannot list the refs of " + redact_url_credentials(url);
    auto parsed = parse_url(url);
    if (!parsed || parsed->scheme != "ssh" || parsed->host.empty() || setup.ssh_command.empty())
        throw GitError(what + ": not an ssh:// URL git can fetch from");
    // As git runs ssh: through the shell, its command's words first, then the port, the host
    // and the remote command; a path under "/~" is the home folder's, as git reads it.
    std::string path = parsed->path.starts_with("/~") ? parsed->path.substr(1) : parsed->path;
    ProcessSpec spec;
    spec.argv = {"/bin/sh", "-c", setup.ssh_command + " \"$@\"", setup.ssh_command};
    if (!parsed->port.empty())
        spec.argv.insert(spec.argv.end(), {"-p", parsed->port});
    spec.argv.push_back((parsed->user ? *parsed->user + "@" : std::string()) + parsed->host);
    spec.argv.push_back("git-upload-pack " + shell_quoted(path));
    spec.environment = git_environment(setup);
    spec.input = ProcessInput::from_text("0000");  // upload-pack ends at once after its advertisement
    spec.out = ProcessOutput::capture();
    spec.err = ProcessOutput::capture();
    spec.own_process_group = true;
    RefAdvertisementReader reader(max_refs);
    bool ended = false;
    run_transfer(spec, transport, what, [&](std::string_view out) { ended = reader.read(out); });
    if (!ended)
        throw GitError(what + ": the primary's listing ended early");
    return std::move(reader).listing();
}

}  // namespace geo_ssf
