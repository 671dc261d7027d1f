#include "repo/primary_owner.hpp"

#include "common/error.hpp"
#include "common/redact.hpp"
#include "common/url.hpp"
#include "common/users.hpp"
#include "repo/git.hpp"

#include <git2.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <mutex>

namespace geo_ssf {

namespace {

// A git configuration file of this process's own, removed when it ends, trusting every
// repository's owner; empty when it cannot be written.
const std::filesystem::path& trusting_git_config() {
    struct File {
        std::filesystem::path path;
        File() {
            std::error_code ec;
            std::string name = (std::filesystem::temp_directory_path(ec) / "geo-ssf-gitconfig-XXXXXX").string();
            int fd = ec ? -1 : ::mkstemp(name.data());
            if (fd < 0)
                return;
            ::close(fd);
            std::ofstream out(name, std::ios::trunc);
            out << "[safe]\n\tdirectory = *\n";
            out.close();
            if (out)
                path = name;
            else
                std::filesystem::remove(name, ec);
        }
        ~File() {
            std::error_code ec;
            if (!path.empty())
                std::filesystem::remove(path, ec);
        }
    };
    static const File file;
    return file.path;
}

}  // namespace

void require_trusted_owner(const std::filesystem::path& repository, const TransportSettings& transport) {
    if (transport.trust_primary_owner) {
        static std::once_flag once;
        std::call_once(once, [] { git_libgit2_opts(GIT_OPT_SET_OWNER_VALIDATION, 0); });
        return;
    }
    struct stat st {};
    if (::stat(repository.c_str(), &st) != 0 || st.st_uid == ::geteuid())
        return;
    // Short enough for a registry's last_sync_failure (255 characters): the log line names the path.
    throw GitError("the primary's repository belongs to " + user_name(st.st_uid) + ", not to " +
                   user_name(::geteuid()) + ", which runs geo-ssf: set storage.trust_primary_owner: true to let git "
                   "and libgit2 read it (geo-ssf.yml(5))");
}

GitSetup trusted_owner_setup(const TransportSettings& transport) {
    GitSetup setup;
    if (transport.trust_primary_owner && !trusting_git_config().empty())
        setup.environment.push_back("GIT_CONFIG_GLOBAL=" + trusting_git_config().string());
    return setup;
}

LocalPrimaryProbe probe_local_primary(const std::string& url, const TransportSettings& transport) {
    LocalPrimaryProbe probe;
    auto path = local_path_of(url);
    if (!path) {
        probe.detail = redact_url_credentials(url) + " is not a local path";
        return probe;
    }
    std::error_code ec;
    if (!std::filesystem::exists(*path, ec)) {
        // As sync: a record whose repository the primary does not have is synced as missing there.
        probe.readable = true;
        probe.detail = path->string() + ": no repository there (sync records it as missing on the primary)";
        return probe;
    }
    try {
        require_trusted_owner(*path, transport);
        git::Repository repository = git::open_repository(*path);
        git::ReferenceIterator iterator =
            git::make<git::ReferenceIterator>(git_reference_iterator_new, "cannot list refs", repository.get());
        size_t refs = 0;
        const char* name = nullptr;
        while (git_reference_next_name(&name, iterator.get()) == 0)
            ++refs;
        if (auto git = git_program()) {
            std::string git_url = url.starts_with("file://") ? url : "file://" + std::filesystem::absolute(*path).string();
            run_git(*git, {"ls-remote", git_url}, transport, "git cannot read " + path->string(),
                    trusted_owner_setup(transport));
        }
        probe.readable = true;
        probe.detail = path->string() + ": " + std::to_string(refs) + " refs";
    } catch (const GitError& e) {
        std::string reason = e.what();
        probe.detail = reason.find(path->string()) == std::string::npos ? path->string() + ": " + reason : reason;
    }
    return probe;
}

}  // namespace geo_ssf
