// The contract every failing command keeps, checked the same way by every test.
#pragma once

#include "test_support.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <string>

namespace geo_ssf::test {

// Every error is one line on stderr starting "geo-ssf: error: ", with nothing on stdout.
inline void check_one_line_error(const RunResult& r, int status, const std::string& fragment) {
    CAPTURE(r.out);
    CAPTURE(r.err);
    CHECK(r.status == status);
    CHECK(r.out.empty());
    CHECK(r.err.rfind("geo-ssf: error: ", 0) == 0);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK(r.err.find(fragment) != std::string::npos);
}

}  // namespace geo_ssf::test
