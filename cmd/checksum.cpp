// geo-ssf checksum PATH...: Gitaly's repository checksum of each repository, no config needed.
#include "command.hpp"
#include "common/error.hpp"
#include "common/logging.hpp"
#include "repo/checksum.hpp"
#include "repo/git.hpp"

#include <iostream>
#include <memory>
#include <string>
#include <vector>

namespace geo_ssf::cli {

Runner define_checksum(CLI::App& app) {
    auto paths = std::make_shared<std::vector<std::string>>();
    app.description("Print the Gitaly-compatible checksum of each repository, as \"<checksum> <path>\". A repository "
                    "that is missing, unreadable or corrupt is reported on stderr and the rest carry on; the exit "
                    "status is then 1.");
    app.add_option("path", *paths, "Repository folder (bare, or a .git folder)")->required();
    app.footer(R"(Examples:
  geo-ssf checksum /var/opt/gitlab/git-data/repositories/@hashed/6b/86/6b86b273.git
  geo-ssf checksum /srv/repositories/cool_widgets/*.git
  geo-ssf checksum /srv/primary/cool_widgets/1.git /srv/secondary/cool_widgets/1.git | uniq -c -w 40)");

    return [paths](Invocation&) {
        ExitStatus status = ExitStatus::ok;
        for (const std::string& path : *paths) {
            try {
                std::string checksum = repository_checksum(path);
                std::cout << checksum << ' ' << path << '\n';
            } catch (const GitError& e) {
                std::cout.flush();  // keep stdout and stderr in the order the paths were given
                print_error_line(path + ": " + e.what());
                status = ExitStatus::records_failed;
            }
        }
        return status;
    };
}

}  // namespace geo_ssf::cli
