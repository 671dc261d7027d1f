// Secondaries that fetch over the network: ssh:// from OpenSSH's sshd and https:// from
// lighttpd running git http-backend, both started by the tests; keys, host keys, TLS,
// credentials, proxies and time bounds.
#include "secondary_fixture.hpp"
#include "servers.hpp"

#include <sys/stat.h>

#include <chrono>
#include <thread>

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

std::string remote_refs_of(const std::filesystem::path& repository) {
    return shell("git -C '" + repository.string() + "' show-ref");
}

// A new commit on main in the primary's repository of record ID.
void push(SecondaryFixture& site, long long id) {
    shell("cd '" + site.repository(id).string() +
          "' && tree=$(git rev-parse main^{tree}) && "
          "c=$(git -c user.name=t -c user.email=t@example.com commit-tree $tree -p main -m pushed) && "
          "git update-ref refs/heads/main $c");
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

}  // namespace

TEST_SUITE("transports") {

TEST_CASE("transports: ssh with a key file and known_hosts: first sync, a push, a wrong key, a stopped server") {
    SecondaryFixture site;
    SshServer server(site.dir / "ssh");
    site.add_records(1, 2);
    REQUIRE(site.run({"verify"}).status == 0);
    std::string keys = indent("ssh_key", server.user_key()) + indent("ssh_known_hosts", server.known_hosts());
    set_storage(site, server.url_base() + site.storage.string(), keys);

    RunResult sync = site.secondary({"sync"}, direct());
    CAPTURE(sync.err);
    CHECK(sync.status == 0);
    for (long long id : {1, 2})
        CHECK(remote_refs_of(site.copy(id)) == remote_refs_of(site.repository(id)));
    CHECK(site.secondary({"verify"}, direct()).status == 0);
    CHECK(site.registry_count("verification_state = 2") == 2);

    // Incremental: a push and its event.
    push(site, 1);
    REQUIRE(site.run({"event", "cool_widget", "updated", "1"}).status == 0);
    sync = site.secondary({"sync"}, direct());
    CHECK(sync.status == 0);
    CHECK(remote_refs_of(site.copy(1)) == remote_refs_of(site.repository(1)));

    // A wrong key: the records it fetches fail with the reason and back off; the others stay synced.
    set_storage(site, server.url_base() + site.storage.string(),
                indent("ssh_key", server.wrong_key()) + indent("ssh_known_hosts", server.known_hosts()));
    push(site, 1);
    REQUIRE(site.run({"event", "cool_widget", "updated", "1"}).status == 0);
    sync = site.secondary({"sync"}, direct());
    CHECK(sync.status == 1);
    CHECK(site.registry(1, "state") == "3");
    std::string failure = site.registry(1, "last_sync_failure");
    CHECK(failure.find("authentication to 127.0.0.1 failed with storage.ssh_key " + server.wrong_key().string()) !=
          std::string::npos);
    CHECK(site.registry(1, "retry_count") == "1");
    CHECK(site.registry(1, "retry_at > now() + interval '10 seconds'") == "true");
    CHECK(site.registry(2, "state") == "2");
    CHECK(remote_refs_of(site.copy(2)) == remote_refs_of(site.repository(2)));

    // The server goes away: a clear failure, nothing half-written, and a later run heals.
    set_storage(site, server.url_base() + site.storage.string(), keys);
    server.stop();
    REQUIRE(site.secondary({"resync", "cool_widget", "--failed"}).status == 0);
    sync = site.secondary({"sync"}, direct());
    CHECK(sync.status == 1);
    CHECK(site.registry(1, "last_sync_failure").find("Connection refused") != std::string::npos);
    CHECK(std::filesystem::is_empty(site.secondary_storage / ".geo-ssf-tmp"));
}

TEST_CASE("transports: ssh stopped mid-run: the fetched records are synced, the rest fail and heal later") {
    SecondaryFixture site;
    auto server = std::make_unique<SshServer>(site.dir / "ssh", "0.4");
    site.add_records(1, 8);
    set_storage(site, server->url_base() + site.storage.string(),
                indent("ssh_key", server->user_key()) + indent("ssh_known_hosts", server->known_hosts()));
    RunOptions options = direct();
    BackgroundRun run({"-c", site.secondary_config.string(), "sync", "--jobs", "1"}, options);
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::filesystem::exists(site.copy(1)) == false && std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    server->stop();
    RunResult sync = run.wait();
    CAPTURE(sync.err);
    CHECK(sync.status == 1);
    long long synced = site.registry_count("state = 2"), failed = site.registry_count("state = 3");
    CHECK(synced >= 1);
    CHECK(failed >= 1);
    CHECK(synced + failed == 8);
    CHECK(site.geo_db.scalar("SELECT min(last_sync_failure) FROM cool_widget_registry WHERE state = 3")
              .find("Connection refused") != std::string::npos);
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
        CHECK(sync.status == 1);
        std::string failure = site.registry(1, "last_sync_failure");
        CHECK(failure.find("unknown host key for " + host + ": ssh-ed25519 " + server.host_fingerprint()) !=
              std::string::npos);
        CHECK(!std::filesystem::exists(site.copy(1)));
    }
    SUBCASE("changed") {
        shell("ssh-keygen -q -t ed25519 -N '' -f '" + (site.dir / "other").string() + "'");
        write_file(site.dir / "changed_known_hosts", "# another key\n" + host + " " + read_file(site.dir / "other.pub"));
        set_storage(site, server.url_base() + site.storage.string(),
                    indent("ssh_key", server.user_key()) + indent("ssh_known_hosts", site.dir / "changed_known_hosts"));
        RunResult sync = site.secondary({"sync"}, direct());
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
    for (int i = 0; i < 100 && !std::filesystem::exists(socket); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    shell("SSH_AUTH_SOCK='" + socket + "' ssh-add '" + server.user_key().string() + "' 2>/dev/null");
    RunResult sync = site.secondary({"sync"}, direct({{"SSH_AUTH_SOCK", socket}}));
    CAPTURE(sync.err);
    CHECK(sync.status == 0);
    CHECK(remote_refs_of(site.copy(1)) == remote_refs_of(site.repository(1)));
}

}  // TEST_SUITE
