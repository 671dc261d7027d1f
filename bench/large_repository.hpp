// A repository the size of a large project, built with git fast-import: ~160,000 objects, a pack
// of ~85 MB, 7,000 refs (a third of them annotated tags), in about a minute.
#pragma once

#include "bench_support.hpp"

#include <cstdio>
#include <filesystem>
#include <random>
#include <stdexcept>
#include <string>

namespace bench {

// Writes the fast-import stream of COMMITS commits on BRANCH to OUT, each changing one ~2 KB file
// of 16 folders of 100 files (a blob, two trees and a commit: 4 objects a commit), with a tag
// on every seventh commit (every other one annotated) and a branch on every fortieth. Marks
// start after FIRST_MARK; the first commit follows commit FROM, if given. Ref names start with
// PREFIX.
inline void write_history(FILE* out, long long first_mark, long long commits, const std::string& branch, const std::string& from,
                   const std::string& prefix) {
    std::mt19937_64 random(static_cast<unsigned long long>(first_mark) + 1);
    std::string content(2048, ' ');
    for (long long i = 1; i <= commits; ++i) {
        long long mark = first_mark + i;
        for (size_t at = 0; at + 8 <= content.size(); at += 8) {
            unsigned long long bits = random();
            for (size_t k = 0; k < 8; ++k)
                content[at + k] = static_cast<char>(' ' + (bits >> (8 * k)) % 95);  // printable, poorly compressible
        }
        char path[32];
        std::snprintf(path, sizeof path, "d%02lld/f%02lld", mark % 16, (mark / 16) % 100);
        std::string message = prefix + "commit " + std::to_string(mark);
        std::fprintf(out, "commit %s\nmark :%lld\ncommitter b <b@example.com> %lld +0000\ndata %zu\n%s\n",
                     branch.c_str(), mark, 1500000000 + mark, message.size(), message.c_str());
        if (i == 1 && !from.empty())
            std::fprintf(out, "from %s\n", from.c_str());
        std::fprintf(out, "M 100644 inline %s\ndata %zu\n%s\n", path, content.size(), content.c_str());
        if (mark % 7 == 0 && mark % 14 == 0)
            std::fprintf(out, "tag %sv%lld\nfrom :%lld\ntagger b <b@example.com> %lld +0000\ndata 8\nrelease\n\n",
                         prefix.c_str(), mark, mark, 1500000000 + mark);
        else if (mark % 7 == 0)
            std::fprintf(out, "reset refs/tags/%sl%lld\nfrom :%lld\n\n", prefix.c_str(), mark, mark);
        if (mark % 40 == 0)
            std::fprintf(out, "reset refs/heads/%sbranch-%lld\nfrom :%lld\n\n", prefix.c_str(), mark, mark);
    }
}

inline void fast_import(const std::filesystem::path& repository, long long first_mark, long long commits,
                 const std::string& branch, const std::string& from, const std::string& prefix) {
    FILE* out = ::popen(("git --git-dir='" + repository.string() + "' fast-import --quiet").c_str(), "w");
    if (!out)
        throw std::runtime_error("cannot run git fast-import");
    write_history(out, first_mark, commits, branch, from, prefix);
    if (::pclose(out) != 0)
        throw std::runtime_error("git fast-import failed");
}

inline constexpr long long k_large_repository_commits = 40000;

// The large primary: 40,000 commits of history, every ref packed.
inline void make_large_repository(const std::filesystem::path& repository) {
    bench::run("git init -q --bare -b main '" + repository.string() + "'");
    fast_import(repository, 0, k_large_repository_commits, "refs/heads/main", "", "");
    bench::run("git --git-dir='" + repository.string() + "' pack-refs --all");
}

}  // namespace bench
