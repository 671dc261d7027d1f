#include "common/yaml_reader.hpp"

#include "common/duration.hpp"
#include "common/error.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

namespace geo_ssf {

namespace {

// yaml-cpp keeps every pair of a mapping but looks keys up by the first one: a key given twice
// would silently lose its second value, so it is an error that names both lines.
void refuse_duplicate_keys(const std::filesystem::path& file, const YAML::Node& node, const std::string& prefix) {
    if (node.IsSequence()) {
        for (const auto& item : node)
            refuse_duplicate_keys(file, item, prefix);
        return;
    }
    if (!node.IsMap())
        return;
    std::map<std::string, int> seen;  // key → line
    for (const auto& pair : node) {
        if (pair.first.IsScalar()) {
            std::string key = pair.first.Scalar();
            int line = pair.first.Mark().line + 1;
            auto [it, inserted] = seen.emplace(key, line);
            if (!inserted)
                throw ConfigError(file.string() + ":" + std::to_string(line) + ": " + prefix + printable(key) +
                                  ": duplicate key (first given on line " + std::to_string(it->second) + ")");
            refuse_duplicate_keys(file, pair.second, prefix + key + ".");
        } else {
            refuse_duplicate_keys(file, pair.second, prefix);
        }
    }
}

}  // namespace

YamlReader YamlReader::load_file(const std::filesystem::path& file) {
    std::ifstream in(file);
    if (!in)
        throw ConfigError(file.string() + ": cannot read the file: " + std::strerror(errno));
    std::stringstream text;
    text << in.rdbuf();
    YAML::Node node;
    try {
        node = YAML::Load(text.str());
    } catch (const YAML::Exception& e) {
        throw ConfigError(file.string() + ":" + std::to_string(e.mark.line + 1) + ":" +
                          std::to_string(e.mark.column + 1) + ": invalid YAML: " + e.msg);
    }
    if (!node.IsMap())
        throw ConfigError(file.string() + ": expected a mapping of keys to values at the top level");
    refuse_duplicate_keys(file, node, "");
    return YamlReader(file, node, "");
}

YamlReader::YamlReader(std::filesystem::path file, YAML::Node node, std::string prefix)
    : m_file(std::move(file)), m_node(std::move(node)), m_prefix(std::move(prefix)) {}

std::string YamlReader::key_path(const char* key) const { return m_prefix + key; }

void YamlReader::fail(const char* key, const std::string& what) const {
    throw ConfigError(m_file.string() + ": " + key_path(key) + ": " + what);
}

void YamlReader::allow_only(std::initializer_list<const char*> allowed) const {
    for (const auto& entry : m_node) {
        std::string key = entry.first.Scalar();
        bool known = false;
        for (const char* name : allowed)
            known = known || key == name;
        if (!known) {
            std::string list;
            for (const char* name : allowed)
                list += (list.empty() ? "" : ", ") + std::string(name);
            fail(key.c_str(), "unknown key (known keys here: " + list + ")");
        }
    }
}


std::optional<YAML::Node> YamlReader::scalar(const char* key) const {
    const YAML::Node value = m_node[key];
    if (!value || value.IsNull())
        return std::nullopt;
    if (!value.IsScalar())
        fail(key, "expected a single value, not a list or mapping");
    return value;
}

std::optional<std::string> YamlReader::string(const char* key) const {
    auto value = scalar(key);
    if (!value)
        return std::nullopt;
    return value->Scalar();
}

std::optional<bool> YamlReader::boolean(const char* key) const {
    auto value = scalar(key);
    if (!value)
        return std::nullopt;
    bool result = false;
    if (!YAML::convert<bool>::decode(*value, result))
        fail(key, "expected true or false, got \"" + value->Scalar() + "\"");
    return result;
}

std::optional<long long> YamlReader::integer(const char* key, long long min, long long max) const {
    auto value = scalar(key);
    if (!value)
        return std::nullopt;
    const std::string& text = value->Scalar();
    long long result = 0;
    size_t used = 0;
    try {
        result = std::stoll(text, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (used == 0 || used != text.size() || result < min || result > max)
        fail(key, "expected a whole number from " + std::to_string(min) + " to " + std::to_string(max) +
                      ", got \"" + text + "\"");
    return result;
}

std::optional<double> YamlReader::percentage(const char* key) const {
    auto text = string(key);
    if (!text)
        return std::nullopt;
    double percent = -1;
    size_t used = 0;
    try {
        percent = std::stod(*text, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (used == 0 || used + 1 != text->size() || text->back() != '%' || !(percent >= 0 && percent <= 100))
        fail(key, "expected a percentage from 0% to 100%, such as 10%, got \"" + *text + "\"");
    return percent / 100;
}

std::optional<std::chrono::seconds> YamlReader::duration(const char* key) const {
    auto text = string(key);
    if (!text)
        return std::nullopt;
    auto value = parse_duration(*text);
    if (!value)
        fail(key, "expected a duration such as 90s, 5m, 8h or 7d, got \"" + *text + "\"");
    return value;
}

std::optional<std::chrono::milliseconds> YamlReader::interval(const char* key) const {
    auto text = string(key);
    if (!text)
        return std::nullopt;
    auto value = parse_interval(*text);
    if (!value)
        fail(key, "expected a duration such as 500ms, 2s or 1m, got \"" + *text + "\"");
    return value;
}

std::optional<std::vector<std::string>> YamlReader::strings(const char* key) const {
    const YAML::Node value = m_node[key];
    if (!value || value.IsNull())
        return std::nullopt;
    if (!value.IsSequence())
        fail(key, "expected a list, such as [a, b]");
    std::vector<std::string> out;
    for (const auto& item : value) {
        if (!item.IsScalar())
            fail(key, "expected a list of single values, not of lists or mappings");
        out.push_back(item.Scalar());
    }
    return out;
}

std::vector<std::string> YamlReader::keys() const {
    std::vector<std::string> out;
    for (const auto& entry : m_node)
        out.push_back(entry.first.Scalar());
    return out;
}

YamlReader YamlReader::mapping(const char* key) const {
    const YAML::Node value = m_node[key];
    if (value && !value.IsNull() && !value.IsMap())
        fail(key, "expected a mapping of keys to values");
    return YamlReader(m_file, value && value.IsMap() ? value : YAML::Node(YAML::NodeType::Map),
                      key_path(key) + ".");
}

}  // namespace geo_ssf
