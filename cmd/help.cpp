// geo-ssf help: a command's manual page, as git help shows one.
#include "command.hpp"
#include "common/error.hpp"
#include "common/subprocess.hpp"
#include "site/secrets.hpp"

#include <iostream>
#include <string>
#include <system_error>
#include <vector>

namespace geo_ssf::cli {

namespace {

// Runs man with ARGS and returns its exit status (-1 when it cannot run or a signal ends it);
// with QUIET its output goes to /dev/null.
int run_man(const std::vector<std::string>& args, bool quiet) {
    ProcessSpec spec;
    spec.argv = {"man"};
    spec.argv.insert(spec.argv.end(), args.begin(), args.end());
    spec.environment = environment_without(k_secret_variables);  // nor its pager
    spec.input = ProcessInput::inherit();
    spec.out = quiet ? ProcessOutput::discard() : ProcessOutput::inherit();
    spec.err = spec.out;
    try {
        return run_process(spec).exit.code;
    } catch (const std::system_error&) {
        return -1;
    }
}

}  // namespace

Runner define_help(CLI::App& app) {
    auto command = std::make_shared<std::string>();
    app.description("Show COMMAND's manual page, geo-ssf-COMMAND(1), when it is installed, else its --help. "
                    "Without COMMAND, list the commands.");
    app.add_option("command", *command, "A geo-ssf command, e.g. status");
    app.footer(R"(Examples:
  geo-ssf help
  geo-ssf help sync
  MANPAGER=cat geo-ssf help status)");

    const CLI::App* top = app.get_parent();
    return [command, top](Invocation&) {
        if (command->empty()) {
            std::cout << top->get_formatter()->make_help(top, top->get_name(), CLI::AppFormatMode::Normal);
            return ExitStatus::ok;
        }
        const CLI::App* page_of = nullptr;
        for (const CLI::App* candidate : top->get_subcommands([](const CLI::App*) { return true; }))
            if (candidate->get_name() == *command)
                page_of = candidate;
        if (!page_of)
            throw UsageError(unknown_command_message(*top, *command));
        std::string page = top->get_name() + "-" + *command;
        if (run_man({"-w", page}, true) == 0) {
            std::cout.flush();
            if (run_man({page}, false) == 0)
                return ExitStatus::ok;
            throw RuntimeError("man " + page + " failed");
        }
        std::cout << page_of->help(top->get_name());
        return ExitStatus::ok;
    };
}

}  // namespace geo_ssf::cli
