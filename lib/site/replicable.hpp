// A replicable type: its definition file (replicables/<name>.yml), as `generate` writes it.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace geo_ssf {

// "cool_widgets/{id}.git": literal text and {column} placeholders over the model table.
class RepositoryPathTemplate {
public:
    // A ConfigError with the reason alone ("is empty"); callers add which file or option.
    static RepositoryPathTemplate parse(const std::string& text);

    const std::string& text() const { return m_text; }
    // The model columns the template reads, in order of appearance, without duplicates.
    const std::vector<std::string>& columns() const { return m_columns; }
    // The path for one record; VALUES holds one value per entry of columns(). A RuntimeError
    // when the result is not a usable relative path for that record: an empty segment (an
    // empty value, "//", a leading or trailing '/'), a "." or ".." segment, a NUL byte, more
    // than k_max_repository_path_bytes, or a first segment in geo-ssf's own folders.
    std::string render(const std::vector<std::string>& values) const;
    // Whether PATH is one this template renders for some values: the same literal text, the
    // same depth, each placeholder a non-empty value without '/', and a valid path as above
    // (so at most k_max_repository_path_bytes long).
    bool matches(const std::string& path) const;

private:
    std::string render_unchecked(const std::vector<std::string>& values) const;
    struct Part {
        bool is_column;
        std::string text;  // the literal, or the column name
    };
    std::string m_text;
    std::vector<Part> m_parts;
    std::vector<std::string> m_columns;
};

// The longest repository path geo-ssf accepts, as the file system's PATH_MAX: a longer one (in
// a config or a forged event) is refused at once rather than checked at length.
inline constexpr size_t k_max_repository_path_bytes = 4096;

// geo-ssf's own folders at the top of a storage root all begin so (.geo-ssf-tmp,
// .geo-ssf-removed): no repository path may lie in one.
inline constexpr std::string_view k_reserved_folder_prefix = ".geo-ssf-";
bool is_reserved_storage_folder(std::string_view first_segment);

// Whether A and B can render the same path for some plain values (letters, digits, '_' and '-':
// ids, hashes, names), and whether a path OUTER renders can hold a path INNER renders. `check`
// refuses two types for which either holds. Values of other characters ('/' in a namespace, say)
// can still make two records meet; sync refuses such a record when it reserves its path.
bool can_render_same_path(const RepositoryPathTemplate& a, const RepositoryPathTemplate& b);
bool can_render_nested_path(const RepositoryPathTemplate& outer, const RepositoryPathTemplate& inner);

// The storage of the `storage:` section, and of the records of a type without storage_column.
inline constexpr const char* k_default_storage = "default";

// Where a record's repository is: in which of the site's storages, and where under its root.
struct RepositoryLocation {
    std::string storage;
    std::string path;

    bool operator==(const RepositoryLocation&) const = default;
};

struct Replicable {
    std::string name;          // cool_widget
    std::string plural;        // cool_widgets
    std::string class_name;    // CoolWidget
    std::string title;         // Cool Widget
    std::string title_plural;  // Cool Widgets
    std::string kind = "repository";
    std::string model_table;     // cool_widgets
    // The model table's column that identifies a record (GitLab's snippet_repositories keys on
    // snippet_id): a unique, NOT NULL integer. The registry and states tables keep its values
    // in foreign_key. Every statement over the model table names the record by this column.
    std::string model_key = "id";
    std::string states_table;    // cool_widget_states (main database)
    std::string registry_table;  // cool_widget_registry (tracking database)
    std::string foreign_key;     // cool_widget_id
    RepositoryPathTemplate repository_path;
    std::string scope;  // SQL predicate over the model table; empty means every record
    // The model column that names a record's storage (GitLab's repository_storage); empty: every
    // record is in the storage named default.
    std::string storage_column;
    // The storages whose records this site replicates (the config's sync.storages, a secondary's
    // selective sync): with the scope, what a site's records are. nullopt: every storage.
    std::optional<std::vector<std::string>> synced_storages;
    // Where a record's pool repository is (the seed's pool_repository), in the record's storage:
    // "@pools/{pool_id}.git". A record whose placeholder columns are NULL has none. Forks share
    // their objects through their pool (objects/info/alternates), on a secondary too.
    std::optional<RepositoryPathTemplate> pool_repository_path;
    bool replication_enabled = true;
    bool verification_enabled = true;
    // The seed's housekeeping_enabled?: a secondary repacks its copies after syncs
    // (geo-ssf-sync(1), HOUSEKEEPING).
    bool housekeeping_enabled = true;
    std::filesystem::path file;
};

Replicable load_replicable(const std::filesystem::path& file);

// Every *.yml and *.yaml file in DIR, sorted by name; two files with one name are an error.
// A missing directory gives no replicables.
std::vector<Replicable> load_replicables(const std::filesystem::path& dir);

}  // namespace geo_ssf
