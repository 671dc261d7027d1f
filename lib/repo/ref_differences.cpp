#include "repo/ref_differences.hpp"

#include "common/url.hpp"
#include "repo/checksum.hpp"
#include "repo/git.hpp"
#include "repo/primary_owner.hpp"
#include "repo/remote_session.hpp"
#include "repo/special_files.hpp"

#include <map>
#include <optional>
#include <utility>

namespace geo_ssf {

std::vector<RefDifference> compare_refs(const std::filesystem::path& local, const std::string& url,
                                        const TransportSettings& transport) {
    if (auto path = local_path_of(url))
        require_trusted_owner(*path, transport);
    // libgit2 reads both repositories' refs on this thread, where nothing could stop it.
    for (const auto& gitdir : {std::optional<std::filesystem::path>(local), local_path_of(url)}) {
        if (gitdir) {
            refuse_special_files(*gitdir);
            refuse_special_files_under(*gitdir, "refs");
        }
    }
    git::Repository repository = git::open_repository(local);
    std::map<std::string, std::pair<std::string, std::string>> refs;  // name → (here, primary)
    git::ReferenceIterator iterator =
        git::make<git::ReferenceIterator>(git_reference_iterator_new, "cannot list refs", repository.get());
    git_reference* raw = nullptr;
    while (git_reference_next(&raw, iterator.get()) == 0) {
        git::Reference ref(raw);
        const git_oid* oid = git_reference_target(ref.get());
        if (oid && checksum_counts_line(std::string(git_reference_name(ref.get()))))
            refs[git_reference_name(ref.get())].first = git::oid_hex(*oid);
    }
    git_oid head;  // the checksum counts HEAD, resolved, as the primary advertises it
    if (git_reference_name_to_id(&head, repository.get(), "HEAD") == 0)
        refs["HEAD"].first = git::oid_hex(head);
    git::Remote remote = remote_for(url, repository.get());
    RemoteSession session(transport, url);
    for (const auto& [name, oid] : session.advertised_refs(remote.get(), url)) {
        if (name.ends_with("^{}"))
            continue;
        if (checksum_counts_line(name))
            refs[name].second = oid;
    }
    std::vector<RefDifference> out;
    for (const auto& [name, oids] : refs)
        if (oids.first != oids.second)
            out.push_back({name, oids.first, oids.second});
    return out;
}

}  // namespace geo_ssf
