#include "report/check.hpp"

#include "repo/quarantine.hpp"

#include "common/url.hpp"
#include "site/config.hpp"
#include "site/database.hpp"
#include "common/duration.hpp"
#include "common/error.hpp"
#include "site/migrations.hpp"
#include "common/paths.hpp"
#include "report/status.hpp"
#include "db/model_table.hpp"
#include "db/site_identity.hpp"
#include "db/tallies.hpp"
#include "db/type_tables.hpp"
#include "secondary/undefined_types.hpp"
#include "repo/git.hpp"
#include "repo/git_program.hpp"
#include "repo/mirror.hpp"
#include "repo/primary_owner.hpp"
#include "repo/remote_session.hpp"
#include "repo/storage.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <memory>

namespace geo_ssf {

namespace {

class Checker {
public:
    explicit Checker(const std::function<void(const CheckResult&)>& report) : m_report(report) {}

    void record(std::string name, bool passed, std::string detail) {
        CheckResult result{std::move(name), passed, std::move(detail)};
        m_report(result);
        m_results.push_back(std::move(result));
    }

    std::vector<CheckResult> results() && { return std::move(m_results); }

private:
    const std::function<void(const CheckResult&)>& m_report;
    std::vector<CheckResult> m_results;
};

// No two types may put copies in one place: two templates that can render the same path, or one
// a path inside the other's, would let one record's sync or removal act on another's copy, or on
// another type's pool copy. A type's own pool template is kept apart from its records' paths
// when the type is read (replicable.cpp).
void check_repository_paths(Checker& checker, const Config& config) {
    const std::string name = "repository paths of the types apart";
    struct Paths {
        const Replicable* type;
        std::string what;  // "cool_widget", or "cool_widget's pools"
        const RepositoryPathTemplate* path;
    };
    std::vector<Paths> all;
    for (const auto& r : config.replicables) {
        all.push_back({&r, r.name, &r.repository_path});
        if (r.pool_repository_path)
            all.push_back({&r, r.name + "'s pools", &*r.pool_repository_path});
    }
    bool apart = true;
    for (size_t i = 0; i < all.size(); ++i)
        for (size_t j = i + 1; j < all.size(); ++j) {
            const Paths& a = all[i];
            const Paths& b = all[j];
            if (a.type == b.type)
                continue;
            std::string how = can_render_same_path(*a.path, *b.path)     ? "the same path"
                              : can_render_nested_path(*a.path, *b.path) ? "a path inside one of " + a.what + "'s"
                              : can_render_nested_path(*b.path, *a.path) ? "a path inside one of " + b.what + "'s"
                                                                         : "";
            if (how.empty())
                continue;
            apart = false;
            checker.record(name, false,
                           a.what + " (" + a.path->text() + ") and " + b.what + " (" + b.path->text() +
                               ") can render " + how + "; give each type a folder of its own");
        }
    if (apart)
        checker.record(name, true, std::to_string(config.replicables.size()) + " type(s)");
}

// A check's NAME for STORAGE: the name alone for the default storage, as a site of one storage
// has always seen it; "NAME (storage X)" for the others.
std::string storage_check_name(const std::string& name, const Storage& storage) {
    return storage.name == k_default_storage ? name : name + " (storage " + storage.name + ")";
}

// What the quarantine holds is not a fault; a quarantine folder geo-ssf cannot use is.
void check_quarantine(Checker& checker, const Config& config) {
    for (const auto& storage : config.storages) {
        const std::string name = storage_check_name("quarantine", storage);
        try {
            checker.record(name, true,
                           describe_quarantine(quarantine_usage(storage.root), {storage.root}) + ", purged after " +
                               format_duration(config.removed_retention));
        } catch (const Error& e) {
            checker.record(name, false, e.what());
        }
    }
}

// The git program checks repositories (git fsck), and on a secondary repacks the copies and
// fetches them; without it libgit2 does what it can, and the copies' objects are never repacked.
void check_git_program(Checker& checker, const Config& config) {
    const std::string name = "git program";
    bool secondary = config.role == Role::secondary;
    if (auto git = git_program()) {
        checker.record(name, true,
                       git->string() + (secondary ? ": transfers, housekeeping and deep checks (git fsck)"
                                                  : ": deep checks (git fsck)"));
        return;
    }
    bool housekept = false;
    for (const auto& r : config.replicables)
        housekept = housekept || (r.replication_enabled && r.housekeeping_enabled);
    std::string detail = "not installed, or older than git 2.32: deep checks are made by libgit2, several times slower";
    if (secondary)
        detail += "; transfers by libgit2 too; housekeeping packs the copies' refs only, and their objects are never "
                  "repacked (install git)";
    checker.record(name, !(secondary && housekept), detail);
}

// A primary only reads its repositories: the root must be readable by this user. A secondary
// writes its copies there: the root must be writable, and this user's.
void check_storage_root(Checker& checker, const Storage& storage, Role role) {
    const std::filesystem::path& root = storage.root;
    bool primary = role == Role::primary;
    const std::string name = storage_check_name(
        primary ? "storage root present and readable" : "storage root present and writable", storage);
    std::error_code ec;
    if (!std::filesystem::is_directory(root, ec)) {
        checker.record(name, false, root.string() + " is not a folder");
        return;
    }
    if (primary) {
        std::filesystem::directory_iterator listing(root, ec);
        if (ec)
            checker.record(name, false, "cannot read " + root.string() + ": " + ec.message());
        else
            checker.record(name, true, root.string());
        return;
    }
    std::string probe = (root / ".geo-ssf-check-XXXXXX").string();
    int fd = mkstemp(probe.data());
    if (fd < 0) {
        checker.record(name, false, "cannot create a file in " + root.string() + ": " + std::strerror(errno));
        return;
    }
    close(fd);
    unlink(probe.c_str());
    // Writable by root is not enough: sync and verify refuse a root another user owns.
    if (auto refusal = foreign_storage_root(root))
        checker.record(name, false, *refusal);
    else
        checker.record(name, true, root.string());
}

// The tallies status counts from against the rows themselves, in one snapshot.
void check_tallies(Checker& checker, const Config& config, pqxx::connection& connection) {
    for (const auto& r : config.replicables) {
        if (!counted_in_status(r, config.role))
            continue;
        TalliedTable table = tallied_table_of(r, config.role);
        const std::string name = "tallies of " + table.name + " agree with its rows";
        try {
            TimedReader reader(connection, TimedReader::Clock::now() + config.status_timeout,
                               format_duration(config.status_timeout));
            auto tallies = read_tallies(reader, table);
            if (!tallies) {
                checker.record(name, true, "no tally triggers: status counts its rows every time");
                continue;
            }
            TableTallies counted = count_tallies(reader, table, "true");
            if (*tallies == counted)
                checker.record(name, true, std::to_string(counted.ids.count) + " rows");
            else
                checker.record(name, false, describe_difference(*tallies, counted) + " (run geo-ssf status --recount)");
        } catch (const CountCancelled& cancelled) {
            checker.record(name, false, cancelled.reason);
        } catch (const pqxx::failure& e) {
            checker.record(name, false, describe_database_error(e));
        }
    }
}

// The type's model_key, repository_path and scope fit its model table; otherwise every run
// would fail on the type.
void check_definition(Checker& checker, const Replicable& r, pqxx::dbtransaction& tx) {
    const std::string name = "definition of " + r.name + " fits its model table";
    if (auto misfit = definition_misfit(tx, r))
        checker.record(name, false, r.file.string() + ": " + misfit->key + ": " + misfit->reason);
    else
        checker.record(name, true, "model_key " + r.model_key + ", repository_path and scope");
}

void check_model_tables(Checker& checker, const Config& config, pqxx::connection& connection) {
    for (const auto& r : config.replicables) {
        try {
            pqxx::read_transaction tx(connection);
            bool exists = model_table_exists(tx, r);
            checker.record("model table of " + r.name + " present", exists,
                           exists ? r.model_table : r.model_table + " does not exist in the main database");
            if (exists)
                check_definition(checker, r, tx);
        } catch (const pqxx::failure& e) {
            checker.record("model table of " + r.name + " present", false, describe_database_error(e));
        }
    }
}

// A secondary defines every type its primary has: otherwise sync would skip their events.
void check_types_defined(Checker& checker, const Config& config, pqxx::connection& connection) {
    const std::string name = "every type of the primary defined here";
    try {
        pqxx::read_transaction tx(connection);
        auto tables = tallied_states_tables(tx);
        if (auto missing = secondary::undefined_types(config, tables))
            checker.record(name, false, *missing);
        else
            checker.record(name, true, std::to_string(tables.size()) + " states table(s) on the primary");
    } catch (const pqxx::failure& e) {
        checker.record(name, false, describe_database_error(e));
    }
}

void check_database(Checker& checker, const Config& config, DatabaseKind kind, const std::string& conninfo) {
    const std::string label = database_kind_name(kind);
    std::unique_ptr<pqxx::connection> connection;
    bool migrated = false;
    try {
        connection = connect_database(conninfo, label, Access::read_only);
        checker.record(label + " database reachable", true,
                       connection->dbname() + std::string(" on PostgreSQL ") +
                           std::to_string(connection->server_version() / 10000) + "." +
                           std::to_string(connection->server_version() % 10000));
    } catch (const Error& e) {
        checker.record(label + " database reachable", false, e.what());
        return;
    }

    try {
        auto all = discover_migrations(kind, builtin_migrations_dir(), config.migrations_dir);
        auto pending = pending_migrations(*connection, all);
        migrated = pending.empty();
        std::string names;
        for (const auto& m : pending)
            names += (names.empty() ? "" : ", ") + m.version + "_" + m.name;
        checker.record(label + " database has no pending migrations", pending.empty(),
                       pending.empty() ? std::to_string(all.size()) + " applied"
                                       : std::to_string(pending.size()) + " pending: " + names +
                                             (kind == DatabaseKind::main && config.role == Role::secondary
                                                  ? " (run geo-ssf migrate on the primary)"
                                                  : " (run geo-ssf migrate --database " + label + ")"));
    } catch (const Error& e) {
        checker.record(label + " database has no pending migrations", false, e.what());
    } catch (const pqxx::failure& e) {
        checker.record(label + " database has no pending migrations", false, describe_database_error(e));
    }

    if (kind == DatabaseKind::main)
        check_model_tables(checker, config, *connection);
    if (kind == DatabaseKind::main && config.role == Role::secondary)
        check_types_defined(checker, config, *connection);
    // The tallies live beside the tables this role counts: the states tables on a primary,
    // the registry tables in the tracking database on a secondary.
    if (migrated && (kind == DatabaseKind::main) == (config.role == Role::primary))
        check_tallies(checker, config, *connection);
}


// Reads the repository of one record of each replicated type in each storage from the primary, as
// sync does: over
// the network as `git ls-remote` does (whether it answers, whether it is who known_hosts or the
// CA says, whether it lets us in); from a file:// or plain-path primary, as this user (whether
// another user's repository is trusted, storage.trust_primary_owner).
void check_primary(Checker& checker, const Config& config) {
    for (const auto& storage : config.storages) {
        auto folder = local_path_of(storage.primary_url);
        if (!folder)
            continue;
        // sync refuses to run without it, as an unmounted share would fail every record.
        std::error_code ec;
        bool present = std::filesystem::is_directory(*folder, ec);
        checker.record(storage_check_name("primary's storage present", storage), present,
                       present ? folder->string() : folder->string() + " is not a folder; is the primary's storage mounted?");
        if (!present)
            return;
    }
    std::unique_ptr<pqxx::connection> connection;
    try {
        connection = connect_database(config.main_database, "main", Access::read_only);
    } catch (const Error&) {
        return;  // already reported
    }
    for (const auto& r : config.replicables) {
        if (!r.replication_enabled)
            continue;
        // One record of each storage, so that each storage's primary is probed: its first.
        std::vector<RepositoryLocation> locations;
        try {
            pqxx::read_transaction tx(*connection);
            if (auto first = first_id_in_scope(tx, r)) {
                auto paths = repository_paths(tx, r, {*first});
                if (!paths.paths.empty() && !config.find_storage(paths.paths.begin()->second.storage))
                    checker.record("primary readable for " + r.name, false,
                                   "its record's storage \"" + printable(paths.paths.begin()->second.storage) +
                                       "\" is not one of this site's");
            }
            for (const auto& storage : config.storages)
                if (auto id = first_id_in_storage(tx, r, storage.name)) {
                    auto paths = repository_paths(tx, r, {*id});
                    if (!paths.paths.empty())
                        locations.push_back(paths.paths.begin()->second);
                }
        } catch (const pqxx::failure&) {
            continue;  // the model table checks say why
        }
        git::Library libgit2;
        for (const auto& location : locations) {  // none without a record yet: nothing to fetch
            const Storage& storage = config.storage(location.storage);
            auto named = [&](const std::string& check) { return storage_check_name(check + " for " + r.name, storage); };
            std::string url = primary_repository_url(storage.primary_url, location.path);
            if (local_path_of(storage.primary_url)) {
                LocalPrimaryProbe probe = probe_local_primary(url, storage.transport);
                checker.record(named("primary readable"), probe.readable, probe.detail);
                continue;
            }
            RemoteProbe probe = probe_remote(url, storage.transport);
            checker.record(named("primary reachable"), probe.reachable, probe.detail);
            checker.record(named("primary's identity"), probe.identity_ok, probe.identity);
            checker.record(named("primary's authentication"), probe.authentication_ok, probe.authentication);
        }
    }
}

// Which role the site plays and where that comes from: the config, or the databases (a promoted
// secondary is the primary; an old primary whose database names another site is refused, the
// split brain). CONFIG's role becomes the one the databases give, for the checks after this one.
void check_role(Checker& checker, Config& config) {
    const std::string name = "site role";
    std::unique_ptr<pqxx::connection> main, geo;
    try {
        main = connect_database(config.main_database, "main", Access::read_only);
    } catch (const Error&) {
        return;  // already reported
    }
    if (config.role == Role::secondary && config.geo_database) {
        try {
            geo = connect_database(*config.geo_database, "geo", Access::read_only);
        } catch (const Error&) {
            // The tracking database's own checks say why; without it the config decides.
        }
    }
    try {
        SiteRole role = read_site_role(config, [&]() -> pqxx::connection& { return *main; }, geo.get());
        checker.record(name, !role.refusal, role.description);
        if (!role.refusal && role.role != config.role) {
            config.role = role.role;
            checker.record("tracking database kept aside", true,
                           "databases.geo is no longer used: this site is the primary since its promotion");
        }
    } catch (const pqxx::failure& e) {
        checker.record(name, false, describe_database_error(e));
    }
}

}  // namespace

std::vector<CheckResult> check_site(const std::optional<std::filesystem::path>& config_file,
                                    const std::function<void(const CheckResult&)>& report) {
    Checker checker(report);
    Config config;
    try {
        if (!config_file)
            throw ConfigError("no config file: use --config, $GEO_SSF_CONFIG, ./geo-ssf.yml or /etc/geo-ssf/config.yml");
        config = load_config(*config_file);
        checker.record("configuration valid", true,
                       config.file.string() + " (" + role_name(config.role) + " site " + config.site_name + ", " +
                           std::to_string(config.replicables.size()) + " replicable(s))");
    } catch (const StorageOverlapError& e) {
        checker.record("configuration valid", false, e.what());
        throw;  // not a site to use at all: exit status 3, whatever else is ready
    } catch (const Error& e) {
        checker.record("configuration valid", false, e.what());
        return std::move(checker).results();
    }

    check_repository_paths(checker, config);
    check_role(checker, config);
    check_database(checker, config, DatabaseKind::main, config.main_database);
    if (config.role == Role::secondary)
        check_database(checker, config, DatabaseKind::geo, *config.geo_database);
    for (const auto& storage : config.storages)
        check_storage_root(checker, storage, config.role);
    check_git_program(checker, config);
    if (config.role == Role::secondary) {
        check_quarantine(checker, config);
        check_primary(checker, config);
    }
    return std::move(checker).results();
}

}  // namespace geo_ssf
