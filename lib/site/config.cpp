#include "site/config.hpp"

#include "common/error.hpp"
#include "common/url.hpp"
#include "common/yaml_reader.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <tuple>

namespace geo_ssf {

std::string role_name(Role role) { return role == Role::primary ? "primary" : "secondary"; }

const Storage* Config::find_storage(const std::string& name) const {
    for (const auto& s : storages)
        if (s.name == name)
            return &s;
    return nullptr;
}

const Storage& Config::storage(const std::string& name) const {
    if (const Storage* found = find_storage(name))
        return *found;
    std::string known;
    for (const auto& s : storages)
        known += (known.empty() ? "" : ", ") + s.name;
    throw RuntimeError("its storage \"" + printable(name) + "\" is not one of this site's (" + known +
                       "; storage:, storages: in " + file.string() + ")");
}

std::string Config::describe(const RepositoryLocation& location) const {
    if (const Storage* s = find_storage(location.storage))
        return (s->root / location.path).string();
    return location.storage + ":" + location.path;
}

const Replicable& Config::replicable(const std::string& name) const {
    for (const auto& r : replicables)
        if (r.name == name || r.plural == name)
            return r;
    std::string known;
    for (const auto& r : replicables)
        known += (known.empty() ? "" : ", ") + r.name;
    throw UsageError("unknown replicable \"" + name + "\"" +
                     (known.empty() ? " (none is defined in " + replicables_dir.string() + ")"
                                    : " (known: " + known + ")"));
}

std::optional<std::filesystem::path> find_config_file(const std::optional<std::filesystem::path>& explicit_path) {
    if (explicit_path)
        return explicit_path;
    if (const char* env = std::getenv("GEO_SSF_CONFIG"); env && *env)
        return std::filesystem::path(env);
    for (const char* candidate : {"geo-ssf.yml", "/etc/geo-ssf/config.yml"}) {
        std::error_code ec;
        if (std::filesystem::exists(candidate, ec))
            return std::filesystem::path(candidate);
    }
    return std::nullopt;
}

namespace {

std::filesystem::path resolve(const std::filesystem::path& base, const std::string& value) {
    std::filesystem::path p(value);
    return p.is_absolute() ? p : (base / p).lexically_normal();
}

BatchSettings read_batch(const YamlReader& section, const std::filesystem::path& base, BatchSettings settings) {
    settings.batch_size = static_cast<int>(section.integer("batch_size", 1, 100000).value_or(settings.batch_size));
    settings.jobs = static_cast<int>(section.integer("jobs", 1, 256).value_or(settings.jobs));
    settings.timeout = section.duration("timeout").value_or(settings.timeout);
    if (auto file = section.string("metrics_file"); file && !file->empty())
        settings.metrics_file = resolve(base, *file);
    return settings;
}

void read_site(YamlReader& yaml, Config& config) {
    YamlReader site = yaml.mapping("site");
    site.allow_only({"name", "role"});
    config.site_name = site.string("name").value_or("primary");
    if (config.site_name.empty())
        site.fail("name", "may not be empty");
    std::string role = site.string("role").value_or("primary");
    if (role == "primary")
        config.role = Role::primary;
    else if (role == "secondary")
        config.role = Role::secondary;
    else
        site.fail("role", "expected primary or secondary, got \"" + role + "\"");
}

void read_databases(YamlReader& yaml, Config& config) {
    YamlReader databases = yaml.mapping("databases");
    databases.allow_only({"main", "geo"});
    auto main_database = databases.string("main");
    if (!main_database)
        databases.fail("main", "is required: a libpq connection string such as \"dbname=app\"");
    config.main_database = *main_database;
    config.geo_database = databases.string("geo");
    if (config.role == Role::secondary && !config.geo_database)
        databases.fail("geo", "is required on a secondary: the tracking database's connection string");
}

// Whether A and B, with symbolic links resolved, are one folder or one holds the other.
bool paths_overlap(const std::filesystem::path& a, const std::filesystem::path& b) {
    std::error_code ec;
    auto real_a = std::filesystem::weakly_canonical(a, ec);
    if (ec)
        real_a = a.lexically_normal();
    auto real_b = std::filesystem::weakly_canonical(b, ec);
    if (ec)
        real_b = b.lexically_normal();
    auto inside = [](const std::filesystem::path& inner, const std::filesystem::path& outer) {
        auto relative = inner.lexically_relative(outer);
        return !relative.empty() && *relative.begin() != "..";
    };
    return inside(real_a, real_b) || inside(real_b, real_a);
}

// A file the configuration names: it must exist; SECRET files must be readable by their owner only.
std::filesystem::path existing_file(const YamlReader& section, const char* key, const std::filesystem::path& base,
                                    bool secret) {
    auto value = section.string(key);
    if (!value || value->empty())
        return {};
    std::filesystem::path file = resolve(base, *value);
    struct stat st {};
    if (stat(file.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
        section.fail(key, file.string() + " is not a readable file");
    if (secret && (st.st_mode & 077) != 0) {
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
        section.fail(key, file.string() + " has mode " + mode +
                              "; a file holding a secret must be readable by its owner only (chmod 600)");
    }
    return file;
}

// The transport keys SECTION has; those it lacks keep their values in TRANSPORT.
void read_transport(const YamlReader& section, const std::filesystem::path& base, TransportSettings& transport) {
    for (auto [key, value, secret] : {std::tuple{"ssh_key", &transport.ssh_key, true},
                                      std::tuple{"ssh_key_passphrase_file", &transport.ssh_key_passphrase_file, true},
                                      std::tuple{"ssh_known_hosts", &transport.ssh_known_hosts, false},
                                      std::tuple{"ca_file", &transport.ca_file, false},
                                      std::tuple{"credentials_file", &transport.credentials_file, true}})
        if (auto file = existing_file(section, key, base, secret); !file.empty())
            *value = file;
    if (!transport.ssh_key_passphrase_file.empty() && transport.ssh_key.empty())
        section.fail("ssh_key_passphrase_file", "needs ssh_key: the key it unlocks");
    for (auto [key, value] : {std::pair{"fetch_timeout", &transport.fetch_timeout},
                              std::pair{"fetch_stall_timeout", &transport.fetch_stall_timeout}}) {
        *value = section.duration(key).value_or(*value);
        if (value->count() <= 0)
            section.fail(key, "must be longer than 0s");
    }
    transport.trust_primary_owner = section.boolean("trust_primary_owner").value_or(transport.trust_primary_owner);
}

// A network PRIMARY_URL must read one way only: RFC 3986's, which is how git, curl and libgit2
// find its host. A password or token with a raw '/', '?' or '#' puts the '@' after the host,
// where nothing takes it for credentials, and redaction could not find them either; and
// primary_url's repositories are named by appending their paths, which a query or a fragment
// would swallow. The value is never echoed: it may hold a secret.
void check_primary_url(const YamlReader& storage, const std::string& url) {
    if (local_path_of(url))
        return;
    auto parsed = parse_url(url);
    if (parsed ? parsed->path.find('@') != std::string::npos || parsed->query || parsed->fragment
               : url.find('@') != std::string::npos)
        storage.fail("primary_url", "is refused: it is no valid URL, or it has a '?', a '#' or an '@' after its host; "
                                    "write a password's or a token's '/', '?', '#' and '@' as %2F, %3F, %23 and %40, "
                                    "or keep them in storage.credentials_file");
    if (parsed && parsed->scheme == "http")
        storage.fail("primary_url", "http:// is refused: nothing checks the server's identity, a password would travel "
                                    "in clear, and a proxy would not be used as for https://; use https://");
}

const std::initializer_list<const char*> k_storage_keys = {
    "root", "primary_url", "ssh_key", "ssh_key_passphrase_file", "ssh_known_hosts", "ca_file", "credentials_file",
    "fetch_timeout", "fetch_stall_timeout", "trust_primary_owner"};

// Storage names go into SQL and into messages: plain words ("default", "nfs-01", "gitaly_2").
bool is_storage_name(const std::string& name) {
    if (name.empty() || name.size() > 64 || name.front() == '.' || name.front() == '-')
        return false;
    for (unsigned char c : name)
        if (!std::isalnum(c) && c != '_' && c != '-' && c != '.')
            return false;
    return true;
}

// One storage's settings from SECTION; a key SECTION lacks keeps its value in INHERITED (the
// `storage:` section's, for the storages named under `storages:`).
Storage read_storage_section(const YamlReader& section, const std::filesystem::path& base, const Config& config,
                             std::string name, const Storage& inherited) {
    section.allow_only(k_storage_keys);
    Storage storage = inherited;
    storage.name = std::move(name);
    auto root = section.string("root");
    if (!root || root->empty())
        section.fail("root", "is required: the folder that holds this storage's repositories");
    storage.root = resolve(base, *root);
    if (auto url = section.string("primary_url")) {
        storage.primary_url = *url;
        if (!url->empty() && url->find("://") == std::string::npos)
            storage.primary_url = resolve(base, *url).string();  // a plain path
    }
    if (config.role == Role::secondary && storage.primary_url.empty())
        section.fail("primary_url", "is required on a secondary: where the primary's repositories are fetched from");
    if (!storage.primary_url.empty())
        check_primary_url(section, storage.primary_url);
    if (config.role == Role::secondary) {
        // A secondary that removes and replaces copies under a root that is (or holds, or lies
        // in) the primary's storage would remove and replace the primary's repositories.
        std::optional<std::filesystem::path> primary = local_path_of(storage.primary_url);
        if (primary && paths_overlap(storage.root, *primary)) {
            try {
                section.fail("root", storage.root.string() + " overlaps the primary's storage " + primary->string() +
                                         " (primary_url): a secondary must keep its copies apart");
            } catch (const ConfigError& e) {
                throw StorageOverlapError(e.what());
            }
        }
    }
    read_transport(section, base, storage.transport);
    return storage;
}

// `storage:` (the storage named default) and `storages:` (the others). The transport keys of
// `storage:` are every storage's defaults; root and primary_url are each storage's own. Without
// `storages:`, storage.root is required.
void read_storages(YamlReader& yaml, const std::filesystem::path& base, Config& config) {
    YamlReader storage = yaml.mapping("storage");
    YamlReader named = yaml.mapping("storages");
    std::vector<std::string> names = named.keys();
    storage.allow_only(k_storage_keys);
    Storage defaults;
    read_transport(storage, base, defaults.transport);
    if (storage.string("root") || names.empty())
        config.storages.push_back(read_storage_section(storage, base, config, k_default_storage, defaults));
    std::sort(names.begin(), names.end());
    for (const auto& name : names) {
        if (!is_storage_name(name))
            named.fail(name.c_str(), "is no usable storage name: letters, digits, '_', '-' and '.', at most 64, "
                                     "not beginning with '.' or '-'");
        if (name == k_default_storage && !config.storages.empty())
            named.fail(name.c_str(), "is the storage of the storage: section; name it in one of the two");
        config.storages.push_back(read_storage_section(named.mapping(name.c_str()), base, config, name, defaults));
    }
    // Two storages over one folder would hold each other's copies and quarantines.
    for (size_t i = 0; i < config.storages.size(); ++i)
        for (size_t j = i + 1; j < config.storages.size(); ++j)
            if (paths_overlap(config.storages[i].root, config.storages[j].root))
                throw StorageOverlapError(config.file.string() + ": storages " + config.storages[i].name + " (" +
                                          config.storages[i].root.string() + ") and " + config.storages[j].name +
                                          " (" + config.storages[j].root.string() +
                                          ") overlap: each storage needs a folder of its own");
}

void read_runs(YamlReader& yaml, const std::filesystem::path& base, Config& config) {
    YamlReader verification = yaml.mapping("verification");
    verification.allow_only(
        {"batch_size", "jobs", "timeout", "reverification_interval", "metrics_file", "backfill_batch_size",
         "deep_interval"});
    config.verification = read_batch(verification, base, config.verification);
    config.backfill_batch_size = static_cast<int>(
        verification.integer("backfill_batch_size", 1, 1000000).value_or(config.backfill_batch_size));
    config.reverification_interval =
        verification.duration("reverification_interval").value_or(config.reverification_interval);
    config.deep_interval = verification.duration("deep_interval").value_or(config.deep_interval);
    if (config.deep_interval.count() <= 0)
        verification.fail("deep_interval", "must be longer than 0s");

    YamlReader sync = yaml.mapping("sync");
    sync.allow_only({"batch_size", "jobs", "timeout", "consistency_batch_size", "metrics_file", "max_removal_share",
                     "max_removal_count", "removed_retention", "max_refs", "storages"});
    config.sync = read_batch(sync, base, config.sync);
    config.consistency_batch_size = static_cast<int>(
        sync.integer("consistency_batch_size", 1, 1000000).value_or(config.consistency_batch_size));
    config.max_removal_share = sync.percentage("max_removal_share").value_or(config.max_removal_share);
    config.max_removal_count =
        sync.integer("max_removal_count", 0, 1000000000).value_or(config.max_removal_count);
    config.removed_retention = sync.duration("removed_retention").value_or(config.removed_retention);
    config.max_refs = sync.integer("max_refs", 1, 1000000000).value_or(config.max_refs);
    if (auto storages = sync.strings("storages")) {
        if (config.role != Role::secondary)
            sync.fail("storages", "is a secondary's setting: a primary checksums the records of every storage");
        for (const auto& name : *storages)
            if (!config.find_storage(name))
                sync.fail("storages", "names \"" + printable(name) + "\", which is not one of this site's storages "
                                      "(storage:, storages:)");
        config.synced_storages = std::move(storages);
    }

    YamlReader follow = yaml.mapping("follow");
    follow.allow_only({"poll_interval", "pass_interval", "metrics_file"});
    config.follow.poll_interval = follow.interval("poll_interval").value_or(config.follow.poll_interval);
    config.follow.pass_interval = follow.duration("pass_interval").value_or(config.follow.pass_interval);
    if (auto file = follow.string("metrics_file"); file && !file->empty())
        config.follow.metrics_file = resolve(base, *file);

    YamlReader status = yaml.mapping("status");
    status.allow_only({"timeout"});
    config.status_timeout = status.duration("timeout").value_or(config.status_timeout);
}

}  // namespace

Config load_config(const std::filesystem::path& file) {
    std::error_code ec;
    if (!std::filesystem::exists(file, ec))
        throw ConfigError(file.string() + ": no such config file (see geo-ssf(1), CONFIGURATION)");
    YamlReader yaml = YamlReader::load_file(file);
    yaml.allow_only(
        {"site", "databases", "storage", "storages", "replicables", "migrations", "verification", "sync", "follow", "status"});

    Config config;
    config.file = std::filesystem::absolute(file).lexically_normal();
    std::filesystem::path base = config.file.parent_path();
    read_site(yaml, config);
    read_databases(yaml, config);
    read_storages(yaml, base, config);
    config.replicables_dir = resolve(base, yaml.string("replicables").value_or("replicables"));
    config.migrations_dir = resolve(base, yaml.string("migrations").value_or("migrations"));
    read_runs(yaml, base, config);
    config.replicables = load_replicables(config.replicables_dir);
    for (auto& r : config.replicables) {
        if (r.storage_column.empty() && !config.find_storage(k_default_storage))
            throw ConfigError(r.file.string() + ": its records are in the storage named default (it has no "
                              "storage_column), which " + config.file.string() + " does not describe (storage.root)");
        r.synced_storages = config.synced_storages;
    }
    return config;
}

}  // namespace geo_ssf
