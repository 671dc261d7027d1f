#include "repo/quarantine.hpp"

#include "common/error.hpp"
#include "common/record_ids.hpp"
#include "common/time_words.hpp"
#include "repo/storage.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <map>
#include <optional>
#include <vector>

namespace geo_ssf {

namespace fs = std::filesystem;

namespace {

const char* k_quarantine_folder = ".geo-ssf-removed";

// "20261129T182800Z": sorts as it ages, and tells an admin when the copy was removed.
std::string stamp_of(SystemTime time) {
    return format_utc(time, "%Y%m%dT%H%M%SZ");
}

// The time of a quarantined copy's name ("20261129T182800Z.git", "...Z-2.git"); nullopt for a
// name geo-ssf does not make, which is never purged.
std::optional<SystemTime> time_of(const std::string& name) {
    std::tm utc{};
    const char* end = strptime(name.c_str(), "%Y%m%dT%H%M%SZ", &utc);
    if (!end || !std::string_view(end).ends_with(".git"))
        return std::nullopt;
    return std::chrono::system_clock::from_time_t(timegm(&utc));
}

fs::path type_folder(const fs::path& storage_root, const std::string& type, bool create) {
    fs::path root = own_folder(storage_root / k_quarantine_folder, create);
    if (root.empty())
        return {};
    return own_folder(root / type, create);
}

void move(const fs::path& from, const fs::path& to) {
    std::error_code ec;
    fs::rename(from, to, ec);
    if (ec)
        throw RuntimeError("cannot move " + from.string() + " to " + to.string() + ": " + ec.message());
}

// The quarantined copies of one record, oldest first.
std::vector<fs::path> copies_of(const fs::path& record_folder) {
    std::vector<fs::path> copies;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(record_folder, ec))
        if (time_of(entry.path().filename().string()) && is_folder_not_link(entry.path()))
            copies.push_back(entry.path());
    std::sort(copies.begin(), copies.end());
    return copies;
}

// The bytes of the files under FOLDER, symbolic links not followed.
long long bytes_under(const fs::path& folder) {
    long long bytes = 0;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(folder, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec))
        if (it->is_regular_file(ec) && !it->is_symlink(ec))
            bytes += static_cast<long long>(it->file_size(ec));
    return bytes;
}

}  // namespace

void quarantine_repository(const fs::path& storage_root, const std::string& type, long long id, const fs::path& target,
                           SystemTime now) {
    std::error_code ec;
    if (!fs::exists(fs::symlink_status(target, ec)))
        return;
    if (!is_bare_repository(target))
        throw RuntimeError(target.string() + " is not a bare repository (HEAD, objects/, refs/); it is left in place");
    fs::path record = own_folder(type_folder(storage_root, type, true) / std::to_string(id), true);
    std::string stamp = stamp_of(now);
    fs::path destination = record / (stamp + ".git");
    for (int n = 2; fs::exists(fs::symlink_status(destination, ec)); ++n)
        destination = record / (stamp + "-" + std::to_string(n) + ".git");
    move(target, destination);
}

bool restore_from_quarantine(const fs::path& storage_root, const std::string& type, long long id,
                             const fs::path& target) {
    fs::path types = type_folder(storage_root, type, false);
    if (types.empty())
        return false;
    fs::path record = own_folder(types / std::to_string(id), false);
    if (record.empty())
        return false;
    auto copies = copies_of(record);
    if (copies.empty() || !is_bare_repository(copies.back()))
        return false;
    std::error_code ec;
    fs::create_directories(target.parent_path(), ec);
    move(copies.back(), target);
    fs::remove(record, ec);  // only when no older copy is left
    return true;
}

int purge_quarantine(const fs::path& storage_root, const std::string& type, std::chrono::seconds retention,
                     SystemTime now) {
    fs::path types = type_folder(storage_root, type, false);
    if (types.empty())
        return 0;
    int purged = 0;
    std::error_code ec;
    for (const auto& record : fs::directory_iterator(types, ec)) {
        if (!is_folder_not_link(record.path()))
            continue;
        for (const auto& copy : copies_of(record.path())) {
            if (*time_of(copy.filename().string()) + retention > now)
                continue;
            fs::remove_all(copy, ec);  // never follows a symbolic link inside
            if (ec)
                throw RuntimeError("cannot purge " + copy.string() + ": " + ec.message());
            ++purged;
        }
        fs::remove(record.path(), ec);  // only when it is empty now
    }
    return purged;
}

std::string megabytes_text(long long bytes) {
    char size[32];
    std::snprintf(size, sizeof size, "%.1f MB", static_cast<double>(bytes) / 1e6);
    return size;
}

std::string describe_quarantine(const QuarantineUsage& usage, const fs::path& storage_root) {
    return std::to_string(usage.repositories) + (usage.repositories == 1 ? " repository, " : " repositories, ") +
           megabytes_text(usage.bytes) + " in " + (storage_root / k_quarantine_folder).string();
}

std::vector<QuarantinedCopy> quarantined_copies(const fs::path& storage_root, const std::string& type, long long after,
                                                int limit) {
    std::vector<QuarantinedCopy> copies;
    fs::path types = type_folder(storage_root, type, false);
    if (types.empty())
        return copies;
    std::map<long long, fs::path> records;
    std::error_code ec;
    for (const auto& record : fs::directory_iterator(types, ec)) {
        long long id = 0;
        try {
            id = parse_record_id(record.path().filename().string());
        } catch (const UsageError&) {
            continue;  // not a folder geo-ssf makes
        }
        if (id > after && is_folder_not_link(record.path()))
            records.emplace(id, record.path());
    }
    int listed = 0;
    for (const auto& [id, folder] : records) {
        if (listed++ == limit)
            break;
        for (const auto& copy : copies_of(folder))
            copies.push_back({id, copy, *time_of(copy.filename().string()), bytes_under(copy)});
    }
    return copies;
}

QuarantineUsage quarantine_usage(const fs::path& storage_root) {
    QuarantineUsage usage;
    fs::path root = own_folder(storage_root / k_quarantine_folder, false);
    if (root.empty())
        return usage;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
        if (it.depth() == 2 && time_of(it->path().filename().string()))
            ++usage.repositories;
        if (it->is_regular_file(ec) && !it->is_symlink(ec))
            usage.bytes += static_cast<long long>(it->file_size(ec));
    }
    return usage;
}

}  // namespace geo_ssf
