#include "repo/mirror.hpp"

#include "common/error.hpp"
#include "common/redact.hpp"
#include "common/url.hpp"
#include "repo/checksum.hpp"
#include "repo/fetcher.hpp"
#include "repo/git.hpp"
#include "repo/git_program.hpp"
#include "repo/pools.hpp"
#include "repo/primary_owner.hpp"
#include "repo/packed_refs.hpp"
#include "repo/special_files.hpp"
#include "repo/staging.hpp"
#include "repo/storage.hpp"

#include <sstream>
#include <string>
#include <string_view>
#include <system_error>

namespace geo_ssf {

namespace {

constexpr char k_shallow_primary[] =
    "the primary's repository is shallow: its history is cut, so no copy of it is whole; make it whole on the primary "
    "(git fetch --unshallow)";

bool has_entry(const std::filesystem::path& path) {
    std::error_code ec;
    return std::filesystem::exists(std::filesystem::symlink_status(path, ec));
}

// What a local primary's repository must be before anything reads it: nothing in it that would
// hold a reader (special_files.hpp), a bare repository (its own verify checksums no work tree),
// and whole (a shallow one has a cut history, which git fetches into a copy only by refusing
// every ref that moved, exit status 0).
void check_local_primary(const std::filesystem::path& primary) {
    try {
        refuse_special_files(primary);
        refuse_special_files_under(primary, "refs");
        refuse_special_files_under(primary, "objects");
    } catch (const GitError& e) {
        throw UncopyablePrimaryError(std::string("the primary's repository is refused: ") + e.what());
    }
    if (!has_entry(primary / "HEAD") && has_entry(primary / ".git"))
        throw UncopyablePrimaryError("the primary's repository is not bare: it is a work tree, whose repository is in "
                                     ".git; geo-ssf copies bare repositories only");
    if (has_entry(primary / "shallow"))
        throw UncopyablePrimaryError(k_shallow_primary);
}

bool is_missing_on_primary(const std::string& url) {
    auto path = local_path_of(url);
    if (!path)
        return false;
    std::error_code ec;
    return !std::filesystem::exists(*path, ec);
}

MirrorResult clone_into_place(Fetcher& fetcher, const std::filesystem::path& target,
                              const std::filesystem::path& storage_root, const std::optional<std::filesystem::path>& pool) {
    // Only a repository (a broken copy, an interrupted one) is replaced, never what else is there.
    std::error_code exists_ec;
    if (std::filesystem::exists(std::filesystem::symlink_status(target, exists_ec)))
        if (auto foreign = foreign_entry(target))
            throw GitError(target.string() + " is in the way and is left in place: it holds " + printable(*foreign) +
                           ", which is no part of a repository");
    auto staged = new_staging_folder(storage_root);
    try {
        fetcher.clone(staged, pool);
    } catch (...) {
        std::error_code ec;
        std::filesystem::remove_all(staged, ec);
        throw;
    }
    install_staged_copy(staged, target, storage_root);
    return {false, true};
}

}  // namespace

bool looks_like_not_found(std::string message, const std::string& url) {
    std::string named = redact_url_credentials(url);
    for (size_t at; !named.empty() && (at = message.find(named)) != std::string::npos;)
        message.erase(at, named.size());
    for (const char* text : {"not found", "does not appear to be a git repository", "does not exist"})
        if (message.find(text) != std::string::npos)
            return true;
    // 404 as an HTTP status: a word of its own ("returned error: 404", "status code: 404"), never
    // digits within a port ("[127.0.0.1]:40423") or a host key's fingerprint.
    std::istringstream words(message);
    for (std::string word; words >> word;) {
        while (!word.empty() && std::string_view(":;,.()\"'").find(word.back()) != std::string_view::npos)
            word.pop_back();
        if (word == "404")
            return true;
    }
    return false;
}

std::string primary_repository_url(const std::string& primary_url, const std::string& relative_path) {
    std::string base = primary_url;
    while (!base.empty() && base.back() == '/')
        base.pop_back();
    return base + "/" + relative_path;
}

void check_primary_repository_path(const std::string& primary_url, const std::string& relative_path) {
    auto root = local_path_of(primary_url);
    if (!root)
        return;  // the server applies its own rules
    try {
        repository_location(*root, relative_path);
    } catch (const RuntimeError& e) {
        throw RuntimeError(std::string("the primary's ") + e.what());
    }
}

MirrorResult mirror_repository(const std::string& url, const std::filesystem::path& target,
                               const std::filesystem::path& storage_root, const TransportSettings& transport,
                               long long max_refs, const std::optional<std::filesystem::path>& pool) {
    if (is_missing_on_primary(url))
        return {true, false};
    if (auto path = local_path_of(url))
        require_trusted_owner(*path, transport);
    try {
        if (auto primary = local_path_of(url))
            check_local_primary(*primary);
        auto fetcher = fetcher_for(url, transport, max_refs);
        std::error_code ec;
        if (!std::filesystem::exists(target / "HEAD", ec))
            return clone_into_place(*fetcher, target, storage_root, pool);
        try {
            // libgit2 reads the copy's config and refs on this thread, where nothing stops it.
            refuse_special_files(target);
            refuse_special_files_under(target, "refs");
            // A copy that joined a pool borrows from it before the fetch, which then brings only
            // what the pool lacks; its own objects that the pool has go at its next full repack.
            if (pool)
                borrow_pool_objects(target, *pool);
            git::Repository repository = git::open_repository(target);
            fetcher->fetch(repository.get(), target);
            keep_refs_packed(repository.get(), target);
            repository_checksum(target);  // every ref readable and every tip present
            if (!pool)
                stop_borrowing(target, transport.fetch_timeout, "storage.fetch_timeout");
            return {false, false};
        } catch (const TooManyRefsError&) {
            throw;  // a fresh clone would be refused the same way
        } catch (const UncopyablePrimaryError&) {
            throw;
        } catch (const GitProgramInterrupted&) {
            throw;  // stopped, not broken
        } catch (const GitError&) {
            if (is_missing_on_primary(url))
                return {true, false};
            // The copy here is beyond what a fetch repairs: start again from the primary.
            return clone_into_place(*fetcher, target, storage_root, pool);
        }
    } catch (const GitProgramInterrupted&) {
        throw;  // stopped or out of time: no answer from the primary
    } catch (const GitError& e) {
        if (!local_path_of(url) && looks_like_not_found(e.what(), url))
            return {true, false};  // a remote primary answered that it has no such repository
        throw;
    } catch (const std::filesystem::filesystem_error& e) {
        throw GitError(e.code().message() + ": " + e.path1().string());
    }
}

}  // namespace geo_ssf
