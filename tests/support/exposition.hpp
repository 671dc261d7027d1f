// A strict reader of Prometheus' text exposition format (version 0.0.4), for tests: what
// node_exporter's textfile collector would accept, checked line by line.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace geo_ssf::test {

struct Sample {
    std::string name;
    std::map<std::string, std::string> labels;  // unescaped
    double value = 0;
};

struct Exposition {
    std::map<std::string, std::string> help;  // family name -> unescaped HELP text
    std::map<std::string, std::string> type;  // family name -> TYPE
    std::vector<Sample> samples;
    std::vector<std::string> errors;  // empty when the text is valid

    // The value of the one sample named NAME with LABELS (and maybe others); throws when there is
    // not exactly one.
    double value(const std::string& name, const std::map<std::string, std::string>& labels = {}) const;
    bool has(const std::string& name) const;
    // The samples named NAME, summed by the value of their label LABEL.
    std::map<std::string, double> values(const std::string& name, const std::string& label) const;
};

// Parses TEXT. Every violation is recorded in errors with its line number: a bad metric or
// label name, bad escaping, a value that is not a number, HELP or TYPE given twice for a
// family or after its samples, a family's samples not together, a duplicate series, a sample
// of a gauge family with a suffix, text not ending in a newline.
Exposition parse_exposition(const std::string& text);

}  // namespace geo_ssf::test
