// Users as messages name them.
#pragma once

#include <sys/types.h>

#include <string>

namespace geo_ssf {

// "git (uid 998)", or "uid 998" when the user has no name.
std::string user_name(uid_t uid);

// What sudo -u takes for UID: its name, or "#998" when it has none.
std::string sudo_user(uid_t uid);

}  // namespace geo_ssf
