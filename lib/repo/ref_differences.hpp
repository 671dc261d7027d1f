// Which refs differ between a secondary's copy and the primary's repository, from what the
// primary advertises (no fetch): what a failed verification shows an admin.
#pragma once

#include "site/transport_settings.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace geo_ssf {

struct RefDifference {
    std::string name;
    std::string here;     // oid here, empty when the ref is missing here
    std::string primary;  // oid on the primary, empty when missing there
};

// The refs that differ between the local repository and SOURCE_URL's, as listed by the
// remote (no fetch). Only refs that count for the checksum are compared, HEAD included.
std::vector<RefDifference> compare_refs(const std::filesystem::path& local, const std::string& source_url,
                                        const TransportSettings& transport);

}  // namespace geo_ssf
