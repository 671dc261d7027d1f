// Plain-text tables with aligned columns, for people reading a terminal.
#pragma once

#include <string>
#include <vector>

namespace geo_ssf {

// HEADER and every row must have the same number of cells. Columns are left-aligned and
// separated by two spaces; trailing blanks are trimmed.
std::string format_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows);

}  // namespace geo_ssf
