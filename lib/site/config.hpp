// The site configuration (geo-ssf.yml) and where it is looked up.
#pragma once

#include "common/error.hpp"
#include "site/replicable.hpp"
#include "site/transport_settings.hpp"

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace geo_ssf {

// A secondary's storage root that is, holds or lies in the primary's storage (file:// or plain
// path, symbolic links resolved): refused by every command, check included.
class StorageOverlapError : public ConfigError {
public:
    using ConfigError::ConfigError;
};

enum class Role { primary, secondary };

std::string role_name(Role role);

struct BatchSettings {
    int batch_size;
    int jobs;
    std::chrono::seconds timeout;  // a record `started` for longer than this was abandoned
    std::filesystem::path metrics_file;  // node_exporter textfile each run writes; empty: none
};

// The follow section: how the long-running follow mode waits for changes and how often it does
// the due batches that sync and verify runs from cron would do.
struct FollowSettings {
    // How often a secondary whose databases.main is a standby asks it for new events (a standby
    // has no LISTEN); a primary, or a secondary reading the primary's own database, is notified.
    std::chrono::milliseconds poll_interval{250};
    // How often the due batches run: backfills, registry consistency, retries, re-verification.
    std::chrono::seconds pass_interval{60};
    std::filesystem::path metrics_file;  // node_exporter textfile follow keeps up to date; empty: none
};

// One of a site's storages (a Gitaly shard): the folder that holds its repositories and, on a
// secondary, where and how they are fetched from. The `storage:` section is the storage named
// "default"; `storages:` names the others.
struct Storage {
    std::string name;
    std::filesystem::path root;
    std::string primary_url;      // secondaries only
    TransportSettings transport;  // how primary_url is reached over the network
};

struct Config {
    std::filesystem::path file;
    std::string site_name = "primary";
    Role role = Role::primary;
    std::string main_database;                 // libpq connection string or URI
    std::optional<std::string> geo_database;   // the tracking database; secondaries only
    std::vector<Storage> storages;             // by name; at least one
    std::filesystem::path replicables_dir;
    std::filesystem::path migrations_dir;      // with main/ and geo/
    BatchSettings verification{1000, 2, std::chrono::hours(8), {}};
    std::chrono::seconds reverification_interval = std::chrono::hours(24 * 7);
    // verification.deep_interval: how often each repository's objects are checked whole.
    std::chrono::seconds deep_interval = std::chrono::hours(24 * 30);
    BatchSettings sync{100, 2, std::chrono::hours(3), {}};
    FollowSettings follow;
    std::chrono::seconds status_timeout = std::chrono::minutes(5);
    // sync.consistency_batch_size: records registry consistency compares per run and type
    // (GitLab's RegistryConsistencyWorker::BATCH_SIZE).
    int consistency_batch_size = 10000;
    // verification.backfill_batch_size: records a primary's state-row backfill takes per run and
    // type, besides those above the largest record with a row.
    int backfill_batch_size = 10000;
    // Removals of registry rows by registry consistency: the share of the rows one batch
    // compares, and the number, above which none is removed without --allow-mass-removal.
    double max_removal_share = 0.10;
    long long max_removal_count = 1000;
    // How long copies of removed records stay in <root>/.geo-ssf-removed before sync purges them.
    std::chrono::seconds removed_retention = std::chrono::hours(24 * 7);
    // sync.max_refs: a repository whose primary advertises more refs is not fetched.
    long long max_refs = 1000000;
    // sync.storages: the storages a secondary replicates (selective sync); nullopt: every one.
    std::optional<std::vector<std::string>> synced_storages;
    std::vector<Replicable> replicables;

    // The replicable called NAME (singular or plural); throws UsageError listing the known ones.
    const Replicable& replicable(const std::string& name) const;
    // The storage called NAME; nullptr when this site has none of that name.
    const Storage* find_storage(const std::string& name) const;
    // The storage called NAME, which a record's storage column names; a RuntimeError (that
    // record's failure) when this site has none of that name.
    const Storage& storage(const std::string& name) const;
    // LOCATION as a folder, for messages: its storage's root and its path, unchecked; for a
    // storage this site lacks, "<storage>:<path>".
    std::string describe(const RepositoryLocation& location) const;
    // Where this site keeps what belongs to no storage (promotion reports): the default storage,
    // else the first by name.
    const Storage& home_storage() const { return storages.front(); }
};

// Where the config is: EXPLICIT (--config), else $GEO_SSF_CONFIG, else ./geo-ssf.yml, else
// /etc/geo-ssf/config.yml. nullopt when none of the implicit places has a file; an explicit
// path is returned as given, to be reported by load_config if it is missing.
std::optional<std::filesystem::path> find_config_file(const std::optional<std::filesystem::path>& explicit_path);

// Reads and validates the config file and every replicable definition it points to.
Config load_config(const std::filesystem::path& file);

}  // namespace geo_ssf
