// Text for a POSIX shell's command line.
#pragma once

#include <string>

namespace geo_ssf {

// TEXT single-quoted for sh: ' becomes '\''.
inline std::string shell_quoted(const std::string& text) {
    std::string out = "'";
    for (char c : text)
        out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

}  // namespace geo_ssf
