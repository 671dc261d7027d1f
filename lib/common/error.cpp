#include "common/error.hpp"

namespace geo_ssf {

std::string first_line(const std::string& message) {
    std::string line = message.substr(0, message.find('\n'));
    while (!line.empty() && (line.back() == ' ' || line.back() == '\r' || line.back() == '\t'))
        line.pop_back();
    return line;
}


std::string printable(std::string_view name, size_t max_length) {
    std::string shown;
    size_t kept = 0;
    for (char c : name) {
        if (kept == max_length)
            return shown + "...";
        auto byte = static_cast<unsigned char>(c);
        if (byte < 0x20 || byte == 0x7f) {
            const char* digits = "0123456789abcdef";
            shown += "\\x";
            shown += digits[byte >> 4];
            shown += digits[byte & 0xf];
        } else {
            shown += c;
        }
        ++kept;
    }
    return shown;
}

}  // namespace geo_ssf
