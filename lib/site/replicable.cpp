#include "site/replicable.hpp"

#include "common/error.hpp"
#include "site/names.hpp"
#include "common/yaml_reader.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string_view>
#include <tuple>

namespace geo_ssf {

RepositoryPathTemplate RepositoryPathTemplate::parse(const std::string& text) {
    RepositoryPathTemplate result;
    result.m_text = text;
    if (text.empty())
        throw ConfigError("is empty");
    if (text.front() == '/')
        throw ConfigError("must be relative to the storage root, not start with '/'");
    size_t i = 0;
    std::string literal;
    while (i < text.size()) {
        char c = text[i];
        if (c == '}')
            throw ConfigError("has a '}' without its '{'");
        if (c != '{') {
            if (static_cast<unsigned char>(c) < 0x20 || c == '\\' || c == '"')
                throw ConfigError("may not contain control characters, '\"' or '\\'");
            literal += c;
            ++i;
            continue;
        }
        size_t end = text.find('}', i);
        if (end == std::string::npos)
            throw ConfigError("has a '{' without its '}'");
        std::string column = text.substr(i + 1, end - i - 1);
        if (!is_sql_identifier(column))
            throw ConfigError("placeholder {" + column + "} is not a column name");
        if (!literal.empty())
            result.m_parts.push_back({false, literal});
        literal.clear();
        result.m_parts.push_back({true, column});
        if (std::find(result.m_columns.begin(), result.m_columns.end(), column) == result.m_columns.end())
            result.m_columns.push_back(column);
        i = end + 1;
    }
    if (!literal.empty())
        result.m_parts.push_back({false, literal});
    if (result.m_columns.empty())
        throw ConfigError("has no {column} placeholder, so every record would share one path");
    // A literal "..": segment could climb out of the storage root whatever the values are.
    std::string segment;
    for (size_t j = 0; j <= text.size(); ++j) {
        if (j == text.size() || text[j] == '/') {
            if (segment == ".." || segment == ".")
                throw ConfigError("may not contain '.' or '..' path segments");
            segment.clear();
        } else {
            segment += text[j];
        }
    }
    return result;
}

namespace {

// Why PATH is not a usable relative repository path, or empty when it is. Linear in its length.
std::string invalid_path_reason(std::string_view path) {
    if (path.size() > k_max_repository_path_bytes)
        return "it is longer than " + std::to_string(k_max_repository_path_bytes) + " bytes";
    if (path.find('\0') != std::string_view::npos)
        return "it contains a NUL byte";
    if (!path.empty() && path.front() == '/')
        return "it starts with '/'";
    if (!path.empty() && path.back() == '/')
        return "it ends with '/'";
    if (is_reserved_storage_folder(path.substr(0, path.find('/'))))
        return "it lies in " + std::string(path.substr(0, path.find('/'))) + ", a folder of geo-ssf's own";
    size_t start = 0;
    while (true) {
        size_t end = path.find('/', start);
        std::string_view segment = path.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
        if (segment.empty())
            return "it has an empty segment";
        if (segment == "." || segment == "..")
            return "it has a '" + std::string(segment) + "' segment";
        if (end == std::string_view::npos)
            return "";
        start = end + 1;
    }
}

}  // namespace

bool is_reserved_storage_folder(std::string_view first_segment) {
    return first_segment.substr(0, k_reserved_folder_prefix.size()) == k_reserved_folder_prefix;
}

std::string RepositoryPathTemplate::render(const std::vector<std::string>& values) const {
    std::string out = render_unchecked(values);
    std::string reason = invalid_path_reason(out);
    if (!reason.empty())
        throw RuntimeError("repository path \"" + printable(out) + "\" rendered from " + m_text + " is invalid: " + reason);
    return out;
}

bool RepositoryPathTemplate::matches(const std::string& path) const {
    if (!invalid_path_reason(path).empty())
        return false;
    std::map<std::string, std::string_view> bound;
    std::string_view text = path;
    // Backtracking over the parts: each placeholder takes one or more characters other than '/'.
    // A placeholder ends where the part after it can start, so each try costs that part's
    // length, and a template of one placeholder per segment matches in linear time.
    auto match = [&](auto& self, size_t part, size_t at) -> bool {
        if (part == m_parts.size())
            return at == text.size();
        const Part& p = m_parts[part];
        std::string_view rest = text.substr(at);
        if (!p.is_column)
            return rest.substr(0, p.text.size()) == p.text && self(self, part + 1, at + p.text.size());
        auto known = bound.find(p.text);
        if (known != bound.end())
            return rest.substr(0, known->second.size()) == known->second &&
                   self(self, part + 1, at + known->second.size());
        size_t segment_end = std::min(rest.find('/'), rest.size());
        const Part* next = part + 1 < m_parts.size() ? &m_parts[part + 1] : nullptr;
        for (size_t length = 1; length <= segment_end; ++length) {
            // The literal after the placeholder must start here; nothing else is tried.
            if (next && !next->is_column && rest.substr(length, next->text.size()) != next->text)
                continue;
            if (!next && length != rest.size())
                continue;
            bound[p.text] = rest.substr(0, length);
            if (self(self, part + 1, at + length))
                return true;
        }
        bound.erase(p.text);
        return false;
    };
    return match(match, 0, 0);
}

namespace {

// A template as a sequence of tokens: a literal character; a placeholder, taking one or more
// characters of a plain value (letters, digits, '_' and '-': ids, hashes, names); or, after a
// path, anything at all (a path inside it).
struct Token {
    enum class Kind { literal, placeholder, anything };
    Kind kind = Kind::literal;
    char c = 0;
};

std::vector<Token> tokens_of(const std::string& text) {
    std::vector<Token> out;
    for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '{') {
            out.push_back({Token::Kind::placeholder, 0});
            i = text.find('}', i);
        } else {
            out.push_back({Token::Kind::literal, text[i]});
        }
    }
    return out;
}

bool plain_value_character(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
}

// Whether some path is rendered by both A and B: a search of the product of the two templates'
// automata. A state is the next token of each and whether the token there (a placeholder, or
// anything) has taken a character yet; 'x' stands for every character no literal names.
bool languages_meet(const std::vector<Token>& a, const std::vector<Token>& b) {
    using State = std::tuple<size_t, bool, size_t, bool>;  // token of A, open, token of B, open
    std::set<char> alphabet = {'x'};
    for (const auto* tokens : {&a, &b})
        for (const Token& t : *tokens)
            if (t.kind == Token::Kind::literal)
                alphabet.insert(t.c);
    // The states one template may be in after reading C at token I: past a literal, or in the
    // placeholder (or anything) there, which may take more characters or end.
    auto step = [](const std::vector<Token>& tokens, size_t i, char c) {
        std::vector<std::pair<size_t, bool>> out;
        if (i >= tokens.size())
            return out;
        const Token& t = tokens[i];
        if (t.kind == Token::Kind::literal) {
            if (t.c == c)
                out.emplace_back(i + 1, false);
        } else if (t.kind == Token::Kind::anything || plain_value_character(c)) {
            out.emplace_back(i, true);
        }
        return out;
    };
    std::set<State> seen;
    std::vector<State> todo;
    auto push = [&](State s) {
        // A token that has taken a character may end there.
        auto [i, oi, j, oj] = s;
        for (bool end_a : {false, true})
            for (bool end_b : {false, true}) {
                if ((end_a && !oi) || (end_b && !oj))
                    continue;
                State next{end_a ? i + 1 : i, end_a ? false : oi, end_b ? j + 1 : j, end_b ? false : oj};
                if (seen.insert(next).second)
                    todo.push_back(next);
            }
    };
    push({0, false, 0, false});
    while (!todo.empty()) {
        auto [i, oi, j, oj] = todo.back();
        todo.pop_back();
        if (i == a.size() && !oi && j == b.size() && !oj)
            return true;
        for (char c : alphabet)
            for (auto [ni, noi] : step(a, i, c))
                for (auto [nj, noj] : step(b, j, c))
                    push({ni, noi, nj, noj});
    }
    return false;
}

}  // namespace

bool can_render_same_path(const RepositoryPathTemplate& a, const RepositoryPathTemplate& b) {
    return languages_meet(tokens_of(a.text()), tokens_of(b.text()));
}

bool can_render_nested_path(const RepositoryPathTemplate& outer, const RepositoryPathTemplate& inner) {
    // OUTER's path, a '/', and anything: inside one of OUTER's copies.
    std::vector<Token> inside = tokens_of(outer.text());
    inside.push_back({Token::Kind::literal, '/'});
    inside.push_back({Token::Kind::anything, 0});
    return languages_meet(inside, tokens_of(inner.text()));
}

std::string RepositoryPathTemplate::render_unchecked(const std::vector<std::string>& values) const {
    std::string out;
    for (const auto& part : m_parts) {
        if (!part.is_column) {
            out += part.text;
            continue;
        }
        auto index = std::find(m_columns.begin(), m_columns.end(), part.text) - m_columns.begin();
        out += values.at(static_cast<size_t>(index));
    }
    return out;
}

namespace {

std::string checked_identifier(const YamlReader& yaml, const char* key, const std::optional<std::string>& value) {
    if (!is_sql_identifier(*value))
        yaml.fail(key, "\"" + printable(*value) + "\" is not a lower-case SQL identifier of at most 63 bytes");
    if (is_reserved_sql_word(*value))
        yaml.fail(key, "\"" + *value + "\" is an SQL reserved word");
    return *value;
}

std::string required_identifier(const YamlReader& yaml, const char* key) {
    auto value = yaml.string(key);
    if (!value)
        yaml.fail(key, "is required");
    if (is_geo_ssf_table(*value))
        yaml.fail(key, "\"" + *value + "\" is one of geo-ssf's own tables");
    return checked_identifier(yaml, key, value);
}

std::string required_text(const YamlReader& yaml, const char* key) {
    auto value = yaml.string(key);
    if (!value || value->empty())
        yaml.fail(key, "is required");
    return *value;
}

}  // namespace

Replicable load_replicable(const std::filesystem::path& file) {
    YamlReader yaml = YamlReader::load_file(file);
    yaml.allow_only({"name", "plural", "class_name", "title", "title_plural", "kind", "model_table",
                     "model_key", "states_table", "registry_table", "foreign_key", "repository_path", "scope", "storage_column",
                     "pool_repository_path",
                     "replication_enabled", "verification_enabled", "housekeeping_enabled"});
    Replicable r;
    r.file = file;
    r.name = required_identifier(yaml, "name");
    r.plural = required_identifier(yaml, "plural");
    r.class_name = yaml.string("class_name").value_or(derive_names(r.name).class_name);
    r.title = yaml.string("title").value_or(derive_names(r.name).title);
    r.title_plural = yaml.string("title_plural").value_or(derive_names(r.name, r.plural).title_plural);
    r.kind = yaml.string("kind").value_or("repository");
    if (r.kind != "repository")
        yaml.fail("kind", "\"" + r.kind + "\" is not supported; the only kind is repository");
    r.model_table = required_identifier(yaml, "model_table");
    if (auto key = yaml.string("model_key"))
        r.model_key = checked_identifier(yaml, "model_key", key);
    r.states_table = required_identifier(yaml, "states_table");
    r.registry_table = required_identifier(yaml, "registry_table");
    r.foreign_key = required_identifier(yaml, "foreign_key");
    try {
        r.repository_path = RepositoryPathTemplate::parse(required_text(yaml, "repository_path"));
    } catch (const ConfigError& e) {
        yaml.fail("repository_path", e.what());
    }
    r.scope = yaml.string("scope").value_or("");
    if (auto pool = yaml.string("pool_repository_path"); pool && !pool->empty()) {
        try {
            r.pool_repository_path = RepositoryPathTemplate::parse(*pool);
        } catch (const ConfigError& e) {
            yaml.fail("pool_repository_path", e.what());
        }
        if (can_render_same_path(*r.pool_repository_path, r.repository_path) ||
            can_render_nested_path(*r.pool_repository_path, r.repository_path) ||
            can_render_nested_path(r.repository_path, *r.pool_repository_path))
            yaml.fail("pool_repository_path", "can render a record's repository path, or one inside or around it; "
                                              "give the pools a folder of their own, such as \"@pools/{pool_id}.git\"");
    }
    if (auto column = yaml.string("storage_column"))
        r.storage_column = checked_identifier(yaml, "storage_column", column);
    r.replication_enabled = yaml.boolean("replication_enabled").value_or(true);
    r.verification_enabled = yaml.boolean("verification_enabled").value_or(true);
    r.housekeeping_enabled = yaml.boolean("housekeeping_enabled").value_or(true);
    if (file.stem() != r.name)
        yaml.fail("name", "\"" + r.name + "\" does not match the file name; expected " + r.name + ".yml");
    return r;
}

std::vector<Replicable> load_replicables(const std::filesystem::path& dir) {
    std::vector<Replicable> out;
    std::error_code ec;
    if (!std::filesystem::exists(dir, ec))
        return out;
    if (!std::filesystem::is_directory(dir, ec))
        throw ConfigError(dir.string() + ": expected a folder of replicable definitions");
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        auto extension = entry.path().extension();
        if (entry.is_regular_file() && (extension == ".yml" || extension == ".yaml"))
            files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    std::map<std::string, std::filesystem::path> seen_tables;
    for (const auto& file : files) {
        Replicable r = load_replicable(file);
        for (const std::string& table : {r.name, r.plural, r.registry_table, r.states_table}) {
            auto [it, inserted] = seen_tables.emplace(table, file);
            if (!inserted && it->second != file)
                throw ConfigError(file.string() + ": \"" + table + "\" is already used by " + it->second.string());
        }
        out.push_back(std::move(r));
    }
    return out;
}

}  // namespace geo_ssf
