#include "exposition.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>

namespace geo_ssf::test {

namespace {

const std::regex k_metric_name("[a-zA-Z_:][a-zA-Z0-9_:]*");
const std::regex k_label_name("[a-zA-Z_][a-zA-Z0-9_]*");
const std::set<std::string> k_types = {"counter", "gauge", "histogram", "summary", "untyped"};

// Go's strconv.ParseFloat, as Prometheus reads values: a decimal or exponent number, or
// NaN, +Inf, -Inf.
bool parse_value(const std::string& text, double& value) {
    if (text == "NaN") {
        value = std::nan("");
        return true;
    }
    if (text == "+Inf" || text == "-Inf") {
        value = text[0] == '+' ? INFINITY : -INFINITY;
        return true;
    }
    static const std::regex number("[+-]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)([eE][+-]?[0-9]+)?");
    if (!std::regex_match(text, number))
        return false;
    value = std::stod(text);
    return true;
}

// Reads {name="value",...} from LINE at POS; returns false with a reason on any error.
bool parse_labels(const std::string& line, size_t& pos, std::map<std::string, std::string>& labels,
                  std::string& reason) {
    ++pos;  // '{'
    while (true) {
        if (pos < line.size() && line[pos] == '}') {
            ++pos;
            return true;
        }
        size_t start = pos;
        while (pos < line.size() && line[pos] != '=')
            ++pos;
        std::string name = line.substr(start, pos - start);
        if (!std::regex_match(name, k_label_name) || name.rfind("__", 0) == 0) {
            reason = "bad label name '" + name + "'";
            return false;
        }
        if (pos + 1 >= line.size() || line[pos + 1] != '"') {
            reason = "label value not quoted";
            return false;
        }
        pos += 2;
        std::string value;
        bool closed = false;
        while (pos < line.size()) {
            char c = line[pos++];
            if (c == '"') {
                closed = true;
                break;
            }
            if (c == '\\') {
                if (pos >= line.size()) {
                    reason = "backslash at the end of a label value";
                    return false;
                }
                char e = line[pos++];
                if (e == '\\')
                    value += '\\';
                else if (e == '"')
                    value += '"';
                else if (e == 'n')
                    value += '\n';
                else {
                    reason = std::string("bad escape \\") + e + " in a label value";
                    return false;
                }
            } else {
                value += c;
            }
        }
        if (!closed) {
            reason = "label value not closed";
            return false;
        }
        if (!labels.emplace(name, value).second) {
            reason = "label " + name + " given twice";
            return false;
        }
        if (pos < line.size() && line[pos] == ',') {
            ++pos;
            continue;
        }
        if (pos < line.size() && line[pos] == '}') {
            ++pos;
            return true;
        }
        reason = "expected , or } after a label";
        return false;
    }
}

bool unescape_help(const std::string& text, std::string& out) {
    for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '\\') {
            out += text[i];
            continue;
        }
        if (++i >= text.size())
            return false;
        if (text[i] == '\\')
            out += '\\';
        else if (text[i] == 'n')
            out += '\n';
        else
            return false;
    }
    return true;
}

}  // namespace

double Exposition::value(const std::string& name, const std::map<std::string, std::string>& labels) const {
    const Sample* found = nullptr;
    for (const auto& s : samples)
        if (s.name == name && std::all_of(labels.begin(), labels.end(), [&](const auto& label) {
                auto it = s.labels.find(label.first);
                return it != s.labels.end() && it->second == label.second;
            })) {
            if (found)
                throw std::runtime_error("more than one sample named " + name);
            found = &s;
        }
    if (!found)
        throw std::runtime_error("no sample named " + name);
    return found->value;
}

bool Exposition::has(const std::string& name) const {
    for (const auto& s : samples)
        if (s.name == name)
            return true;
    return false;
}

std::map<std::string, double> Exposition::values(const std::string& name, const std::string& label) const {
    std::map<std::string, double> out;
    for (const auto& s : samples)
        if (s.name == name && s.labels.count(label))
            out[s.labels.at(label)] += s.value;
    return out;
}

Exposition parse_exposition(const std::string& text) {
    Exposition out;
    if (!text.empty() && text.back() != '\n')
        out.errors.push_back("the text does not end with a newline");
    std::istringstream lines(text);
    std::string line;
    int number = 0;
    std::set<std::string> finished;  // families whose samples are over
    std::string current;             // the family of the last sample
    std::set<std::string> series;
    auto error = [&](const std::string& what) { out.errors.push_back("line " + std::to_string(number) + ": " + what); };
    while (std::getline(lines, line)) {
        ++number;
        if (line.empty())
            continue;
        if (line[0] == '#') {
            std::istringstream words(line.substr(1));
            std::string keyword, name;
            words >> keyword >> name;
            if (keyword != "HELP" && keyword != "TYPE")
                continue;  // a comment
            if (line.rfind("# " + keyword + " ", 0) != 0)
                error("expected '# " + keyword + " '");
            if (!std::regex_match(name, k_metric_name)) {
                error("bad metric name '" + name + "'");
                continue;
            }
            size_t rest_at = line.find(name, 2 + keyword.size()) + name.size();
            std::string rest = rest_at < line.size() ? line.substr(rest_at + 1) : "";
            if (finished.count(name) || current == name)
                error(keyword + " for " + name + " after its samples");
            if (keyword == "HELP") {
                std::string help;
                if (!unescape_help(rest, help))
                    error("bad escape in HELP of " + name);
                if (!out.help.emplace(name, help).second)
                    error("second HELP for " + name);
            } else {
                if (!k_types.count(rest))
                    error("unknown TYPE '" + rest + "' for " + name);
                if (!out.type.emplace(name, rest).second)
                    error("second TYPE for " + name);
            }
            continue;
        }
        size_t pos = 0;
        while (pos < line.size() && line[pos] != '{' && line[pos] != ' ')
            ++pos;
        Sample sample;
        sample.name = line.substr(0, pos);
        if (!std::regex_match(sample.name, k_metric_name)) {
            error("bad metric name '" + sample.name + "'");
            continue;
        }
        std::string reason;
        if (pos < line.size() && line[pos] == '{' && !parse_labels(line, pos, sample.labels, reason)) {
            error(reason);
            continue;
        }
        if (pos >= line.size() || line[pos] != ' ') {
            error("expected a space before the value");
            continue;
        }
        std::istringstream rest(line.substr(pos + 1));
        std::string value, timestamp, extra;
        rest >> value >> timestamp >> extra;
        if (!parse_value(value, sample.value))
            error("value '" + value + "' is not a number");
        if (!timestamp.empty() && !std::regex_match(timestamp, std::regex("-?[0-9]+")))
            error("timestamp '" + timestamp + "' is not an integer");
        if (!extra.empty())
            error("text after the timestamp");
        // Gauges have no suffixed samples: the sample's name is its family's.
        if (out.type.count(sample.name) && out.type[sample.name] == "gauge" && !out.help.count(sample.name))
            error("gauge " + sample.name + " has no HELP");
        // A histogram's series each give their buckets, sum and count in turn: its family is
        // the name without those suffixes.
        std::string family = sample.name;
        for (const char* suffix : {"_bucket", "_sum", "_count"}) {
            std::string base = family.substr(0, family.size() - std::min(family.size(), std::strlen(suffix)));
            if (family.size() > std::strlen(suffix) && family.compare(base.size(), std::string::npos, suffix) == 0 &&
                out.type.count(base) && out.type[base] == "histogram") {
                family = base;
                break;
            }
        }
        if (family != current) {
            if (!current.empty())
                finished.insert(current);
            if (finished.count(family))
                error("samples of " + family + " are not together");
            current = family;
        }
        std::string key = sample.name;
        for (const auto& [k, v] : sample.labels)
            key += "\x1f" + k + "=" + v;
        if (!series.insert(key).second)
            error("series " + sample.name + " given twice");
        out.samples.push_back(std::move(sample));
    }
    return out;
}

}  // namespace geo_ssf::test
