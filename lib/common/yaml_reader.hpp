// Typed, validated access to one YAML mapping. Every error names the file, the key path and what
// is wrong, for example "geo-ssf.yml: verification.jobs: expected a whole number from 1 to 256, got "many"".
#pragma once

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <filesystem>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

namespace geo_ssf {

class YamlReader {
public:
    // Parses FILE; a missing file, unreadable file, bad YAML or a top level that is not a
    // mapping is a ConfigError.
    static YamlReader load_file(const std::filesystem::path& file);

    YamlReader(std::filesystem::path file, YAML::Node node, std::string prefix);

    // Throws on any key not in ALLOWED, so typos never pass silently.
    void allow_only(std::initializer_list<const char*> allowed) const;

    std::optional<std::string> string(const char* key) const;
    std::optional<bool> boolean(const char* key) const;
    std::optional<long long> integer(const char* key, long long min, long long max) const;
    std::optional<std::chrono::seconds> duration(const char* key) const;
    // A duration that may be shorter than a second, "500ms" (parse_interval).
    std::optional<std::chrono::milliseconds> interval(const char* key) const;
    // A share written as a percentage, "10%", from 0 to 100 percent; returned as 0.1.
    std::optional<double> percentage(const char* key) const;
    // A list of single values ("[a, b]"); nullopt when the key is absent or null.
    std::optional<std::vector<std::string>> strings(const char* key) const;
    // A nested mapping; absent keys give an empty mapping.
    YamlReader mapping(const char* key) const;
    // This mapping's keys, in the file's order.
    std::vector<std::string> keys() const;

    [[noreturn]] void fail(const char* key, const std::string& what) const;
    const std::filesystem::path& file() const { return m_file; }

private:
    std::string key_path(const char* key) const;
    // The scalar at KEY; nullopt when the key is absent or null.
    std::optional<YAML::Node> scalar(const char* key) const;

    std::filesystem::path m_file;
    YAML::Node m_node;
    std::string m_prefix;
};

}  // namespace geo_ssf
