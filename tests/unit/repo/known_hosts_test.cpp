#include "repo/known_hosts.hpp"

#include "common/base64.hpp"
#include "common/digest.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace geo_ssf;

namespace {

// Three public keys made by ssh-keygen, and the fingerprints ssh-keygen -l prints for them.
const std::string k_key = "AAAAC3NzaC1lZDI1NTE5AAAAIAwOBWtNoESLzqAjTXScup9PWFAZxKZDfGoBLv51iXBA";
const std::string k_key_fingerprint = "SHA256:59W/UiUi5mht65DUxBFdPevu0UO2h2yzDlCKNPCixH0";
const std::string k_other_key = "AAAAC3NzaC1lZDI1NTE5AAAAIB0h4MSd4cTw8EXxgyt1wATKB7rraRes7Eatn9teUgu8";
const std::string k_other_key_fingerprint = "SHA256:dqg2Ik2kzA/Panr5PYZXK0/3+PbeBLYz0XNuRKg4JzA";
const std::string k_ecdsa_key =
    "AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBKH3RFiUCh4v6qR4GpUoulocGBZAgSTgSU9x2Rma+3UUK0nn8mTq7xI67JtO+"
    "r/QuBys2AzZvFFpTfQjCtiylH4=";
const std::string k_ecdsa_key_fingerprint = "SHA256:LF7L5uSB1YQdfa2pmUU9ZkNDnDleB0JBzXiVRhQ330M";

std::string blob(const std::string& key) { return *base64_decoded(key); }

// The verdict of KNOWN_HOSTS on the ed25519 key k_key offered by HOST.
HostKeyCheck offered(const std::string& known_hosts, const std::string& host = "primary.example") {
    return check_host_key(known_hosts, host, "ssh-ed25519", sha256(blob(k_key)));
}

}  // namespace

TEST_SUITE("known_hosts") {

TEST_CASE("known_hosts::ssh_fingerprint and ssh_key_type read a key as OpenSSH does") {
    CHECK(ssh_fingerprint(blob(k_key)) == k_key_fingerprint);
    CHECK(ssh_fingerprint(blob(k_other_key)) == k_other_key_fingerprint);
    CHECK(ssh_fingerprint(blob(k_ecdsa_key)) == k_ecdsa_key_fingerprint);
    CHECK(sha256_fingerprint(sha256(blob(k_key))) == k_key_fingerprint);
    CHECK(ssh_key_type(blob(k_key)) == "ssh-ed25519");
    CHECK(ssh_key_type(blob(k_ecdsa_key)) == "ecdsa-sha2-nistp256");
    CHECK(ssh_key_type("") == "unknown");
    CHECK(ssh_key_type(std::string("\0\0\0\x40ssh", 7)) == "unknown");  // names more bytes than it has
    CHECK(ssh_key_type(std::string("\xff\xff\xff\xff", 4)) == "unknown");
}

TEST_CASE("known_hosts::known_hosts_name brackets other ports than 22") {
    CHECK(known_hosts_name("primary.example", "") == "primary.example");
    CHECK(known_hosts_name("primary.example", "22") == "primary.example");
    CHECK(known_hosts_name("127.0.0.1", "2222") == "[127.0.0.1]:2222");
    CHECK(known_hosts_name("::1", "2222") == "[::1]:2222");
}

TEST_CASE("known_hosts::known_hosts_line_matches: names, lists, wildcards, negations, ports, markers") {
    std::string key = " ssh-ed25519 " + k_key;
    CHECK(known_hosts_line_matches("primary.example" + key, "primary.example"));
    CHECK_FALSE(known_hosts_line_matches("primary.example" + key, "other.example"));
    CHECK(known_hosts_line_matches("a.example,primary.example,10.0.0.1" + key, "primary.example"));
    CHECK(known_hosts_line_matches("*.example" + key, "primary.example"));
    CHECK(known_hosts_line_matches("primary.exampl?" + key, "primary.example"));
    CHECK_FALSE(known_hosts_line_matches("*.example,!primary.example" + key, "primary.example"));
    CHECK(known_hosts_line_matches("*.example,!other.example" + key, "primary.example"));
    CHECK(known_hosts_line_matches("[127.0.0.1]:2222" + key, "[127.0.0.1]:2222"));
    CHECK_FALSE(known_hosts_line_matches("[127.0.0.1]:2222" + key, "127.0.0.1"));
    CHECK_FALSE(known_hosts_line_matches("127.0.0.1" + key, "[127.0.0.1]:2222"));
    CHECK(known_hosts_line_matches("@revoked primary.example" + key, "primary.example"));
    CHECK(known_hosts_line_matches("\tprimary.example\t" + key, "primary.example"));
    CHECK_FALSE(known_hosts_line_matches("# primary.example" + key, "primary.example"));
    CHECK_FALSE(known_hosts_line_matches("", "primary.example"));
    CHECK_FALSE(known_hosts_line_matches("@revoked", "primary.example"));
}

TEST_CASE("known_hosts::known_hosts_line_matches reads hashed entries") {
    // Made by ssh-keygen -H for [127.0.0.1]:2222.
    std::string line = "|1|N4IVjg6BgfsqWW9jkYirQoVqIjo=|fDWaXlT8yyCK/0QNogWHAgg3EC0= ssh-ed25519 " + k_key;
    CHECK(known_hosts_line_matches(line, "[127.0.0.1]:2222"));
    CHECK_FALSE(known_hosts_line_matches(line, "127.0.0.1"));
    CHECK_FALSE(known_hosts_line_matches(line, "[127.0.0.1]:2223"));
    // One made here the same way: |1|base64(salt)|base64(HMAC-SHA1(salt, host)).
    std::string salt = "0123456789abcdefghij";
    std::string hashed = "|1|" + base64_encoded(salt) + "|" + base64_encoded(hmac_sha1(salt, "primary.example"));
    CHECK(known_hosts_line_matches(hashed + " ssh-ed25519 " + k_key, "primary.example"));
    CHECK_FALSE(known_hosts_line_matches("|1|bad-base64|xx ssh-ed25519 " + k_key, "primary.example"));
    CHECK_FALSE(known_hosts_line_matches("|1|" + base64_encoded(salt) + " ssh-ed25519 " + k_key, "primary.example"));
}

TEST_CASE("known_hosts::check_host_key: matched, changed, revoked, unknown") {
    SUBCASE("matched") {
        auto check = offered("other.example ssh-ed25519 " + k_other_key + "\nprimary.example ssh-ed25519 " + k_key + "\n");
        CHECK(check.verdict == HostKeyVerdict::matched);
    }
    SUBCASE("matched among other keys of the host, and by a hashed entry") {
        std::string salt = "salt-of-twenty-bytes";
        std::string hashed = "|1|" + base64_encoded(salt) + "|" + base64_encoded(hmac_sha1(salt, "primary.example"));
        auto check = offered("primary.example ecdsa-sha2-nistp256 " + k_ecdsa_key + "\n" + hashed + " ssh-ed25519 " + k_key);
        CHECK(check.verdict == HostKeyVerdict::matched);
    }
    SUBCASE("changed: another key of the same type") {
        auto check = offered("# the old key\nprimary.example ssh-ed25519 " + k_other_key + "\n");
        CHECK(check.verdict == HostKeyVerdict::changed);
    }
    SUBCASE("a matching line wins over a changed one") {
        auto check = offered("primary.example ssh-ed25519 " + k_other_key + "\nprimary.example ssh-ed25519 " + k_key + "\n");
        CHECK(check.verdict == HostKeyVerdict::matched);
    }
    SUBCASE("revoked wins over everything") {
        auto check = offered("primary.example ssh-ed25519 " + k_key + "\n@revoked * ssh-ed25519 " + k_key + "\n");
        CHECK(check.verdict == HostKeyVerdict::revoked);
        CHECK(offered("@revoked * ssh-ed25519 " + k_other_key + "\nprimary.example ssh-ed25519 " + k_key).verdict ==
              HostKeyVerdict::matched);
    }
    SUBCASE("unknown: nothing for the host, or only keys of other types") {
        auto none = offered("other.example ssh-ed25519 " + k_key + "\n");
        CHECK(none.verdict == HostKeyVerdict::unknown);
        CHECK_FALSE(none.other_types_known);
        auto others = offered("primary.example ecdsa-sha2-nistp256 " + k_ecdsa_key + "\n");
        CHECK(others.verdict == HostKeyVerdict::unknown);
        CHECK(others.other_types_known);
        CHECK(offered("").verdict == HostKeyVerdict::unknown);
    }
    SUBCASE("lines that do not parse, and host certificates, are skipped") {
        CHECK(offered("primary.example ssh-ed25519\nprimary.example ssh-ed25519 not-base64!\n").verdict ==
              HostKeyVerdict::unknown);
        CHECK(offered("@cert-authority primary.example ssh-ed25519 " + k_key + "\n").verdict == HostKeyVerdict::unknown);
    }
    SUBCASE("the port is part of the name") {
        std::string file = "[primary.example]:2222 ssh-ed25519 " + k_key + "\n";
        CHECK(offered(file, "[primary.example]:2222").verdict == HostKeyVerdict::matched);
        CHECK(offered(file, "primary.example").verdict == HostKeyVerdict::unknown);
    }
}

}  // TEST_SUITE
