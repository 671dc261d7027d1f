#include "common/record_ids.hpp"

#include "common/error.hpp"

#include <charconv>

namespace geo_ssf {

long long parse_record_id(const std::string& text) {
    long long id = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
    if (ec != std::errc() || end != text.data() + text.size() || id <= 0 || text.empty())
        throw UsageError("invalid ID \"" + printable(text) + "\": expected a positive whole number");
    return id;
}

std::vector<long long> parse_record_ids(const std::vector<std::string>& texts) {
    std::vector<long long> ids;
    ids.reserve(texts.size());
    for (const auto& text : texts)
        ids.push_back(parse_record_id(text));
    return ids;
}

long long read_record_ids(std::istream& in, size_t batch, const std::function<void(const std::vector<long long>&)>& consume) {
    std::vector<long long> ids;
    long long total = 0;
    std::string word;
    while (in >> word) {
        ids.push_back(parse_record_id(word));
        ++total;
        if (ids.size() == batch) {
            consume(ids);
            ids.clear();
        }
    }
    if (!ids.empty())
        consume(ids);
    return total;
}

}  // namespace geo_ssf
