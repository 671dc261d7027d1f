#include "repo/quarantine.hpp"

#include "common/error.hpp"
#include "common/time_words.hpp"
#include "repo/storage.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <ctime>
#include <map>
#include <optional>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

namespace geo_ssf {

namespace fs = std::filesystem;

namespace {

const char* k_quarantine_folder = ".geo-ssf-removed";
// Beside the types' folders; a type's name has no dot, so none is called so.
const char* k_unclaimed_folder = ".unclaimed";

// "20261129T182800Z": sorts as it ages, and tells an admin when the copy was removed.
std::string stamp_of(SystemTime time) {
    return format_utc(time, "%Y%m%dT%H%M%SZ");
}

// A quarantined copy's name as geo-ssf writes it: "20261129T182800Z.git", or
// "20261129T182800Z-2.git" for the second copy of one record quarantined in that second.
struct CopyName {
    std::chrono::sys_seconds time;
    int n = 1;  // the how-manieth copy of that second

    bool operator<(const CopyName& other) const { return std::tie(time, n) < std::tie(other.time, other.n); }
};

// NAME read strictly as one geo-ssf writes: a real UTC time from 1970 on (no overflow, however
// far its year), stamped no later than NOW; nullopt for any other name, which is never purged
// nor restored.
std::optional<CopyName> parse_copy_name(std::string_view name, SystemTime now) {
    auto digits = [&](size_t at, size_t count) -> std::optional<int> {
        if (at + count > name.size())
            return std::nullopt;
        int value = 0;
        for (size_t i = at; i < at + count; ++i) {
            if (name[i] < '0' || name[i] > '9')
                return std::nullopt;
            value = value * 10 + (name[i] - '0');
        }
        return value;
    };
    auto year = digits(0, 4), month = digits(4, 2), day = digits(6, 2), hour = digits(9, 2), minute = digits(11, 2),
         second = digits(13, 2);
    if (!year || !month || !day || !hour || !minute || !second || name.size() < 20 || name[8] != 'T' ||
        name[15] != 'Z' || !name.ends_with(".git"))
        return std::nullopt;
    CopyName copy;
    std::string_view rest = name.substr(16, name.size() - 16 - 4);
    if (!rest.empty()) {
        if (rest.size() < 2 || rest.size() > 6 || rest[0] != '-' || rest[1] == '0')
            return std::nullopt;
        copy.n = 0;
        for (char c : rest.substr(1)) {
            if (c < '0' || c > '9')
                return std::nullopt;
            copy.n = copy.n * 10 + (c - '0');
        }
        if (copy.n < 2)
            return std::nullopt;
    }
    std::chrono::year_month_day date{std::chrono::year(*year), std::chrono::month(static_cast<unsigned>(*month)),
                                     std::chrono::day(static_cast<unsigned>(*day))};
    if (*year < 1970 || !date.ok() || *hour > 23 || *minute > 59 || *second > 59)
        return std::nullopt;
    copy.time = std::chrono::sys_days(date) + std::chrono::hours(*hour) + std::chrono::minutes(*minute) +
                std::chrono::seconds(*second);
    if (copy.time > std::chrono::floor<std::chrono::seconds>(now))
        return std::nullopt;  // not stamped by geo-ssf, which stamps the time of the move
    return copy;
}

std::optional<SystemTime> time_of(const std::string& name) {
    auto copy = parse_copy_name(name, std::chrono::system_clock::now());
    if (!copy)
        return std::nullopt;
    return SystemTime(copy->time);
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

// The quarantined copies of one record, oldest first (of two stamped in one second, the one
// with the higher number was moved there later).
std::vector<fs::path> copies_of(const fs::path& record_folder) {
    std::vector<std::pair<CopyName, fs::path>> copies;
    auto now = std::chrono::system_clock::now();
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(record_folder, ec))
        if (auto name = parse_copy_name(entry.path().filename().string(), now); name && is_folder_not_link(entry.path()))
            copies.emplace_back(*name, entry.path());
    std::sort(copies.begin(), copies.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<fs::path> out;
    for (auto& [name, path] : copies)
        out.push_back(std::move(path));
    return out;
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
            auto stamped = parse_copy_name(copy.filename().string(), now);
            if (!stamped || stamped->time + retention > std::chrono::floor<std::chrono::seconds>(now))
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

fs::path quarantine_unclaimed(const fs::path& storage_root, const std::vector<std::string>& relative_paths,
                              SystemTime now) {
    for (const auto& relative : relative_paths)
        if (!is_bare_repository(storage_root / relative))
            throw RuntimeError((storage_root / relative).string() +
                               " is not a bare repository (HEAD, objects/, refs/); it is left in place");
    fs::path folder = type_folder(storage_root, k_unclaimed_folder, true);
    std::string stamp = stamp_of(now);
    fs::path destination = folder / stamp;
    std::error_code ec;
    for (int n = 2; fs::exists(fs::symlink_status(destination, ec)); ++n)
        destination = folder / (stamp + "-" + std::to_string(n));
    destination = own_folder(destination, true);
    for (const auto& relative : relative_paths) {
        fs::path from = storage_root / relative;
        fs::path to = destination / relative;
        fs::create_directories(to.parent_path(), ec);
        if (ec)
            throw RuntimeError("cannot create " + to.parent_path().string() + ": " + ec.message());
        move(from, to);
    }
    return destination;
}

int purge_unclaimed(const fs::path& storage_root, std::chrono::seconds retention, SystemTime now) {
    fs::path folder = type_folder(storage_root, k_unclaimed_folder, false);
    if (folder.empty())
        return 0;
    int purged = 0;
    std::error_code ec;
    for (const auto& moved : fs::directory_iterator(folder, ec)) {
        // Named as copies are, without their ".git".
        auto stamped = parse_copy_name(moved.path().filename().string() + ".git", now);
        if (!stamped || !is_folder_not_link(moved.path()) ||
            stamped->time + retention > std::chrono::floor<std::chrono::seconds>(now))
            continue;
        fs::remove_all(moved.path(), ec);
        if (ec)
            throw RuntimeError("cannot purge " + moved.path().string() + ": " + ec.message());
        ++purged;
    }
    return purged;
}

std::string megabytes_text(long long bytes) {
    char size[32];
    std::snprintf(size, sizeof size, "%.1f MB", static_cast<double>(bytes) / 1e6);
    return size;
}

std::string describe_quarantine(const QuarantineUsage& usage, const std::vector<fs::path>& storage_roots) {
    std::string folders;
    for (const auto& root : storage_roots)
        folders += (folders.empty() ? "" : ", ") + (root / k_quarantine_folder).string();
    return std::to_string(usage.repositories) + (usage.repositories == 1 ? " repository, " : " repositories, ") +
           megabytes_text(usage.bytes) + " in " + folders;
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
        // Named by geo-ssf from the record's id, whatever its sign: anything else is not its.
        std::string name = record.path().filename().string();
        long long id = 0;
        auto [end, failed] = std::from_chars(name.data(), name.data() + name.size(), id);
        if (failed != std::errc() || end != name.data() + name.size() || std::to_string(id) != name)
            continue;
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
