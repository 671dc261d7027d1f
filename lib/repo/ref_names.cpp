#include "repo/ref_names.hpp"

#include "common/error.hpp"

#include <algorithm>
#include <string>

namespace geo_ssf {

namespace {

// What a byte means in a ref name, after git's refname_disposition table.
enum class RefnameByte : unsigned char { ok, slash, dot, brace, bad };

constexpr std::array<RefnameByte, 256> k_refname_bytes = [] {
    std::array<RefnameByte, 256> bytes{};
    for (int c = 0; c < 0x20; ++c)
        bytes[c] = RefnameByte::bad;
    for (unsigned char c : {' ', '~', '^', ':', '?', '*', '[', '\\', '\x7f'})
        bytes[c] = RefnameByte::bad;
    bytes['/'] = RefnameByte::slash;
    bytes['.'] = RefnameByte::dot;
    bytes['{'] = RefnameByte::brace;
    return bytes;
}();

}  // namespace

bool starts_with_sha256_oid(std::string_view text) {
    if (text.size() < k_sha256_hex_size || (text.size() > k_sha256_hex_size && !is_git_space(text[k_sha256_hex_size])))
        return false;
    return std::all_of(text.begin(), text.begin() + k_sha256_hex_size, [](char c) { return hex_value(c) >= 0; });
}

bool is_valid_refname(std::string_view name) {
    if (name.empty() || name == "@" || name.back() == '.')
        return false;
    size_t component_start = 0;
    char last = '\0';
    for (size_t i = 0; i <= name.size(); ++i) {
        RefnameByte kind = i == name.size() ? RefnameByte::slash : k_refname_bytes[static_cast<unsigned char>(name[i])];
        switch (kind) {
        case RefnameByte::ok:
            break;
        case RefnameByte::bad:
            return false;
        case RefnameByte::dot:
            if (last == '.')
                return false;
            break;
        case RefnameByte::brace:
            if (last == '@')
                return false;
            break;
        case RefnameByte::slash: {
            std::string_view component = name.substr(component_start, i - component_start);
            if (component.empty() || component.front() == '.' || component.ends_with(k_lock_suffix))
                return false;
            component_start = i + 1;
            last = '\0';
            continue;
        }
        }
        last = name[i];
    }
    return true;
}

RefContent parse_ref_content(std::string_view text) {
    while (!text.empty() && is_git_space(text.back()))
        text.remove_suffix(1);
    RefContent content;
    if (text.starts_with("ref:")) {
        text.remove_prefix(4);
        while (!text.empty() && is_git_space(text.front()))
            text.remove_prefix(1);
        content.valid = true;
        content.symbolic = true;
        content.target = text;
        return content;
    }
    content.valid = text.size() >= k_hex_size && parse_oid(text.substr(0, k_hex_size), content.oid) &&
                    (text.size() == k_hex_size || is_git_space(text[k_hex_size]));
    return content;
}

void throw_corrupt_ref(std::string_view name, std::string_view text) {
    if (starts_with_sha256_oid(text))
        throw GitError("reference " + printable(name) + " holds a SHA-256 object id: SHA-256 repositories are not supported");
    throw GitError("corrupt reference " + printable(name) + ": neither an object id nor a symbolic reference");
}

}  // namespace geo_ssf
