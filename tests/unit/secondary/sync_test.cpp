#include "secondary/sync.hpp"
#include "site/config.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace geo_ssf;
using geo_ssf::secondary::sync_failure_concerns;

TEST_SUITE("secondary") {

TEST_CASE("secondary::sync_failure_concerns names the copy or the primary a failed sync is about") {
    Config config;
    Storage storage;
    storage.name = k_default_storage;
    storage.root = "/var/lib/geo-ssf/repositories";
    storage.primary_url = "https://git:secret@primary.example.com/repositories/";
    config.storages.push_back(storage);
    const std::string copy = "copy /var/lib/geo-ssf/repositories/cool_widgets/7.git";
    const std::string primary = "primary https://***@primary.example.com/repositories/cool_widgets/7.git";
    auto concerns = [&](const char* reason) { return sync_failure_concerns(reason, config, {k_default_storage, "cool_widgets/7.git"}); };

    CHECK(concerns("Error syncing repository: cannot connect to https://***@primary.example.com/...: "
                   "connection refused") == primary);
    CHECK(concerns("Error syncing repository: the primary advertises 12 refs, more than sync.max_refs (10)") ==
          primary);
    CHECK(concerns("Error syncing repository: Permission denied: /var/lib/geo-ssf/repositories/.geo-ssf-tmp/1-2") ==
          copy);
    CHECK(concerns("Error syncing repository: cannot fetch from file:///srv/r/7.git: write error: No space left on "
                   "device") == copy);
    CHECK(concerns("Error syncing repository: repository path \"x\" is refused: it leads outside the storage root "
                   "through a symbolic link") == copy);
    // A storage the site lacks: its copy, named by storage and path.
    CHECK(sync_failure_concerns("its storage \"gone\" is not one of this site's", config, {"gone", "a/7.git"}) ==
          "copy gone:a/7.git");
}

}  // TEST_SUITE
