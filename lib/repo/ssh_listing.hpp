// A primary's refs listed over ssh:// by the ssh program that git then fetches with (git_transport
// shares its connection): upload-pack's advertisement read as it arrives, then a flush-pkt that
// ends upload-pack before any negotiation.
#pragma once

#include "repo/git_program.hpp"
#include "repo/ref_advertisement.hpp"
#include "site/transport_settings.hpp"

#include <string>

namespace geo_ssf {

// Lists the primary at the ssh:// URL with SETUP's ssh command, refusing it (TooManyRefsError)
// once it advertises more than MAX_REFS refs; within TRANSPORT's fetch bounds and stop requests
// (run_transfer). Throws GitError with ssh's or upload-pack's reason when the listing fails.
PrimaryListing list_over_ssh(const std::string& url, const GitSetup& setup, const TransportSettings& transport,
                             long long max_refs);

}  // namespace geo_ssf
