// geo-ssf: the command table, the shared options, and the one place where errors become
// messages and exit statuses.
#include "build_config.hpp"
#include "command.hpp"
#include "site/database.hpp"
#include "common/error.hpp"
#include "repo/git.hpp"
#include "common/logging.hpp"

#include <spdlog/spdlog.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <iostream>

namespace geo_ssf::cli {
namespace {

const CommandSpec k_commands[] = {
    {"generate", ConfigNeed::optional, std::nullopt, false, define_generate},
    {"migrate", ConfigNeed::required, std::nullopt, false, define_migrate},
    {"replicables", ConfigNeed::required, std::nullopt, false, define_replicables},
    {"check", ConfigNeed::located, std::nullopt, false, define_check},
    {"checksum", ConfigNeed::none, std::nullopt, true, define_checksum},
    {"status", ConfigNeed::required, std::nullopt, false, define_status},
    {"show", ConfigNeed::required, std::nullopt, false, define_show},
    {"list", ConfigNeed::required, std::nullopt, false, define_list},
    {"verify", ConfigNeed::required, std::nullopt, true, define_verify},
    {"reverify", ConfigNeed::required, std::nullopt, true, define_reverify},
    {"event", ConfigNeed::required, Role::primary, false, define_event},
    {"sync", ConfigNeed::required, Role::secondary, true, define_sync},
    {"resync", ConfigNeed::required, Role::secondary, true, define_resync},
};

int report(ExitStatus status, const std::string& message) {
    std::cout.flush();
    std::cerr << "geo-ssf: error: " << first_line(message) << std::endl;
    return static_cast<int>(status);
}

int run(int argc, char** argv) {
    CLI::App app{"geo-ssf: replicate Git repositories between sites and prove each copy by checksum.", "geo-ssf"};
    app.require_subcommand(1);
    app.fallthrough();  // global options may also follow the command: geo-ssf verify -v
    app.set_version_flag("--version", GEO_SSF_VERSION);
    app.footer("Run 'geo-ssf COMMAND --help' for a command's options and examples; see geo-ssf(1).");

    std::optional<std::string> config_path;
    int verbose = 0;
    bool quiet = false;
    std::string log_format = "text";
    app.add_option("-c,--config", config_path, "Config file (default: $GEO_SSF_CONFIG, ./geo-ssf.yml, /etc/geo-ssf/config.yml)");
    app.add_flag("-v,--verbose", verbose, "Log more (info; -vv: debug)");
    app.add_flag("-q,--quiet", quiet, "Log errors only");
    app.add_option("--log-format", log_format, "Log format on stderr")->check(CLI::IsMember({"text", "json"}));

    std::vector<std::pair<const CommandSpec*, Runner>> runners;
    for (const auto& spec : k_commands) {
        CLI::App* sub = app.add_subcommand(spec.name);
        runners.emplace_back(&spec, spec.define(*sub));
    }

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        std::string hint = " (see 'geo-ssf --help')";
        for (const auto* sub : app.get_subcommands())
            hint = " (see 'geo-ssf " + sub->get_name() + " --help')";
        if (app.get_subcommands().empty() && !app.remaining().empty())
            return report(ExitStatus::usage, "unknown command '" + app.remaining().front() + "'" + hint);
        return report(ExitStatus::usage, e.what() + hint);
    }

    setup_logging(quiet ? -1 : verbose, log_format == "json" ? LogFormat::json : LogFormat::text);

    const CommandSpec* spec = nullptr;
    Runner* runner = nullptr;
    for (auto& [candidate, candidate_runner] : runners)
        if (app.got_subcommand(candidate->name)) {
            spec = candidate;
            runner = &candidate_runner;
        }

    Invocation invocation;
    if (spec->config != ConfigNeed::none) {
        std::optional<std::filesystem::path> explicit_path;
        if (config_path)
            explicit_path = *config_path;
        invocation.config_file = find_config_file(explicit_path);
        if (spec->config == ConfigNeed::required && !invocation.config_file)
            throw ConfigError("no config file: use --config, $GEO_SSF_CONFIG, ./geo-ssf.yml or /etc/geo-ssf/config.yml");
        if (invocation.config_file && spec->config != ConfigNeed::located)
            invocation.site = std::make_unique<Site>(load_config(*invocation.config_file));
    }
    if (spec->role && invocation.site && invocation.site->config().role != *spec->role)
        throw UsageError(std::string("'") + spec->name + "' runs on a " + role_name(*spec->role) + " site; " +
                         invocation.site->config().file.string() + " is a " +
                         role_name(invocation.site->config().role));

    // libgit2 is set up once for the whole run, as its documentation asks.
    std::optional<git::Library> libgit2;
    if (spec->uses_git)
        libgit2.emplace();
    int status = (*runner)(invocation);

    // Like git: output that could not be written is a failure, not a silent success.
    std::cout.flush();
    if (!std::cout || std::fflush(stdout) != 0)
        throw RuntimeError("cannot write the output: " + std::string(std::strerror(errno)));
    return status;
}

}  // namespace
}  // namespace geo_ssf::cli

int main(int argc, char** argv) {
    using namespace geo_ssf;
    // A closed pipe is an error to report (exit 5), not a silent death by SIGPIPE.
    std::signal(SIGPIPE, SIG_IGN);
    try {
        return cli::run(argc, argv);
    } catch (const Error& e) {
        return cli::report(e.status(), e.what());
    } catch (const pqxx::failure& e) {
        DatabaseError error = database_error(e);
        return cli::report(error.status(), error.what());
    } catch (const std::exception& e) {
        return cli::report(ExitStatus::runtime, e.what());
    }
}
