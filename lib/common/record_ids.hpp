// Record ids as users type them: on the command line, or one per line on standard input.
#pragma once

#include <functional>
#include <istream>
#include <string>
#include <vector>

namespace geo_ssf {

// A positive whole number; anything else is a UsageError naming the text.
long long parse_record_id(const std::string& text);
std::vector<long long> parse_record_ids(const std::vector<std::string>& texts);

// Reads ids separated by white space from IN and hands them to CONSUME BATCH at a time, so any
// number of ids takes bounded memory. Returns how many ids were read.
long long read_record_ids(std::istream& in, size_t batch, const std::function<void(const std::vector<long long>&)>& consume);

}  // namespace geo_ssf
