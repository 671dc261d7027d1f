// Secondaries that fetch over the network: ssh:// from OpenSSH's sshd, https:// from lighttpd
// running git http-backend and git:// from git daemon, all started by the tests; keys, host
// keys, TLS, credentials, proxies and time bounds (a silent server, and a relay that stops
// forwarding mid-pack).
#include "secondary_fixture.hpp"
#include "servers.hpp"

#include "common/redact.hpp"
#include "repo/git_program.hpp"
#include "repo/git_transport.hpp"

#include <nlohmann/json.hpp>

#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <memory>
#include <string>

using namespace geo_ssf::test;

namespace {

// Points the secondary at PRIMARY_URL with the storage keys EXTRA ("ssh_key: ...\n").
void set_storage(SecondaryFixture& site, const std::string& primary_url, const std::string& extra) {
    std::string text = read_file(site.secondary_config);
    auto at = text.find("storage:");
    text = text.substr(0, at) + "storage:\n  root: secondary-repositories\n  primary_url: \"" + primary_url + "\"\n" +
           extra;
    write_file(site.secondary_config, text);
}

std::string indent(const std::string& key, const std::filesystem::path& value) {
    return "  " + key + ": \"" + value.string() + "\"\n";
}

// Environment without proxies, so that the tests reach 127.0.0.1 directly unless they ask.
RunOptions direct(std::map<std::string, std::string> extra = {}) {
    RunOptions options;
    for (const char* name : {"https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"})
        options.env[name] = "";
    options.env["no_proxy"] = "";
    options.env["NO_PROXY"] = "";
    options.env["SSH_AUTH_SOCK"] = "";
    for (auto& [k, v] : extra)
        options.env[k] = v;
    return options;
}

// A branch "big" on record 1's repository whose pack is far larger than what a StallingRelay
// lets through: random blobs do not compress.
void add_big_branch(SecondaryFixture& site) {
    auto work = site.dir / "work";
    shell("git clone -q '" + site.repository(1).string() + "' '" + work.string() + "' && cd '" + work.string() +
          "' && for i in 1 2 3 4; do head -c 262144 /dev/urandom >blob$i; done && git add . && "
          "git commit -q -m 'random blobs' && git push -q origin HEAD:refs/heads/big");
}

// OPTIONS with a PATH on which there is no git: libgit2 fetches from every primary.
RunOptions without_git(const SecondaryFixture& site, RunOptions options) {
    options.env["PATH"] = (site.dir / "no-programs").string();
    return options;
}

}  // namespace

TEST_SUITE("transports") {

TEST_CASE("transports: git:// from git daemon, by git and without git on PATH: first sync, a push, deleted refs") {
    SecondaryFixture site;
    GitDaemon daemon(site.dir / "git-daemon", site.storage);
    site.add_records(1, 2);
    REQUIRE(site.run({"verify"}).status == 0);
    set_storage(site, daemon.url_base() + "/", "");
    RunOptions options = direct();
    SUBCASE("git fetches") {}
    SUBCASE("libgit2 fetches") { options = without_git(site, options); }
    CAPTURE(options.env.count("PATH"));

    RunResult sync = site.secondary({"sync"}, options);
    CAPTURE(sync.err);
    REQUIRE(sync.status == 0);
    for (long long id : {1, 2})
        CHECK(refs_of(site.copy(id)) == refs_of(site.repository(id)));
    RunResult verify = site.secondary({"verify"}, options);
    CAPTURE(verify.err);
    CHECK(verify.status == 0);
    CHECK(site.registry_count("verification_state = 2") == 2);

    site.push(1);
    shell("git -C '" + site.repository(1).string() + "' tag -d v1 >/dev/null");
    RunResult resync = site.secondary({"resync", "cool_widget", "1", "--now"}, options);
    CAPTURE(resync.err);
    REQUIRE(resync.status == 0);
    CHECK(refs_of(site.copy(1)) == refs_of(site.repository(1)));
}

TEST_CASE("transports: ssh with a key file and known_hosts, by git and without git on PATH: first sync, a push, a wrong "
          "key, a stopped server") {
    SecondaryFixture site;
    SshServer server(site.dir / "ssh");
    site.add_records(1, 2);
    REQUIRE(site.run({"verify"}).status == 0);
    std::string keys = indent("ssh_key", server.user_key()) + indent("ssh_known_hosts", server.known_hosts());
    set_storage(site, server.url_base() + site.storage.string(), keys);
    RunOptions options = direct();
    bool by_git = true;
    SUBCASE("git fetches") {}
    SUBCASE("libgit2 fetches") {
        options = without_git(site, options);
        by_git = false;
    }
    CAPTURE(by_git);

    RunResult sync = site.secondary({"-vv", "sync"}, options);
    CAPTURE(sync.err);
    CHECK(sync.status == 0);
    CHECK((sync.err.find(": git clone --mirror from " + geo_ssf::redact_url_credentials(server.url_base())) != std::string::npos) == by_git);
    for (long long id : {1, 2})
        CHECK(refs_of(site.copy(id)) == refs_of(site.repository(id)));
    CHECK(site.secondary({"verify"}, options).status == 0);
    CHECK(site.registry_count("verification_state = 2") == 2);
    RunResult check = site.secondary({"check"}, direct());
    CAPTURE(check.out);
    CHECK(check.status == 0);
    CHECK(check.out.find("passed  primary reachable for cool_widget: " + geo_ssf::redact_url_credentials(server.url_base())) != std::string::npos);
    CHECK(check.out.find("passed  primary's identity for cool_widget: host key ssh-ed25519 " + server.host_fingerprint() +
                         " of [127.0.0.1]:" + std::to_string(server.port()) + " is in " + server.known_hosts().string() +
                         "\n") != std::string::npos);
    CHECK(check.out.find("passed  primary's authentication for cool_widget: accepted: storage.ssh_key " +
                         server.user_key().string()) != std::string::npos);

    // Incremental: a push and its event.
    site.push(1);
    REQUIRE(site.run({"event", "cool_widget", "updated", "1"}).status == 0);
    sync = site.secondary({"-vv", "sync"}, options);
    CHECK(sync.status == 0);
    CHECK(refs_of(site.copy(1)) == refs_of(site.repository(1)));
    CHECK((sync.err.find(": git fetch --prune from " + geo_ssf::redact_url_credentials(server.url_base())) != std::string::npos) == by_git);

    // A wrong key: the records it fetches fail with the reason and back off; the others stay synced.
    set_storage(site, server.url_base() + site.storage.string(),
                indent("ssh_key", server.wrong_key()) + indent("ssh_known_hosts", server.known_hosts()));
    site.push(1);
    REQUIRE(site.run({"event", "cool_widget", "updated", "1"}).status == 0);
    sync = site.secondary({"sync"}, options);
    CHECK(sync.status == 1);
    CHECK(site.registry(1, "state") == "3");
    std::string failure = site.registry(1, "last_sync_failure");
    CHECK(failure.find("authentication to 127.0.0.1 failed with storage.ssh_key " + server.wrong_key().string()) !=
          std::string::npos);
    CHECK(site.registry(1, "retry_count") == "1");
    CHECK(site.registry(1, "retry_at > now() + interval '10 seconds'") == "true");
    CHECK(site.registry(2, "state") == "2");
    CHECK(refs_of(site.copy(2)) == refs_of(site.repository(2)));

    // The server goes away: a clear failure, nothing half-written, and a later run heals.
    set_storage(site, server.url_base() + site.storage.string(), keys);
    server.stop();
    REQUIRE(site.secondary({"resync", "cool_widget", "--failed"}).status == 0);
    sync = site.secondary({"sync"}, options);
    CHECK(sync.status == 1);
    CHECK(site.registry(1, "last_sync_failure").find("Connection refused") != std::string::npos);
    CHECK(std::filesystem::is_empty(site.secondary_storage / ".geo-ssf-tmp"));
}

TEST_CASE("transports: over ssh, a run's listings and fetches share one connection, closed when the run ends") {
    SecondaryFixture site;
    SshServer server(site.dir / "ssh");
    site.add_records(1, 3);
    set_storage(site, server.url_base() + site.storage.string(),
                indent("ssh_key", server.user_key()) + indent("ssh_known_hosts", server.known_hosts()));
    auto tmp = site.dir / "tmp";  // where the run keeps the shared connection's socket
    std::filesystem::create_directories(tmp);
    RunOptions options = direct({{"TMPDIR", tmp.string()}});
    RunResult sync = site.secondary({"sync", "--jobs", "1"}, options);
    CAPTURE(sync.err);
    CHECK(sync.status == 0);
    for (long long id : {1, 2, 3})
        CHECK(refs_of(site.copy(id)) == refs_of(site.repository(id)));
    // Three listings and three clones, one login: each would log in twice by itself.
    std::string log = read_file(site.dir / "ssh" / "sshd.log");
    size_t logins = 0;
    for (size_t at = log.find("Accepted publickey"); at != std::string::npos; at = log.find("Accepted publickey", at + 1))
        ++logins;
    CAPTURE(log);
    CHECK(logins == 1);
    // The connection is closed when the run ends, not left to linger, and its folder goes.
    CHECK(wait_until([&] { return log.find("Received disconnect") != std::string::npos ||
                                  (log = read_file(site.dir / "ssh" / "sshd.log")).find("Received disconnect") !=
                                      std::string::npos; },
                     std::chrono::seconds(30)));
    CHECK(std::filesystem::is_empty(tmp));
}

TEST_CASE("transports: ssh stopped mid-run: the fetched records are synced, the rest fail and heal later") {
    SecondaryFixture site;
    // Each record's fetch waits a second for the server: the test stops it long before all 8
    // are through, however slow the machine.
    auto server = std::make_unique<SshServer>(site.dir / "ssh", "1");
    site.add_records(1, 8);
    set_storage(site, server->url_base() + site.storage.string(),
                indent("ssh_key", server->user_key()) + indent("ssh_known_hosts", server->known_hosts()));
    RunOptions options = direct();
    BackgroundRun run({"-c", site.secondary_config.string(), "sync", "--jobs", "1"}, options);
    REQUIRE(wait_until([&] { return std::filesystem::exists(site.copy(1)); }));
    server->stop();
    RunResult sync = run.wait();
    CAPTURE(sync.err);
    CHECK(sync.status == 1);
    long long synced = site.registry_count("state = 2"), failed = site.registry_count("state = 3");
    CHECK(synced >= 1);
    CHECK(failed >= 1);
    CHECK(synced + failed == 8);
    // Records after the stop find no server; the one fetching as it stopped sees its connection,
    // which the run's fetches shared, go.
    CHECK(site.registry_count("state = 3 AND last_sync_failure LIKE '%Connection refused%'") >= 1);
    CHECK(site.registry_count("state = 3 AND last_sync_failure NOT LIKE '%Connection refused%' AND "
                              "last_sync_failure NOT LIKE '%Connection reset by peer%' AND "
                              "last_sync_failure NOT LIKE '%closed by remote host%'") == 0);
    CHECK(std::filesystem::is_empty(site.secondary_storage / ".geo-ssf-tmp"));

    server = std::make_unique<SshServer>(site.dir / "ssh2");
    set_storage(site, server->url_base() + site.storage.string(),
                indent("ssh_key", server->user_key()) + indent("ssh_known_hosts", server->known_hosts()));
    REQUIRE(site.secondary({"resync", "cool_widget", "--failed"}).status == 0);
    sync = site.secondary({"sync"}, direct());
    CHECK(sync.status == 0);
    CHECK(site.registry_count("state = 2") == 8);
}

TEST_CASE("transports: ssh host keys are never trusted on first use") {
    SecondaryFixture site;
    SshServer server(site.dir / "ssh");
    site.add_records(1, 1);
    std::string host = "[127.0.0.1]:" + std::to_string(server.port());

    SUBCASE("unknown") {
        write_file(site.dir / "empty_known_hosts", "");
        set_storage(site, server.url_base() + site.storage.string(),
                    indent("ssh_key", server.user_key()) + indent("ssh_known_hosts", site.dir / "empty_known_hosts"));
        RunResult sync = site.secondary({"sync"}, direct());
        CAPTURE(sync.out);
        CAPTURE(sync.err);
        CHECK(sync.status == 1);
        std::string failure = site.registry(1, "last_sync_failure");
        CHECK(failure.find("unknown host key for " + host + ": ssh-ed25519 " + server.host_fingerprint()) !=
              std::string::npos);
        CHECK(!std::filesystem::exists(site.copy(1)));
        RunResult check = site.secondary({"check"}, direct());
        CHECK(check.status == 1);
        CHECK(check.out.find("FAILED  primary's identity for cool_widget: cannot connect to " + geo_ssf::redact_url_credentials(server.url_base())) !=
              std::string::npos);
        CHECK(check.out.find("unknown host key for " + host) != std::string::npos);
    }
    SUBCASE("changed") {
        shell("ssh-keygen -q -t ed25519 -N '' -f '" + (site.dir / "other").string() + "'");
        write_file(site.dir / "changed_known_hosts", "# another key\n" + host + " " + read_file(site.dir / "other.pub"));
        set_storage(site, server.url_base() + site.storage.string(),
                    indent("ssh_key", server.user_key()) + indent("ssh_known_hosts", site.dir / "changed_known_hosts"));
        RunResult sync = site.secondary({"sync"}, direct());
        CAPTURE(sync.out);
        CAPTURE(sync.err);
        CHECK(sync.status == 1);
        CHECK(site.registry(1, "last_sync_failure").find("HOST KEY CHANGED for " + host + ": it offers ssh-ed25519 " +
                                                         server.host_fingerprint()) != std::string::npos);
    }
    SUBCASE("hashed entry") {
        shell("cp '" + server.known_hosts().string() + "' '" + (site.dir / "hashed").string() + "' && ssh-keygen -q -H -f '" +
              (site.dir / "hashed").string() + "'");
        CHECK(read_file(site.dir / "hashed").rfind("|1|", 0) == 0);
        set_storage(site, server.url_base() + site.storage.string(),
                    indent("ssh_key", server.user_key()) + indent("ssh_known_hosts", site.dir / "hashed"));
        RunResult sync = site.secondary({"sync"}, direct());
        CAPTURE(sync.err);
        CHECK(sync.status == 0);
    }
}

TEST_CASE("transports: ssh through the ssh-agent") {
    SecondaryFixture site;
    SshServer server(site.dir / "ssh");
    site.add_records(1, 1);
    set_storage(site, server.url_base() + site.storage.string(), indent("ssh_known_hosts", server.known_hosts()));
    std::string socket = (site.dir / "agent.sock").string();
    Daemon agent("/usr/bin/ssh-agent", {"-D", "-a", socket}, site.dir / "agent.log");
    REQUIRE(wait_until([&] { return std::filesystem::exists(socket); }));
    shell("SSH_AUTH_SOCK='" + socket + "' ssh-add '" + server.user_key().string() + "' 2>/dev/null");
    RunResult sync = site.secondary({"sync"}, direct({{"SSH_AUTH_SOCK", socket}}));
    CAPTURE(sync.err);
    CHECK(sync.status == 0);
    CHECK(refs_of(site.copy(1)) == refs_of(site.repository(1)));
}

TEST_CASE("transports: https with basic auth and a CA of the site's own, by git and without git on PATH: first sync, a "
          "push, a proxy") {
    SecondaryFixture site;
    const std::string secret = "s3cret-Pa55word-xyzzy";
    HttpsServer server(site.dir / "https", site.storage, "geo", secret);
    site.add_records(1, 2);
    REQUIRE(site.run({"verify"}).status == 0);
    write_file(site.dir / "credentials", "geo:" + secret + "\n");
    chmod((site.dir / "credentials").c_str(), 0600);
    std::string keys = indent("ca_file", server.ca_file()) + indent("credentials_file", site.dir / "credentials");
    set_storage(site, server.url_base(), keys);
    RunOptions options = direct();
    bool by_git = true;
    SUBCASE("git fetches") {}
    SUBCASE("libgit2 fetches") {
        options = without_git(site, options);
        by_git = false;
    }
    CAPTURE(by_git);

    RunResult sync = site.secondary({"-vv", "sync"}, options);
    CAPTURE(sync.err);
    CHECK(sync.status == 0);
    CHECK((sync.err.find(": git clone --mirror from " + geo_ssf::redact_url_credentials(server.url_base())) != std::string::npos) == by_git);
    CHECK(sync.err.find(secret) == std::string::npos);
    for (long long id : {1, 2})
        CHECK(refs_of(site.copy(id)) == refs_of(site.repository(id)));
    CHECK(site.secondary({"verify"}, options).status == 0);
    CHECK(site.registry_count("verification_state = 2") == 2);

    site.push(2);
    REQUIRE(site.run({"event", "cool_widget", "updated", "2"}).status == 0);
    ConnectProxy proxy;
    RunOptions proxied = options;
    proxied.env["https_proxy"] = "http://127.0.0.1:" + std::to_string(proxy.port());
    sync = site.secondary({"-vv", "sync"}, proxied);
    CAPTURE(sync.err);
    CHECK(sync.status == 0);
    CHECK((sync.err.find(": git fetch --prune from " + geo_ssf::redact_url_credentials(server.url_base())) != std::string::npos) == by_git);
    CHECK(refs_of(site.copy(2)) == refs_of(site.repository(2)));
    CHECK(proxy.tunnels() >= 1);  // the one connection of a fetch, git's or libgit2's, goes through it

    SUBCASE("a credentials file others may read is refused") {
        chmod((site.dir / "credentials").c_str(), 0644);
        RunResult refused = site.secondary({"sync"}, direct());
        CHECK(refused.status == 3);
        CHECK(refused.err.find("storage.credentials_file: " + (site.dir / "credentials").string() +
                               " has mode 0644; a file holding a secret must be readable by its owner only") !=
              std::string::npos);
    }
}

TEST_CASE("transports: sync.max_refs stops git within the primary's listing over git://, ssh and https") {
    SecondaryFixture site;
    site.add_records(1, 2);
    std::unique_ptr<GitDaemon> daemon;
    std::unique_ptr<SshServer> ssh;
    std::unique_ptr<HttpsServer> https;
    const std::string secret = "max-refs-Pa55word";
    RunOptions options = direct();
    SUBCASE("git://") {
        daemon = std::make_unique<GitDaemon>(site.dir / "git-daemon", site.storage);
        set_storage(site, daemon->url_base() + "/", "");
    }
    SUBCASE("ssh") {
        ssh = std::make_unique<SshServer>(site.dir / "ssh");
        set_storage(site, ssh->url_base() + site.storage.string(),
                    indent("ssh_key", ssh->user_key()) + indent("ssh_known_hosts", ssh->known_hosts()));
    }
    SUBCASE("https") {
        https = std::make_unique<HttpsServer>(site.dir / "https", site.storage, "geo", secret);
        write_file(site.dir / "credentials", "geo:" + secret + "\n");
        chmod((site.dir / "credentials").c_str(), 0600);
        set_storage(site, https->url_base(),
                    indent("ca_file", https->ca_file()) + indent("credentials_file", site.dir / "credentials"));
    }
    RunResult sync = site.secondary({"-vv", "sync"}, options);
    CAPTURE(sync.err);
    REQUIRE(sync.status == 0);
    REQUIRE(sync.err.find("git clone --mirror") != std::string::npos);  // git, not libgit2, fetches
    write_file(site.secondary_config, read_file(site.secondary_config) + "sync: {max_refs: 100}\n");
    // Far more refs than the limit and than the trace's pipe holds: 3,000 more.
    add_refs(site.repository(1), 1500, "many-");
    add_refs(site.repository(2), 1500, "many-");
    std::string before = refs_of(site.copy(1));
    std::filesystem::remove_all(site.copy(2));
    RunResult refused = site.secondary({"resync", "cool_widget", "1", "2", "--now"}, options);
    CAPTURE(refused.out);
    CHECK(refused.status == 1);
    for (long long id : {1, 2}) {
        CAPTURE(id);
        std::string failure = site.registry(id, "last_sync_failure");
        CHECK_MESSAGE(failure.find("more refs than sync.max_refs (100) allows") != std::string::npos, failure);
    }
    CHECK(refs_of(site.copy(1)) == before);
    CHECK(!std::filesystem::exists(site.copy(2)));
}

TEST_CASE("transports: a repository the https server answers 404 for is synced as missing on the primary") {
    SecondaryFixture site;
    HttpsServer server(site.dir / "https", site.storage, "geo", "s3cret-Pa55word-404");
    site.add_records(1, 2);
    REQUIRE(site.run({"verify"}).status == 0);
    std::filesystem::remove_all(site.repository(2));
    write_file(site.dir / "credentials", "geo:s3cret-Pa55word-404\n");
    chmod((site.dir / "credentials").c_str(), 0600);
    set_storage(site, server.url_base(),
                indent("ca_file", server.ca_file()) + indent("credentials_file", site.dir / "credentials"));
    RunOptions options = direct();
    SUBCASE("git fetches") {}
    SUBCASE("libgit2 fetches") { options = without_git(site, options); }
    CAPTURE(options.env.count("PATH"));

    RunResult sync = site.secondary({"sync"}, options);
    CAPTURE(sync.err);
    CHECK(sync.status == 0);
    CHECK(site.registry(1, "missing_on_primary") == "false");
    CHECK(site.registry(2, "state") == "2");
    CHECK(site.registry(2, "missing_on_primary") == "true");
    CHECK_FALSE(std::filesystem::exists(site.copy(2)));
}

TEST_CASE("transports: https with a wrong password or an untrusted certificate fails clearly, never shows the secret") {
    SecondaryFixture site;
    const std::string secret = "right-Secret-4711";
    const std::string wrong = "wrong-Secret-0815";
    HttpsServer server(site.dir / "https", site.storage, "geo", secret);
    site.add_records(1, 2);
    site.add_records(404, 404);  // its URL says 404, which is no answer from the server
    REQUIRE(site.run({"verify"}).status == 0);
    std::string url = server.url_base();
    url.insert(url.find("//") + 2, "geo@");
    std::vector<RunResult> outputs;

    set_storage(site, url, indent("ca_file", server.ca_file()));
    RunOptions options = direct({{"GEO_SSF_PRIMARY_PASSWORD", wrong}});
    outputs.push_back(site.secondary({"-v", "sync"}, options));
    CHECK(outputs.back().status == 1);
    CHECK(site.registry(1, "state") == "3");
    CHECK(site.registry(404, "state") == "3");
    CHECK(site.registry(404, "missing_on_primary") == "false");
    CHECK(site.registry(1, "last_sync_failure").find("authentication to localhost failed with GEO_SSF_PRIMARY_PASSWORD (the URL's user)") !=
          std::string::npos);
    CHECK(site.registry(1, "retry_at > now()") == "true");
    outputs.push_back(site.secondary({"--log-format", "json", "-v", "sync"}, options));
    outputs.push_back(site.secondary({"show", "cool_widget", "1", "--format", "json"}, options));
    outputs.push_back(site.secondary({"list", "cool_widget", "--format", "json"}, options));
    outputs.push_back(site.secondary({"status", "--format", "json"}, options));
    outputs.push_back(site.secondary({"check"}, options));
    CHECK(outputs.back().status == 1);
    CHECK(outputs.back().out.find("FAILED  primary's authentication for cool_widget: cannot connect to https://***@localhost") !=
          std::string::npos);
    CHECK(outputs.back().out.find("passed  primary's identity for cool_widget: TLS certificate of localhost verified against " +
                                  server.ca_file().string()) != std::string::npos);
    outputs.push_back(site.secondary({"resync", "cool_widget", "1", "--now"}, options));

    // The right password through the environment works.
    REQUIRE(site.secondary({"resync", "cool_widget", "--failed"}).status == 0);
    outputs.push_back(site.secondary({"sync"}, direct({{"GEO_SSF_PRIMARY_PASSWORD", secret}})));
    CHECK(outputs.back().status == 0);
    CHECK(site.registry_count("state = 2") == 3);

    // No ca_file: the certificate is not trusted.
    set_storage(site, url, "");
    REQUIRE(site.secondary({"resync", "cool_widget", "1"}).status == 0);
    outputs.push_back(site.secondary({"sync"}, direct({{"GEO_SSF_PRIMARY_PASSWORD", secret}})));
    CHECK(outputs.back().status == 1);
    CHECK(site.registry(1, "last_sync_failure").find("the TLS certificate of localhost is not valid") != std::string::npos);

    for (const auto& output : outputs) {
        CHECK(output.out.find(secret) == std::string::npos);
        CHECK(output.err.find(secret) == std::string::npos);
        CHECK(output.out.find(wrong) == std::string::npos);
        CHECK(output.err.find(wrong) == std::string::npos);
    }
    std::string rows = site.geo_db.scalar("SELECT string_agg(r::text, ' ') FROM cool_widget_registry r");
    CHECK(rows.find(secret) == std::string::npos);
    CHECK(rows.find(wrong) == std::string::npos);
    CHECK(read_file(server.error_log()).find(wrong) == std::string::npos);
}

TEST_CASE("transports: a primary that accepts and never answers is abandoned after fetch_stall_timeout") {
    SecondaryFixture site;
    SilentServer silent;
    site.add_records(1, 3);
    std::string bounds = "  fetch_stall_timeout: 2s\n  fetch_timeout: 1h\n";
    // git:// is fetched by the git program, which geo-ssf stops itself; ssh:// and https:// by libgit2.
    for (std::string scheme : {"ssh://", "https://", "git://"}) {
        CAPTURE(scheme);
        set_storage(site, scheme + "127.0.0.1:" + std::to_string(silent.port()) + "/repositories", bounds);
        REQUIRE(site.secondary({"resync", "cool_widget", "--all"}).status == 0);
        // Each fetch takes the 2s of the stall bound: the run reaches --max-runtime (3s, a margin
        // for its start on a slow machine) during the first or the second, never the third.
        RunResult sync = site.secondary({"sync", "--jobs", "1", "--max-runtime", "3s"}, direct());
        CAPTURE(sync.err);
        CHECK(sync.status == 1);
        // The run stopped at --max-runtime after the fetch under way, which the stall ended.
        CHECK(site.registry_count("state = 3") >= 1);
        CHECK(site.registry_count("state = 3") < 3);
        CHECK(site.geo_db.scalar("SELECT min(last_sync_failure) FROM cool_widget_registry WHERE state = 3")
                  .find("no data from the primary for 2s (storage.fetch_stall_timeout)") != std::string::npos);
    }
    for (std::string scheme : {"ssh://", "git://"}) {
        CAPTURE(scheme);
        set_storage(site, scheme + "127.0.0.1:" + std::to_string(silent.port()) + "/repositories",
                    "  fetch_stall_timeout: 1h\n  fetch_timeout: 2s\n");
        REQUIRE(site.secondary({"resync", "cool_widget", "1"}).status == 0);
        RunResult sync = site.secondary({"sync", "--jobs", "1"}, direct());
        CAPTURE(sync.err);
        CHECK(sync.status == 1);
        CHECK(site.registry(1, "last_sync_failure").find("the fetch took longer than storage.fetch_timeout (2s)") !=
              std::string::npos);
    }
}

TEST_CASE("transports: a server that stops sending mid-pack is abandoned after fetch_stall_timeout; nothing half-written") {
    SecondaryFixture site;
    site.add_records(1, 1);
    add_big_branch(site);
    GitDaemon daemon(site.dir / "git-daemon", site.storage);
    const size_t limit = 64 * 1024;
    StallingRelay relay(daemon.port(), limit);
    set_storage(site, "git://127.0.0.1:" + std::to_string(relay.port()), "  fetch_stall_timeout: 2s\n  fetch_timeout: 1h\n");

    RunResult sync = site.secondary({"sync"}, direct());
    CAPTURE(sync.err);
    CHECK(sync.status == 1);
    CHECK(relay.stalled() >= 1);
    CHECK(site.registry(1, "state") == "3");
    CHECK(site.registry(1, "last_sync_failure").find("no data from the primary for 2s (storage.fetch_stall_timeout)") !=
          std::string::npos);
    // Nothing half-written: no repository at the record's path, nothing left in the temporary folder.
    CHECK_FALSE(std::filesystem::exists(site.copy(1)));
    CHECK((!std::filesystem::exists(site.copy(1).parent_path()) || std::filesystem::is_empty(site.copy(1).parent_path())));
    CHECK(std::filesystem::is_empty(site.secondary_storage / ".geo-ssf-tmp"));

    // Straight to the server, the next sync succeeds.
    set_storage(site, daemon.url_base(), "  fetch_stall_timeout: 2s\n  fetch_timeout: 1h\n");
    REQUIRE(site.secondary({"resync", "cool_widget", "--failed"}).status == 0);
    sync = site.secondary({"sync"}, direct());
    CAPTURE(sync.err);
    CHECK(sync.status == 0);
    CHECK(refs_of(site.copy(1)) == refs_of(site.repository(1)));
    CHECK(refs_of(site.copy(1)).find("refs/heads/big") != std::string::npos);
    CHECK(std::filesystem::is_empty(site.secondary_storage / ".geo-ssf-tmp"));
}

TEST_CASE("transports: a stop request ends a git fetch waiting for data; the record is put back, not failed") {
    SecondaryFixture site;
    site.add_records(1, 1);
    add_big_branch(site);
    GitDaemon daemon(site.dir / "git-daemon", site.storage);
    StallingRelay relay(daemon.port(), 64 * 1024);
    set_storage(site, "git://127.0.0.1:" + std::to_string(relay.port()), "  fetch_stall_timeout: 1h\n  fetch_timeout: 1h\n");

    BackgroundRun run({"-c", site.secondary_config.string(), "-vv", "sync"}, direct());
    REQUIRE(wait_until([&] { return relay.stalled() >= 1; }));  // git is inside the pack, waiting for the rest
    run.signal(SIGTERM);
    RunResult stopped = run.wait();
    CAPTURE(stopped.err);
    CHECK(stopped.status == 0);
    CHECK(stopped.err.find("git clone --mirror from git://") != std::string::npos);
    // Put back as it was: not failed, no backoff, nothing half-written, no git left running.
    CHECK(site.registry(1, "state") == "0");
    CHECK(site.registry(1, "retry_count") == "0");
    CHECK(site.registry(1, "last_sync_failure IS NULL") == "true");
    CHECK_FALSE(std::filesystem::exists(site.copy(1)));
    CHECK(std::filesystem::is_empty(site.secondary_storage / ".geo-ssf-tmp"));
    std::string tmp = (site.secondary_storage / ".geo-ssf-tmp").string();
    CHECK(shell("pgrep -f -- '[" + tmp.substr(0, 1) + "]" + tmp.substr(1) + "' || true").empty());  // not this shell

    set_storage(site, daemon.url_base(), "");
    RunResult sync = site.secondary({"sync"}, direct());
    CAPTURE(sync.err);
    CHECK(sync.status == 0);
    CHECK(refs_of(site.copy(1)) == refs_of(site.repository(1)));
}

TEST_CASE("transports: the git program checks the host key, the certificate and the credentials itself") {
    SecondaryFixture site;
    site.add_records(1, 1);
    auto git = geo_ssf::git_program();
    REQUIRE(git);
    // What `git ls-remote URL` says when run as geo-ssf runs git for SETTINGS: "ok" or its failure.
    auto ls_remote = [&](const std::string& url, const geo_ssf::TransportSettings& settings) -> std::string {
        auto setup = geo_ssf::git_transport(url, settings);
        REQUIRE(setup);
        try {
            geo_ssf::run_git(*git, {"ls-remote", url}, settings, "ls-remote", *setup);
            return "ok";
        } catch (const geo_ssf::GitError& e) {
            return e.what();
        }
    };
    geo_ssf::TransportSettings settings;
    settings.fetch_timeout = std::chrono::minutes(1);
    for (const auto& [name, value] : direct().env)  // git runs with this process's environment
        setenv(name.c_str(), value.c_str(), 1);

    SUBCASE("ssh") {
        SshServer server(site.dir / "ssh");
        std::string url = server.url_base() + site.repository(1).string();
        settings.ssh_key = server.user_key();
        settings.ssh_known_hosts = server.known_hosts();
        CHECK(ls_remote(url, settings) == "ok");
        // Another key under the server's name, and no key at all: refused, nothing learnt.
        write_file(site.dir / "other_known_hosts",
                   "[127.0.0.1]:" + std::to_string(server.port()) + " " + read_file(site.dir / "ssh" / "wrong_key.pub"));
        write_file(site.dir / "no_known_hosts", "");
        for (const char* file : {"other_known_hosts", "no_known_hosts"}) {
            CAPTURE(file);
            settings.ssh_known_hosts = site.dir / file;
            CHECK(ls_remote(url, settings) == "ls-remote: Host key verification failed.");  // ssh's reason, not git's advice
        }
        CHECK(read_file(site.dir / "no_known_hosts").empty());
        // A key the server does not know.
        settings.ssh_known_hosts = server.known_hosts();
        settings.ssh_key = server.wrong_key();
        CHECK(ls_remote(url, settings).find("Permission denied (publickey") != std::string::npos);
        // Without a user in the URL, the user is git, as with libgit2, not the local user.
        settings.ssh_key = server.user_key();
        std::string without_user = url;
        without_user.erase(without_user.find("//") + 2, server.user().size() + 1);
        REQUIRE(without_user.find('@') == std::string::npos);
        CHECK(ls_remote(without_user, settings) != "ok");
        CHECK(read_file(site.dir / "ssh" / "sshd.log").find("Invalid user git from 127.0.0.1") != std::string::npos);
        // Paths ssh would read otherwise, and a key with a passphrase (ssh would ask for it),
        // stay with libgit2.
        settings.ssh_known_hosts = site.dir / "known hosts";
        CHECK_FALSE(geo_ssf::git_transport(url, settings));
        settings.ssh_known_hosts = site.dir / "known_hosts_%h";
        CHECK_FALSE(geo_ssf::git_transport(url, settings));
        settings.ssh_known_hosts = server.known_hosts();
        settings.ssh_key_passphrase_file = site.dir / "passphrase";
        CHECK_FALSE(geo_ssf::git_transport(url, settings));
    }
    SUBCASE("https") {
        const std::string secret = "s3cret-Pa55word-xyzzy";
        HttpsServer server(site.dir / "https", site.storage, "geo", secret);
        std::string url = server.url_base() + "/cool_widgets/1.git";
        for (const char* name : {"right", "wrong"}) {
            write_file(site.dir / name, std::string(name) == "right" ? "geo:" + secret + "\n" : "geo:not-it\n");
            chmod((site.dir / name).c_str(), 0600);
        }
        settings.ca_file = server.ca_file();
        settings.credentials_file = site.dir / "right";
        CHECK(ls_remote(url, settings) == "ok");
        // storage.ca_file replaces the system's CA store: curl's CA folder is an empty one.
        auto setup = geo_ssf::git_transport(url, settings);
        REQUIRE(setup);
        std::optional<std::filesystem::path> ca_path;
        for (const auto& [key, value] : setup->config)
            if (key == "http.sslCAPath")
                ca_path = value;
        REQUIRE(ca_path);
        CHECK(std::filesystem::is_directory(*ca_path));
        CHECK(std::filesystem::is_empty(*ca_path));
        // A password in the URL would be in git's command line: libgit2 fetches.
        std::string with_password = url;
        with_password.insert(with_password.find("//") + 2, "geo:" + secret + "@");
        CHECK_FALSE(geo_ssf::git_transport(with_password, settings));
        settings.credentials_file = site.dir / "wrong";
        CHECK(ls_remote(url, settings) != "ok");
        settings.credentials_file.clear();  // and GEO_SSF_PRIMARY_PASSWORD is not set here: no prompt either
        REQUIRE(std::getenv("GEO_SSF_PRIMARY_PASSWORD") == nullptr);
        CHECK(ls_remote(url, settings) != "ok");
        settings.credentials_file = site.dir / "right";
        settings.ca_file.clear();  // the system's CA store does not know the site's own CA
        CHECK(ls_remote(url, settings) != "ok");
        // git's http.proxy in the user's git configuration, which libgit2 reads, reaches git too.
        settings.ca_file = server.ca_file();
        ConnectProxy proxy;
        auto home = site.dir / "home";
        std::filesystem::create_directories(home);
        write_file(home / ".gitconfig", "[http]\n\tproxy = http://127.0.0.1:" + std::to_string(proxy.port()) + "\n");
        std::string saved_home = std::getenv("HOME") ? std::getenv("HOME") : "";
        setenv("HOME", home.c_str(), 1);
        std::string through_proxy = ls_remote(url, settings);
        setenv("HOME", saved_home.c_str(), 1);
        CHECK(through_proxy == "ok");
        CHECK(proxy.tunnels() == 1);
    }
}

TEST_CASE("transports: the user of an https URL, a token, reaches git through its credential helper, never its "
          "command line nor a message") {
    SecondaryFixture site;
    const std::string token = "glpat-T0kenUser";
    const std::string secret = "x-oauth-Pa55word";
    HttpsServer server(site.dir / "https", site.storage, token, secret);
    site.add_records(1, 1);
    std::string url = server.url_base();
    url.insert(url.find("//") + 2, token + "@");
    set_storage(site, url, indent("ca_file", server.ca_file()));
    // A git on PATH that writes down each command line it is given, then does its work.
    auto bin = site.dir / "bin";
    auto log = site.dir / "git.log";
    std::string real_git = shell("command -v git");
    real_git.erase(real_git.find_last_not_of('\n') + 1);
    write_file(bin / "git", "#!/bin/sh\necho \"ARGS $*\" >>'" + log.string() + "'\nexec '" + real_git + "' \"$@\"\n");
    std::filesystem::permissions(bin / "git", std::filesystem::perms::owner_all);
    RunOptions options = direct({{"GEO_SSF_PRIMARY_PASSWORD", secret}, {"PATH", bin.string() + ":" + std::getenv("PATH")}});

    RunResult sync = site.secondary({"-vv", "sync"}, options);
    CAPTURE(sync.err);
    CHECK(sync.status == 0);
    CHECK(refs_of(site.copy(1)) == refs_of(site.repository(1)));
    std::string command_lines = read_file(log);
    CAPTURE(command_lines);
    CHECK(command_lines.find(" clone --mirror") != std::string::npos);  // git did the transfer
    CHECK(command_lines.find("T0ken") == std::string::npos);
    CHECK(sync.err.find("git clone --mirror from https://***@localhost:") != std::string::npos);
    site.push(1);
    REQUIRE(site.run({"event", "cool_widget", "updated", "1"}).status == 0);
    RunResult fetched = site.secondary({"-vv", "sync"}, options);
    CAPTURE(fetched.err);
    CHECK(fetched.status == 0);
    CHECK(refs_of(site.copy(1)) == refs_of(site.repository(1)));
    CHECK(read_file(log).find("T0ken") == std::string::npos);

    RunResult check = site.secondary({"check"}, options);
    CAPTURE(check.out);
    CHECK(check.out.find("accepted: GEO_SSF_PRIMARY_PASSWORD (the URL's user)") != std::string::npos);
    // A wrong password: refused, and neither the token nor the password is shown or stored.
    RunOptions wrong = options;
    wrong.env["GEO_SSF_PRIMARY_PASSWORD"] = "wrong-Pa55word";
    site.push(1);
    REQUIRE(site.run({"event", "cool_widget", "updated", "1"}).status == 0);
    RunResult refused = site.secondary({"-vv", "sync"}, wrong);
    CHECK(refused.status == 1);
    CHECK(site.registry(1, "last_sync_failure").find("authentication to localhost failed with GEO_SSF_PRIMARY_PASSWORD "
                                                     "(the URL's user)") != std::string::npos);
    for (const RunResult& run : {sync, fetched, check, refused, site.secondary({"show", "cool_widget", "1"}, wrong)}) {
        CHECK(run.out.find("T0ken") == std::string::npos);
        CHECK(run.err.find("T0ken") == std::string::npos);
        CHECK(run.err.find("Pa55word") == std::string::npos);
    }
    CHECK(site.geo_db.scalar("SELECT string_agg(r::text, ' ') FROM cool_widget_registry r").find("T0ken") ==
          std::string::npos);
}

TEST_CASE("transports: refs a network primary hides from upload-pack fail the verification with the reason, and the "
          "copy is not fetched again for nothing") {
    SecondaryFixture site;
    GitDaemon daemon(site.dir / "git-daemon", site.storage);
    site.add_records(1, 1);
    // Counted by the checksum, hidden by the repository's own configuration.
    shell("git -C '" + site.repository(1).string() + "' update-ref refs/keep-around/" + site.repositories.head_commit() +
          " main && git -C '" + site.repository(1).string() + "' config uploadpack.hideRefs refs/keep-around");
    REQUIRE(site.run({"verify"}).status == 0);
    set_storage(site, daemon.url_base() + "/", "");
    REQUIRE(site.secondary({"sync"}, direct()).status == 0);
    RunResult verify = site.secondary({"verify", "--format", "json"}, direct());
    CAPTURE(verify.err);
    CHECK(verify.status == 1);
    const std::string reason = "Checksum does not match the primary's, though this copy has every ref the primary "
                               "advertises: the primary's checksum counts refs it hides (uploadpack.hideRefs) or "
                               "predates its refs; not fetched again";
    CHECK(nlohmann::json::parse(verify.out)["replicables"][0]["failures"][0]["reason"] == reason);
    CHECK(site.registry(1, "verification_failure") == reason);
    CHECK(site.registry(1, "checksum_mismatch") == "true");
    CHECK(site.registry(1, "verification_retry_at > now()") == "true");
    CHECK(site.registry(1, "state") == "2");  // a fetch would bring nothing
    CHECK(nlohmann::json::parse(site.secondary({"sync", "--format", "json"}, direct()).out)["claimed"] == 0);
    CHECK(nlohmann::json::parse(site.secondary({"verify", "--format", "json"}, direct()).out)["claimed"] == 0);
}

}  // TEST_SUITE
