// The command table's vocabulary: what a subcommand needs, and how it is defined.
#pragma once

#include "common/error.hpp"
#include "site/config.hpp"
#include "site/site.hpp"

#include <CLI/CLI.hpp>

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace geo_ssf::cli {

enum class ConfigNeed {
    none,      // runs without a config (checksum)
    optional,  // uses the config when one is found (generate)
    required,  // a missing or broken config is an error, exit 3
    located,   // is given the config's path and loads it itself (check reports it as a check)
};

// Which of the site's databases must have every migration applied before a command uses them;
// otherwise a ConfigError names the database and how to migrate it (Site::require_migrated).
enum class MigrationNeed {
    none,            // checks nothing, or what it reads itself (list, check)
    role_database,   // the one this role keeps its rows in: main on a primary, geo on a secondary
    every_database,  // that one, then on a secondary the primary's main database it reads
};

// What main.cpp hands a command once the command line is parsed.
struct Invocation {
    std::optional<std::filesystem::path> config_file;  // where the config is, if anywhere
    std::unique_ptr<Site> site;                        // set when the config was loaded
    MigrationNeed migrations = MigrationNeed::none;    // the command's, from its CommandSpec
    std::optional<Role> role;                          // the only role that may run it, from its CommandSpec
    std::string command;                               // its name

    // The loaded config, for the checks of the command's arguments: they need no database.
    const Config& config() const { return site->config(); }
    // The site, on the first call given the role its databases record (a promoted secondary is
    // the primary; an old primary whose database names another site, or a promotion not
    // finished, is a ConfigError), checked against the command's role, and its databases'
    // migrations checked as the command's CommandSpec declares. A command asks for it once its
    // arguments are checked, so that a usage error is found without a database.
    Site& required_site();

private:
    bool m_migrations_checked = false;
};

// Runs the command; returns its exit status: ok, or records_failed when some records or checks
// failed. Any other failure is thrown.
using Runner = std::function<ExitStatus(Invocation&)>;

struct CommandSpec {
    const char* name;
    ConfigNeed config;
    MigrationNeed migrations;
    std::optional<Role> role;  // the only role that may run it; nullopt: either
    // Whether it reads or writes repositories: only then is libgit2 set up (loading its
    // certificates costs the quick commands, status from cron above all, a noticeable share).
    bool uses_git;
    // Declares the command's description, options and examples on APP; returns its runner.
    Runner (*define)(CLI::App& app);
    // Its line in geo-ssf --help, as git lists its commands: what it does, in a few words.
    const char* summary;
};

// One entry point per cmd/<name>.cpp.
Runner define_check(CLI::App& app);
Runner define_checksum(CLI::App& app);
Runner define_completion(CLI::App& app);
Runner define_event(CLI::App& app);
Runner define_follow(CLI::App& app);
Runner define_generate(CLI::App& app);
Runner define_help(CLI::App& app);
Runner define_list(CLI::App& app);
Runner define_migrate(CLI::App& app);
Runner define_promote(CLI::App& app);
Runner define_replicables(CLI::App& app);
Runner define_resync(CLI::App& app);
Runner define_reverify(CLI::App& app);
Runner define_show(CLI::App& app);
Runner define_status(CLI::App& app);
Runner define_sync(CLI::App& app);
Runner define_verify(CLI::App& app);

// "unknown command 'stauts' (did you mean 'status'?)": WORD is not one of APP's commands.
std::string unknown_command_message(const CLI::App& app, const std::string& word);

// The error of a command that needs a config when none was found (exit status 3).
ConfigError no_config_file_error();

// The real entry point (main.cpp): runs the command ARGV names and returns its exit status. It is
// geo-ssf's one error boundary: whatever the command throws is translated once
// (site/errors.hpp) and reported by the one printer, as one line on stderr.
int run_command_line(int argc, char** argv);

}  // namespace geo_ssf::cli
