// geo-ssf help: a command's manual page, as git help shows one.
#include "command.hpp"
#include "common/error.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include <iostream>

extern char** environ;

namespace geo_ssf::cli {

namespace {

// Runs man with ARGS and returns its exit status (-1 when it cannot run); with QUIET its
// output goes to /dev/null.
int run_man(std::vector<std::string> args, bool quiet) {
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>("man"));
    for (auto& arg : args)
        argv.push_back(arg.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    if (quiet) {
        posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    }
    pid_t pid = -1;
    int spawned = posix_spawnp(&pid, "man", &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (spawned != 0)
        return -1;
    int wait_status = 0;
    while (waitpid(pid, &wait_status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : -1;
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
