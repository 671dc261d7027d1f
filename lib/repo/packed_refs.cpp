#include "repo/packed_refs.hpp"

#include "common/error.hpp"
#include "repo/git.hpp"
#include "repo/ref_names.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <system_error>

namespace geo_ssf {

namespace {

// Whether GITDIR holds more than LIMIT loose refs (files under refs/); stops counting there.
bool has_more_loose_refs_than(const std::filesystem::path& gitdir, size_t limit) {
    std::error_code ec;
    size_t files = 0;
    for (std::filesystem::recursive_directory_iterator it(gitdir / "refs", ec), end; !ec && it != end; it.increment(ec))
        if (it->is_regular_file(ec) && ++files > limit)
            return true;
    return false;
}

// Removes the empty folders below refs/<namespace>/ (refs/merge-requests/42/ once its head is
// packed), as git pack-refs does: each takes a block of disk.
void remove_empty_ref_folders(const std::filesystem::path& folder, int depth) {
    std::error_code ec;
    for (std::filesystem::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
        if (!it->is_directory(ec) || it->is_symlink(ec))
            continue;
        remove_empty_ref_folders(it->path(), depth + 1);
        if (depth >= 1)
            std::filesystem::remove(it->path(), ec);  // fails, harmlessly, unless empty
    }
}

}  // namespace

std::vector<PackedRef> parse_packed_refs(std::string_view text) {
    std::vector<PackedRef> refs;
    size_t line_number = 0;
    bool after_ref = false;
    auto corrupt = [&](const std::string& why) {
        return GitError("corrupt packed-refs, line " + std::to_string(line_number) + ": " + why);
    };
    refs.reserve(text.size() / 64);
    while (!text.empty()) {
        ++line_number;
        size_t end = text.find('\n');
        if (end == std::string_view::npos)
            throw corrupt("unterminated line");
        std::string_view line = text.substr(0, end);
        text.remove_prefix(end + 1);
        if (line_number == 1 && line.starts_with('#')) {
            if (!line.starts_with("# pack-refs with:"))
                throw corrupt("unexpected header");
            continue;
        }
        git_oid oid;
        if (line.starts_with('^')) {
            if (!after_ref || !parse_oid(line.substr(1), oid))
                throw corrupt("unexpected peeled line");
            after_ref = false;
            continue;
        }
        if (line.size() < k_hex_size + 2 || !parse_oid(line.substr(0, k_hex_size), oid) ||
            !is_git_space(line[k_hex_size])) {
            if (starts_with_sha256_oid(line))
                throw corrupt("a SHA-256 object id: SHA-256 repositories are not supported");
            throw corrupt("not \"<object id> <reference>\"");
        }
        std::string_view name = line.substr(k_hex_size + 1);
        if (!is_valid_refname(name))
            throw corrupt("invalid reference name '" + printable(name) + "'");
        refs.push_back({name, oid});
        after_ref = true;
    }

    // git writes packed-refs sorted; sort anyway so lookups can bisect, and refuse
    // duplicates, whose lines would cancel out in the checksum.
    auto by_name = [](const PackedRef& a, const PackedRef& b) { return a.name < b.name; };
    if (!std::is_sorted(refs.begin(), refs.end(), by_name))
        std::sort(refs.begin(), refs.end(), by_name);
    auto duplicate = std::adjacent_find(refs.begin(), refs.end(),
                                        [](const PackedRef& a, const PackedRef& b) { return a.name == b.name; });
    if (duplicate != refs.end())
        throw GitError("corrupt packed-refs: " + printable(duplicate->name) + " is listed twice");
    return refs;
}

std::string packed_refs_text(const std::map<std::string, AdvertisedRef>& refs) {
    std::string text = "# pack-refs with: peeled sorted \n";
    for (const auto& [name, ref] : refs) {
        if (ref.oid.empty())
            continue;
        text += ref.oid + " " + name + "\n";
        if (!ref.peeled.empty())
            text += "^" + ref.peeled + "\n";
    }
    return text;
}

void write_packed_refs(const std::filesystem::path& gitdir, const std::string& text) {
    std::ofstream out(gitdir / "packed-refs", std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out)
        throw GitError("cannot write " + (gitdir / "packed-refs").string());
}

size_t loose_refs_allowed(const std::filesystem::path& gitdir) {
    std::error_code ec;
    auto packed_size = std::filesystem::file_size(gitdir / "packed-refs", ec);
    double scaled = ec || packed_size < 100 ? 0 : std::log(static_cast<double>(packed_size) / 100) / std::log(1.15);
    return std::max<size_t>(16, static_cast<size_t>(scaled));
}

void keep_refs_packed(git_repository* repository, const std::filesystem::path& gitdir) {
    if (!has_more_loose_refs_than(gitdir, loose_refs_allowed(gitdir)))
        return;
    git::Refdb refdb = git::make<git::Refdb>(git_repository_refdb, "cannot open the refs", repository);
    git::check(git_refdb_compress(refdb.get()), "cannot pack the refs");
    remove_empty_ref_folders(gitdir / "refs", 0);
}

}  // namespace geo_ssf
