#include "repo/deep_check.hpp"

#include "common/error.hpp"
#include "repo/checksum.hpp"
#include "repo/git.hpp"
#include "repo/git_program.hpp"
#include "repo/special_files.hpp"

#include <git2.h>

#include <string>
#include <vector>

namespace geo_ssf {

namespace fs = std::filesystem;

namespace {

using Verdict = DeepCheckResult::Verdict;

// A GitError naming a FIFO, a socket or a device among the files a deep check reads: its refs
// and every object (special_files.hpp), refused before anything opens the repository.
void refuse_special_files_read(const fs::path& gitdir) {
    refuse_special_files(gitdir);
    refuse_special_files_under(gitdir, "refs");
    refuse_special_files_under(gitdir, "objects");
}

std::vector<std::string> problem_lines(std::string_view text) {
    std::vector<std::string> out;
    while (!text.empty()) {
        auto end = text.find('\n');
        std::string line(text.substr(0, end));
        text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
        while (!line.empty() && (line.back() == '\r' || line.back() == ' '))
            line.pop_back();
        if (line.empty())
            continue;
        if (line[0] == ' ' || line[0] == '\t') {
            // "broken link from tree X" goes on "              to blob Y".
            if (!out.empty())
                out.back() += " " + line.substr(line.find_first_not_of(" \t"));
            continue;
        }
        bool mere_note = false;
        for (std::string_view prefix : {"warning", "notice", "Checking", "dangling", "Verifying"})
            mere_note = mere_note || line.starts_with(prefix);
        if (!mere_note)
            out.push_back(line);
    }
    return out;
}

// What a libgit2 call's failure says about object OID.
[[noreturn]] void throw_object_problem(const git_oid& oid, std::string_view what) {
    throw GitError(std::string(what) + " " + git::oid_hex(oid) + ": " + git::last_error_message());
}

void require_object(git_odb* odb, const git_oid& named, const git_oid& by, const char* how) {
    if (!git_odb_exists(odb, &named))
        throw GitError("missing object " + git::oid_hex(named) + " (" + how + " " + git::oid_hex(by) + ")");
}

// Reads object OID of REPOSITORY (libgit2 checks its hash as it reads it) and checks that the
// objects it names are present.
void check_object(git_repository* repository, git_odb* odb, const git_oid& oid) {
    git_object* raw = nullptr;
    if (git_object_lookup(&raw, repository, &oid, GIT_OBJECT_ANY) != 0)
        throw_object_problem(oid, "cannot read object");
    git::Object object(raw);
    switch (git_object_type(object.get())) {
    case GIT_OBJECT_COMMIT: {
        auto* commit = reinterpret_cast<git_commit*>(object.get());
        require_object(odb, *git_commit_tree_id(commit), oid, "the tree of commit");
        for (unsigned i = 0; i < git_commit_parentcount(commit); ++i)
            require_object(odb, *git_commit_parent_id(commit, i), oid, "a parent of commit");
        break;
    }
    case GIT_OBJECT_TREE: {
        auto* tree = reinterpret_cast<git_tree*>(object.get());
        for (size_t i = 0; i < git_tree_entrycount(tree); ++i) {
            const git_tree_entry* entry = git_tree_entry_byindex(tree, i);
            if (git_tree_entry_type(entry) != GIT_OBJECT_COMMIT)  // a submodule's commit lives elsewhere
                require_object(odb, *git_tree_entry_id(entry), oid, "an entry of tree");
        }
        break;
    }
    case GIT_OBJECT_TAG:
        require_object(odb, *git_tag_target_id(reinterpret_cast<git_tag*>(object.get())), oid, "the target of tag");
        break;
    default:
        break;
    }
}

}  // namespace

std::string fsck_problem(std::string_view out, std::string_view err) {
    std::vector<std::string> problems = problem_lines(err);
    auto more = problem_lines(out);
    problems.insert(problems.end(), more.begin(), more.end());
    if (problems.empty())
        return "git fsck failed without a message";
    std::string text = "git fsck: " + problems.front();
    if (problems.size() > 1)
        text += " (and " + std::to_string(problems.size() - 1) + " more problems)";
    return text;
}

DeepCheckResult deep_check_with_libgit2(const fs::path& gitdir) {
    DeepCheckResult result;
    result.method = "libgit2";
    try {
        refuse_special_files_read(gitdir);
        git::Repository opened = git::open_bare_repository(gitdir);
        git::Odb odb = git::open_odb(fs::path(git_repository_commondir(opened.get())) / "objects");
        // Objects are read through a repository around the config-free object database.
        git::Repository repository = git::make<git::Repository>(git_repository_wrap_odb, "cannot read the objects",
                                                                 odb.get());
        std::vector<git_oid> oids;
        git::check(git_odb_foreach(
                       odb.get(),
                       [](const git_oid* oid, void* payload) {
                           static_cast<std::vector<git_oid>*>(payload)->push_back(*oid);
                           return 0;
                       },
                       &oids),
                   "cannot list the objects");
        for (const git_oid& oid : oids)
            check_object(repository.get(), odb.get(), oid);
        repository_checksum(gitdir);  // every ref readable, and every ref's object present
    } catch (const GitError& e) {
        result.verdict = Verdict::corrupt;
        result.problem = e.what();
    }
    return result;
}

DeepCheckResult deep_check(const fs::path& gitdir, std::chrono::seconds timeout, const char* timeout_name) {
    auto git = git_program();
    if (!git)
        return deep_check_with_libgit2(gitdir);
    DeepCheckResult result;
    result.method = "git fsck";
    try {
        refuse_special_files_read(gitdir);
        git::open_bare_repository(gitdir);
    } catch (const GitError& e) {
        result.verdict = Verdict::corrupt;
        result.problem = e.what();
        return result;
    }
    GitOutput output;
    try {
        output = run_git_in(*git, gitdir, {"fsck", "--no-dangling", "--no-progress"}, timeout, timeout_name,
                            "git fsck");
    } catch (const GitProgramInterrupted&) {
        throw;
    } catch (const GitError& e) {
        result.verdict = Verdict::unchecked;
        result.problem = e.what();
        return result;
    }
    if (output.exit.succeeded())
        return result;
    if (output.exit.signal) {
        // Killed from outside (out of memory, say): nothing is known of the repository.
        result.verdict = Verdict::unchecked;
        result.problem = "git fsck ended by signal " + std::to_string(output.exit.signal);
        return result;
    }
    result.verdict = Verdict::corrupt;
    result.problem = fsck_problem(output.out, output.err);
    return result;
}

}  // namespace geo_ssf
