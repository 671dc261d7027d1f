// Logging to stderr through spdlog: quiet by default (warnings and errors), more with -v,
// only errors with -q; text for people, one JSON object a line for log shippers.
#pragma once

#include <string>

namespace geo_ssf {

enum class LogFormat { text, json };

// VERBOSITY: -1 quiet, 0 default, 1 info (-v), 2 debug (-vv).
void setup_logging(int verbosity, LogFormat format);

}  // namespace geo_ssf
