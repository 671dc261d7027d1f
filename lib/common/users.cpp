#include "common/users.hpp"

#include <pwd.h>

#include <optional>

namespace geo_ssf {

namespace {

std::optional<std::string> login_name(uid_t uid) {
    const passwd* entry = getpwuid(uid);
    if (!entry || !entry->pw_name)
        return std::nullopt;
    return std::string(entry->pw_name);
}

}  // namespace

std::string user_name(uid_t uid) {
    std::string id = "uid " + std::to_string(uid);
    auto name = login_name(uid);
    return name ? *name + " (" + id + ")" : id;
}

std::string sudo_user(uid_t uid) { return login_name(uid).value_or("#" + std::to_string(uid)); }

}  // namespace geo_ssf
