#include "site/names.hpp"

#include "common/error.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <regex>
#include <set>

namespace geo_ssf {

namespace {

bool is_upper(char c) { return std::isupper(static_cast<unsigned char>(c)) != 0; }
bool is_lower_or_digit(char c) {
    return std::islower(static_cast<unsigned char>(c)) != 0 || std::isdigit(static_cast<unsigned char>(c)) != 0;
}

std::string lower(std::string_view text) {
    std::string out(text);
    for (char& c : out)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::string capitalize(std::string word) {
    if (!word.empty())
        word[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(word[0])));
    return word;
}

std::string join(const std::vector<std::string>& words, std::string_view separator,
                 std::string (*transform)(std::string)) {
    std::string out;
    for (size_t i = 0; i < words.size(); ++i) {
        if (i > 0)
            out += separator;
        out += transform(words[i]);
    }
    return out;
}

std::string same(std::string word) { return word; }

// Splits one run of letters and digits at case changes: CoolWidget → Cool, Widget;
// LFSObject → LFS, Object.
void split_camel_case(std::string_view chunk, std::vector<std::string>& words) {
    size_t start = 0;
    for (size_t i = 1; i < chunk.size(); ++i) {
        bool lower_to_upper = is_lower_or_digit(chunk[i - 1]) && is_upper(chunk[i]);
        bool acronym_end = is_upper(chunk[i - 1]) && is_upper(chunk[i]) && i + 1 < chunk.size() &&
                           std::islower(static_cast<unsigned char>(chunk[i + 1]));
        if (lower_to_upper || acronym_end) {
            words.push_back(lower(chunk.substr(start, i - start)));
            start = i;
        }
    }
    words.push_back(lower(chunk.substr(start)));
}

struct Rule {
    std::regex pattern;
    const char* replacement;
};

// ActiveSupport's English plural rules, most specific first, so that names pluralize as the
// Rails application they come from would pluralize them.
const std::vector<Rule>& plural_rules() {
    static const std::vector<Rule> rules = [] {
        std::vector<std::pair<const char*, const char*>> table = {
            {"(quiz)$", "$1zes"},
            {"^(oxen)$", "$1"},
            {"^(ox)$", "$1en"},
            {"^(m|l)ice$", "$1ice"},
            {"^(m|l)ouse$", "$1ice"},
            {"(matr|vert|ind)(?:ix|ex)$", "$1ices"},
            {"(x|ch|ss|sh)$", "$1es"},
            {"([^aeiouy]|qu)y$", "$1ies"},
            {"(hive)$", "$1s"},
            {"([^f])fe$", "$1ves"},
            {"([lr])f$", "$1ves"},
            {"sis$", "ses"},
            {"([ti])a$", "$1a"},
            {"([ti])um$", "$1a"},
            {"(buffal|tomat)o$", "$1oes"},
            {"(bu)s$", "$1ses"},
            {"(alias|status)$", "$1es"},
            {"(octop|vir)i$", "$1i"},
            {"(octop|vir)us$", "$1i"},
            {"^(ax|test)is$", "$1es"},
            {"s$", "s"},
            {"$", "s"},
        };
        std::vector<Rule> out;
        for (auto& [pattern, replacement] : table)
            out.push_back({std::regex(pattern), replacement});
        return out;
    }();
    return rules;
}

const std::vector<std::pair<std::string_view, std::string_view>> k_irregular_plurals = {
    {"person", "people"}, {"man", "men"},     {"woman", "women"}, {"child", "children"},
    {"sex", "sexes"},     {"move", "moves"},  {"zombie", "zombies"}, {"foot", "feet"},
    {"tooth", "teeth"},   {"goose", "geese"}, {"criterion", "criteria"},
};

const std::vector<std::string_view> k_uncountable_words = {
    "equipment", "information", "rice", "money", "species", "series",
    "fish",      "sheep",       "jeans", "police", "metadata", "data",
};

}  // namespace

std::vector<std::string> split_name_words(std::string_view text, std::string_view what) {
    std::string shown(text);
    if (text.find_first_not_of(" _") == std::string_view::npos)
        throw UsageError(std::string(what) + " is empty: give a type name such as CoolWidget");
    for (char c : text) {
        unsigned char u = static_cast<unsigned char>(c);
        if (!(std::isalnum(u) && u < 0x80) && c != ' ' && c != '_') {
            std::string shown_char = std::isprint(u) ? std::string(1, c) : "a non-ASCII or control character";
            throw UsageError("invalid " + std::string(what) + " \"" + shown + "\": '" + shown_char +
                             "' is not allowed; use ASCII letters, digits, spaces or underscores");
        }
    }
    size_t first = text.find_first_not_of(" _");
    if (!std::isalpha(static_cast<unsigned char>(text[first])))
        throw UsageError("invalid " + std::string(what) + " \"" + shown + "\": it must start with a letter");

    std::vector<std::string> words;
    size_t i = 0;
    while (i < text.size()) {
        if (text[i] == ' ' || text[i] == '_') {
            ++i;
            continue;
        }
        size_t end = text.find_first_of(" _", i);
        if (end == std::string_view::npos)
            end = text.size();
        split_camel_case(text.substr(i, end - i), words);
        i = end;
    }
    return words;
}

std::string pluralize_word(std::string_view word_view) {
    std::string word = lower(word_view);
    for (auto uncountable : k_uncountable_words)
        if (word == uncountable)
            return word;
    for (auto [singular, plural] : k_irregular_plurals)
        if (word == singular)
            return std::string(plural);
    for (const auto& rule : plural_rules())
        if (std::regex_search(word, rule.pattern))
            return std::regex_replace(word, rule.pattern, rule.replacement,
                                      std::regex_constants::format_first_only);
    return word + "s";  // not reached: the last rule matches every word
}

Names derive_names(std::string_view name, std::optional<std::string_view> plural) {
    std::vector<std::string> words = split_name_words(name, "NAME");
    std::vector<std::string> plural_words;
    if (plural) {
        plural_words = split_name_words(*plural, "--plural");
    } else {
        plural_words = words;
        plural_words.back() = pluralize_word(words.back());
    }
    Names names;
    names.title_plural = join(plural_words, " ", capitalize);
    names.title = join(words, " ", capitalize);
    names.plural = join(plural_words, "_", same);
    names.singular = join(words, "_", same);
    names.class_name = join(words, "", capitalize);
    names.camel = words.front() + join(std::vector<std::string>(words.begin() + 1, words.end()), "", capitalize);
    return names;
}

bool is_reserved_sql_word(std::string_view text) {
    // PostgreSQL's key words that are reserved, or reserved but allowed as function or type
    // names: neither may name a table or a column without quotes.
    static const std::set<std::string_view> reserved = {
        "all", "analyse", "analyze", "and", "any", "array", "as", "asc", "asymmetric", "authorization", "binary",
        "both", "case", "cast", "check", "collate", "collation", "column", "concurrently", "constraint", "create",
        "cross", "current_catalog", "current_date", "current_role", "current_schema", "current_time",
        "current_timestamp", "current_user", "default", "deferrable", "desc", "distinct", "do", "else", "end",
        "except", "false", "fetch", "for", "foreign", "freeze", "from", "full", "grant", "group", "having", "ilike",
        "in", "initially", "inner", "intersect", "into", "is", "isnull", "join", "lateral", "leading", "left", "like",
        "limit", "localtime", "localtimestamp", "natural", "not", "notnull", "null", "offset", "on", "only", "or",
        "order", "outer", "overlaps", "placing", "primary", "references", "returning", "right", "select",
        "session_user", "similar", "some", "symmetric", "system_user", "table", "tablesample", "then", "to",
        "trailing", "true", "union", "unique", "user", "using", "variadic", "verbose", "when", "where", "window",
        "with"};
    return reserved.count(text) != 0;
}

bool is_geo_ssf_table(std::string_view text) {
    for (std::string_view own : {"geo_events", "geo_ssf_tallies", "event_log_states", "schema_migrations",
                                 "geo_ssf_schema_migrations", "geo_ssf_cursors", "geo_ssf_ref_differences",
                                 "geo_ssf_changes", "geo_ssf_lag_histogram", "geo_ssf_copies", "geo_ssf_removals",
                                 "geo_ssf_deep_checks", "geo_ssf_housekeeping", "geo_ssf_primaries",
                                 "geo_ssf_promotions", "geo_ssf_promotion_records"})
        if (text == own)
            return true;
    return false;
}

bool is_sql_identifier(std::string_view text) {
    static const std::regex pattern("^[a-z_][a-z0-9_]*$");
    return !text.empty() && text.size() <= k_max_identifier_bytes &&
           std::regex_match(text.begin(), text.end(), pattern);
}

std::string sha256_hex(std::string_view data) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int length = 0;
    if (EVP_Digest(data.data(), data.size(), digest.data(), &length, EVP_sha256(), nullptr) != 1)
        throw RuntimeError("SHA-256 is not available from OpenSSL");
    static const char* hex = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < length; ++i) {
        out += hex[digest[i] >> 4];
        out += hex[digest[i] & 0xf];
    }
    return out;
}

std::string fit_identifier(std::string_view identifier) {
    if (identifier.size() <= k_max_identifier_bytes)
        return std::string(identifier);
    constexpr size_t hash_digits = 8;
    std::string prefix(identifier.substr(0, k_max_identifier_bytes - hash_digits - 1));
    while (!prefix.empty() && prefix.back() == '_')
        prefix.pop_back();
    return prefix + "_" + sha256_hex(identifier).substr(0, hash_digits);
}

std::string text_limit_constraint_name(std::string_view table, std::string_view column) {
    return "check_" + sha256_hex(std::string(table) + "_" + std::string(column) + "_check_max_length").substr(0, 10);
}

std::string foreign_key_constraint_name(std::string_view table, std::string_view column) {
    return "fk_rails_" + sha256_hex(std::string(table) + "_" + std::string(column) + "_fk").substr(0, 10);
}

}  // namespace geo_ssf

namespace geo_ssf {

std::vector<std::string> SchemaNames::all() const {
    return {model_table,
            registry_table,
            states_table,
            registry_foreign_key_index,
            registry_retry_at_index,
            registry_state_index,
            registry_failed_verification_index,
            registry_needs_verification_index,
            registry_pending_verification_index,
            registry_missing_on_primary_index,
            registry_started_verification_index,
            registry_verification_failure_check,
            registry_last_sync_failure_check,
            states_foreign_key_index,
            states_foreign_key_constraint,
            states_verification_state_index,
            states_pending_verification_index,
            states_failed_verification_index,
            states_needs_verification_index,
            states_succeeded_verification_index,
            states_verification_failure_check};
}

SchemaNames derive_schema_names(const Names& names, std::optional<std::string_view> model_table) {
    auto exact = [](std::string identifier, std::string_view what) {
        if (identifier.size() > k_max_identifier_bytes)
            throw UsageError("NAME is too long: the " + std::string(what) + " \"" + identifier + "\" would be " +
                             std::to_string(identifier.size()) + " bytes, and PostgreSQL keeps only 63");
        return identifier;
    };
    if (is_reserved_sql_word(names.singular))
        throw UsageError("NAME \"" + names.singular + "\" is an SQL reserved word; choose another (with a prefix, say)");
    if (is_reserved_sql_word(names.plural))
        throw UsageError("the plural \"" + names.plural + "\" is an SQL reserved word; choose another with --plural");
    if (model_table && is_reserved_sql_word(*model_table))
        throw UsageError("invalid --model-table \"" + std::string(*model_table) + "\": it is an SQL reserved word");
    if (model_table && is_geo_ssf_table(*model_table))
        throw UsageError("invalid --model-table \"" + std::string(*model_table) + "\": it is one of geo-ssf's own tables");
    SchemaNames s;
    if (model_table) {
        if (!is_sql_identifier(*model_table))
            throw UsageError("invalid --model-table \"" + std::string(*model_table) +
                             "\": expected a lower-case SQL identifier of at most 63 bytes");
        s.model_table = std::string(*model_table);
    } else {
        s.model_table = exact(names.plural, "model table");
    }
    s.registry_table = exact(names.singular + "_registry", "registry table");
    s.states_table = exact(names.singular + "_states", "states table");
    s.foreign_key = exact(names.singular + "_id", "foreign key column");

    const std::string& r = s.registry_table;
    s.registry_foreign_key_index = fit_identifier("index_" + r + "_on_" + s.foreign_key);
    s.registry_retry_at_index = fit_identifier("index_" + r + "_on_retry_at");
    s.registry_state_index = fit_identifier("index_" + r + "_on_state");
    s.registry_failed_verification_index = fit_identifier(r + "_failed_verification");
    s.registry_needs_verification_index = fit_identifier(r + "_needs_verification");
    s.registry_pending_verification_index = fit_identifier(r + "_pending_verification");
    s.registry_missing_on_primary_index = fit_identifier(r + "_missing_on_primary");
    s.registry_started_verification_index = fit_identifier(r + "_started_verification");
    s.registry_verification_failure_check = text_limit_constraint_name(r, "verification_failure");
    s.registry_last_sync_failure_check = text_limit_constraint_name(r, "last_sync_failure");

    const std::string& t = s.states_table;
    s.states_foreign_key_index = fit_identifier("index_" + t + "_on_" + s.foreign_key);
    s.states_foreign_key_constraint = foreign_key_constraint_name(t, s.foreign_key);
    s.states_verification_state_index = fit_identifier("index_" + t + "_on_verification_state");
    s.states_pending_verification_index = fit_identifier("index_" + t + "_pending_verification");
    s.states_failed_verification_index = fit_identifier("index_" + t + "_failed_verification");
    s.states_needs_verification_index = fit_identifier("index_" + t + "_needs_verification");
    s.states_succeeded_verification_index = fit_identifier("index_" + t + "_succeeded_verification");
    s.states_verification_failure_check = text_limit_constraint_name(t, "verification_failure");

    auto every = s.all();
    std::sort(every.begin(), every.end());
    if (auto dup = std::adjacent_find(every.begin(), every.end()); dup != every.end())
        throw UsageError("NAME gives two schema objects the one name \"" + *dup + "\"; choose another NAME");
    return s;
}

}  // namespace geo_ssf
