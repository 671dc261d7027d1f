// geo-ssf: the command table, the shared options, and the one place where errors become
// messages and exit statuses.
#include "build_config.hpp"
#include "command.hpp"
#include "common/edit_distance.hpp"
#include "common/error.hpp"
#include "common/logging.hpp"
#include "common/versions.hpp"
#include "db/site_identity.hpp"
#include "repo/git.hpp"
#include "site/errors.hpp"

#include <spdlog/spdlog.h>

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace geo_ssf::cli {
namespace {

const CommandSpec k_commands[] = {
    {"help", ConfigNeed::none, MigrationNeed::none, std::nullopt, false, define_help,
     "Show a command's manual page, or its --help"},
    {"generate", ConfigNeed::optional, MigrationNeed::none, std::nullopt, false, define_generate,
     "Scaffold a new replicable type"},
    {"migrate", ConfigNeed::required, MigrationNeed::none, std::nullopt, false, define_migrate,
     "Apply pending schema migrations"},
    {"replicables", ConfigNeed::required, MigrationNeed::none, std::nullopt, false, define_replicables,
     "List the replicable types and what is enabled"},
    {"check", ConfigNeed::located, MigrationNeed::none, std::nullopt, false, define_check,
     "Check that this site is ready to run"},
    {"checksum", ConfigNeed::none, MigrationNeed::none, std::nullopt, true, define_checksum,
     "Print the Gitaly-compatible checksum of repositories"},
    {"status", ConfigNeed::required, MigrationNeed::role_database, std::nullopt, false, define_status,
     "Count each type's records by state, for people, scripts or Prometheus"},
    {"show", ConfigNeed::required, MigrationNeed::role_database, std::nullopt, false, define_show,
     "Show one record as this site sees it"},
    {"list", ConfigNeed::required, MigrationNeed::none, std::nullopt, false, define_list,
     "List the records of a type, by state"},
    {"verify", ConfigNeed::required, MigrationNeed::role_database, std::nullopt, true, define_verify,
     "Checksum what is due; record it (primary) or compare it (secondary)"},
    {"reverify", ConfigNeed::required, MigrationNeed::role_database, std::nullopt, true, define_reverify,
     "Mark records for another checksum, or checksum them now"},
    {"event", ConfigNeed::required, MigrationNeed::role_database, Role::primary, false, define_event,
     "Publish created, updated or deleted events (primary)"},
    {"sync", ConfigNeed::required, MigrationNeed::every_database, Role::secondary, true, define_sync,
     "Replay events and mirror the repositories that are due (secondary)"},
    {"resync", ConfigNeed::required, MigrationNeed::role_database, Role::secondary, true, define_resync,
     "Mark records for another fetch, or fetch them now (secondary)"},
    {"promote", ConfigNeed::required, MigrationNeed::none, Role::secondary, false, define_promote,
     "Make this secondary the primary, once its main database is promoted"},
    {"follow", ConfigNeed::required, MigrationNeed::every_database, std::nullopt, true, define_follow,
     "Replicate and verify each change as it happens (a service)"},
    {"completion", ConfigNeed::none, MigrationNeed::none, std::nullopt, false, define_completion,
     "Print a shell completion script"},  // hidden
};

// geo-ssf --help lists each command on one line, its summary from the table, as git does; a
// command's own --help shows its whole description.
class CommandListFormatter : public CLI::Formatter {
public:
    std::string make_subcommand(const CLI::App* sub) const override {
        for (const auto& spec : k_commands)
            if (sub->get_name() == spec.name && sub->get_parent() && !sub->get_parent()->get_parent()) {
                std::ostringstream out;
                CLI::detail::format_help(out, spec.name, spec.summary, column_width_);
                return out.str();
            }
        return CLI::Formatter::make_subcommand(sub);
    }
};

// The long options OPTIONS_OF and the top-level APP accept, for "did you mean".
std::vector<std::string> long_option_names(const CLI::App& app, const CLI::App* options_of) {
    std::vector<std::string> names;
    for (const CLI::App* owner : {options_of, &app})
        if (owner)
            for (const CLI::Option* option : owner->get_options())
                for (const auto& name : option->get_lnames())
                    names.push_back("--" + name);
    return names;
}

// A parse error as one line, naming the unknown command or option and what was probably meant.
std::string usage_message(const CLI::App& app, const CLI::ParseError& e) {
    auto selected = app.get_subcommands();
    const CLI::App* command = selected.empty() ? nullptr : selected.front();
    std::string hint = command ? " (see 'geo-ssf " + command->get_name() + " --help')" : " (see 'geo-ssf --help')";
    // Arguments nothing took, whatever CLI11 complained of first ("A subcommand is required").
    for (const auto& extra : app.remaining(true)) {
        if (extra.rfind("--", 0) == 0 && extra.size() > 2) {
            std::string name = extra.substr(0, extra.find('='));
            auto suggestions = closest_words(name, long_option_names(app, command));
            return "unknown option '" + name + "'" + (suggestions.empty() ? hint : did_you_mean(suggestions));
        }
        if (extra.rfind("-", 0) == 0 && extra.size() > 1)
            return "unknown option '" + extra + "'" + hint;
        if (!command)
            return unknown_command_message(app, extra);
    }
    return e.what() + hint;
}

// Whether stdout is a pipe whose reader has gone (geo-ssf list | head -2): poll reports an
// error on a pipe without readers, however long ago the failed write was.
bool stdout_reader_gone() {
    pollfd out{STDOUT_FILENO, 0, 0};
    return errno == EPIPE || (poll(&out, 1, 0) == 1 && (out.revents & POLLERR) != 0);
}

// Parses the command line, provides what the command's CommandSpec asks for in INVOCATION, and
// runs it. Errors are thrown, for run_command_line to report.
ExitStatus run(int argc, char** argv, Invocation& invocation) {
    CLI::App app{"geo-ssf: replicate Git repositories between sites and prove each copy by checksum.", "geo-ssf"};
    app.require_subcommand(1);
    app.fallthrough();  // global options may also follow the command: geo-ssf verify -v
    app.set_version_flag("--version", [] { return version_text(); }, "Print the versions of geo-ssf, libgit2, libpqxx and libpq");
    app.footer("Run 'geo-ssf COMMAND --help' for a command's options and examples; see geo-ssf(1).");
    app.formatter(std::make_shared<CommandListFormatter>());  // before the commands, which share it

    std::optional<std::string> config_path;
    int verbose = 0;
    bool quiet = false;
    std::string log_format = "text";
    app.add_option("-c,--config", config_path, "Config file (default: $GEO_SSF_CONFIG, ./geo-ssf.yml, /etc/geo-ssf/config.yml)");
    app.add_flag("-v,--verbose", verbose, "Log more (info; -vv: debug)");
    app.add_flag("-q,--quiet", quiet, "Log errors only, and print nothing on stdout on success");
    app.add_option("--log-format", log_format, "Log format on stderr: text (UTC time first) or json (one object a line)")
        ->check(CLI::IsMember({"text", "json"}));

    std::vector<std::pair<const CommandSpec*, Runner>> runners;
    for (const auto& spec : k_commands) {
        CLI::App* sub = app.add_subcommand(spec.name);
        sub->group("Commands");  // a hidden command sets none
        runners.emplace_back(&spec, spec.define(*sub));
    }

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        app.exit(e);
        return ExitStatus::ok;
    } catch (const CLI::CallForAllHelp& e) {
        app.exit(e);
        return ExitStatus::ok;
    } catch (const CLI::CallForVersion& e) {
        std::cout << e.what();
        return ExitStatus::ok;
    } catch (const CLI::ParseError& e) {
        // --log-format is set even when a later argument is wrong, so the error line follows it.
        setup_logging(0, log_format == "json" ? LogFormat::json : LogFormat::text);
        if (app.get_subcommands().empty() && app.remaining(true).empty() && dynamic_cast<const CLI::RequiredError*>(&e)) {
            // Like git: no command at all is a usage error that shows the usage.
            std::cerr << app.help();
            return ExitStatus::usage;
        }
        throw UsageError(usage_message(app, e));
    }

    setup_logging(quiet ? -1 : verbose, log_format == "json" ? LogFormat::json : LogFormat::text);

    const CommandSpec* spec = nullptr;
    Runner* runner = nullptr;
    for (auto& [candidate, candidate_runner] : runners)
        if (app.got_subcommand(candidate->name)) {
            spec = candidate;
            runner = &candidate_runner;
        }

    set_log_context("", spec->name);  // the site's name once the config is read
    if (spec->config != ConfigNeed::none) {
        std::optional<std::filesystem::path> explicit_path;
        if (config_path)
            explicit_path = *config_path;
        invocation.config_file = find_config_file(explicit_path);
        if (spec->config == ConfigNeed::required && !invocation.config_file)
            throw no_config_file_error();
        if (invocation.config_file && spec->config != ConfigNeed::located)
            invocation.site = std::make_unique<Site>(load_config(*invocation.config_file));
    }
    invocation.migrations = spec->migrations;
    invocation.role = spec->role;
    invocation.command = spec->name;
    set_log_context(invocation.site ? invocation.site->config().site_name : std::string(), spec->name);
    // A site set up as the primary never becomes a secondary by its databases (it needs a config
    // of one): refused before any database is asked. A secondary may have been promoted
    // (Invocation::required_site).
    if (spec->role && invocation.site && invocation.site->config().role == Role::primary &&
        *spec->role != Role::primary)
        throw UsageError(std::string("'") + spec->name + "' runs on a " + role_name(*spec->role) + " site; " +
                         invocation.site->config().file.string() + " is a primary");

    // libgit2 is set up once for the whole run, as its documentation asks.
    std::optional<git::Library> libgit2;
    if (spec->uses_git)
        libgit2.emplace();
    auto started = std::chrono::steady_clock::now();
    ExitStatus status = (*runner)(invocation);
    log_record(spdlog::level::info,
               LogFields{"", std::nullopt,
                         std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started)
                             .count()},
               std::string(spec->name) + " finished with exit status " + std::to_string(static_cast<int>(status)));

    // Like git: output that could not be written is a failure, not a silent success. A reader
    // that went away (geo-ssf list | head -2) is not: the command's work is done, and it exits
    // quietly with its own status.
    std::cout.flush();
    if (!std::cout || std::fflush(stdout) != 0) {
        if (stdout_reader_gone())
            return status;
        throw RuntimeError("cannot write the output: " + std::string(std::strerror(errno)));
    }
    return status;
}

}  // namespace

Site& Invocation::required_site() {
    // The commands that use the databases of a role: they act as the role the databases record.
    // The others (replicables, list, migrate) read only what the config says, or no database.
    if (!m_migrations_checked && (migrations != MigrationNeed::none || role)) {
        SiteRole resolved = read_site_role(*site);
        if (resolved.refusal)
            throw ConfigError(*resolved.refusal);
        site->set_role(resolved);
        if (role && site->role() != *role) {
            const Config& config = site->config();
            std::string what = config.role == site->role()
                                   ? config.file.string() + " is a " + role_name(config.role)
                                   : config.file.string() + " sets up a " + role_name(config.role) +
                                         ", but this site is the " + role_name(site->role()) + " now (" +
                                         resolved.description + ")";
            throw UsageError("'" + command + "' runs on a " + role_name(*role) + " site; " + what);
        }
    }
    if (!m_migrations_checked) {
        if (migrations != MigrationNeed::none)
            site->require_migrated(site->role_database_kind());
        if (migrations == MigrationNeed::every_database && !site->is_primary())
            site->require_migrated(DatabaseKind::main);
        m_migrations_checked = true;
    }
    return *site;
}

int run_command_line(int argc, char** argv) {
    // Outlives run, so that a lost connection is named after the site's database that is gone.
    Invocation invocation;
    try {
        return static_cast<int>(run(argc, argv, invocation));
    } catch (...) {
        Error error = translated_error(std::current_exception(), invocation.site.get());
        std::cout.flush();
        print_error_line(error.what(), error.status());
        return static_cast<int>(error.status());
    }
}

ConfigError no_config_file_error() {
    return ConfigError("no config file: use --config, $GEO_SSF_CONFIG, ./geo-ssf.yml or /etc/geo-ssf/config.yml");
}

std::string unknown_command_message(const CLI::App& app, const std::string& word) {
    std::vector<std::string> names;
    for (const CLI::App* command : app.get_subcommands([](const CLI::App*) { return true; }))
        if (!command->get_group().empty())  // hidden commands are not suggested
            names.push_back(command->get_name());
    auto suggestions = closest_words(word, names);
    return "unknown command '" + word + "'" + (suggestions.empty() ? " (see 'geo-ssf --help')" : did_you_mean(suggestions));
}

}  // namespace geo_ssf::cli

int main(int argc, char** argv) {
    // A closed pipe is noticed when the output is flushed (see run), not a death by SIGPIPE.
    std::signal(SIGPIPE, SIG_IGN);
    return geo_ssf::cli::run_command_line(argc, argv);
}
