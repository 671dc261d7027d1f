#include "db/deep_checks.hpp"
#include "repo/deep_check.hpp"
#include "secondary/deep_check.hpp"

#include <doctest/doctest.h>

#include <optional>
#include <string>

using namespace geo_ssf;
using deep_checks::CopyRepair;
using deep_checks::PrimaryCheck;

namespace {

int no_jitter() { return 0; }

PrimaryCheck primary(VerificationState state, std::optional<std::string> failure = std::nullopt) {
    return {state, std::move(failure)};
}

}  // namespace

TEST_SUITE("deep_check") {

TEST_CASE("deep_check::fsck_problem names git's first error and counts the others") {
    CHECK(fsck_problem("", "error: inflate: data stream error (incorrect header check)\n"
                           "error: unable to unpack 1a2b contents\n") ==
          "git fsck: error: inflate: data stream error (incorrect header check) (and 1 more problems)");
    // A broken link's second line belongs to the first; warnings and notices are no problems.
    CHECK(fsck_problem("broken link from    tree 1111\n              to    blob 2222\nmissing blob 2222\n",
                       "warning in tree 3333: zeroPaddedFilemode: contains zero-padded file modes\n"
                       "notice: HEAD points to an unborn branch (main)\n") ==
          "git fsck: broken link from    tree 1111 to    blob 2222 (and 1 more problems)");
    CHECK(fsck_problem("missing blob 2222\n", "") == "git fsck: missing blob 2222");
    CHECK(fsck_problem("", "") == "git fsck failed without a message");
}

TEST_CASE("deep_check::a failed check backs off as a failed verification, its reason within 255 characters") {
    auto o = deep_checks::failed(2, std::string(300, 'x'), 1.5, 1, no_jitter);
    CHECK_FALSE(o.passed);
    CHECK(o.retry_count == 3);
    CHECK(o.retry_in == std::chrono::seconds(3 * 3 * 3 * 3 + 15));
    CHECK(o.failure->size() == 255);
    CHECK(o.failure->ends_with("..."));
    CHECK(o.repairs == 1);
    CHECK(deep_checks::passed(0.25).passed);
}

TEST_CASE("deep_check::a copy is cloned again at once, then with backoff; kept when the primary's repository fails too") {
    CHECK(secondary::repair_for(std::nullopt, 0) == CopyRepair::fresh_clone);
    CHECK(secondary::repair_for(primary(VerificationState::succeeded), 0) == CopyRepair::fresh_clone);
    CHECK(secondary::repair_for(primary(VerificationState::succeeded), 1) == CopyRepair::backed_off);
    CHECK(secondary::repair_for(std::nullopt, 3) == CopyRepair::backed_off);
    CHECK(secondary::repair_for(primary(VerificationState::failed, "missing blob 2222"), 0) == CopyRepair::none);
    CHECK(secondary::repair_for(primary(VerificationState::failed), 4) == CopyRepair::none);
}

TEST_CASE("deep_check::what a failed copy records says what was done") {
    auto fresh = secondary::failed_copy("git fsck: missing blob 2222", CopyRepair::fresh_clone, 0, 0,
                                        primary(VerificationState::succeeded), 2.0, no_jitter);
    CHECK(fresh.repair == CopyRepair::fresh_clone);
    CHECK(fresh.check.repairs == 1);
    CHECK(fresh.check.retry_count == 1);
    CHECK(*fresh.check.failure ==
          "moved to the quarantine, and cloned again by the next sync: git fsck: missing blob 2222");

    auto again = secondary::failed_copy("git fsck: missing blob 2222", CopyRepair::backed_off, 1, 1,
                                        primary(VerificationState::succeeded), 2.0, no_jitter);
    CHECK(again.check.repairs == 2);
    CHECK(again.sync.state == SyncState::failed);
    CHECK(again.sync.retry_count == 1);
    CHECK(again.sync.retry_in == std::chrono::seconds(16));
    CHECK(*again.sync.failure == "Error syncing repository: a fresh clone failed its deep check again (1 in a row, and "
                                 "the primary's repository passes its own deep check): git fsck: missing blob 2222");
    CHECK(*again.check.failure == "moved to the quarantine after 1 fresh clone failed in a row, and the primary's "
                                  "repository passes its own deep check: git fsck: missing blob 2222");
    // The backoff grows with the fresh clones that failed.
    auto later = secondary::failed_copy("p", CopyRepair::backed_off, 5, 4, std::nullopt, 2.0, no_jitter);
    CHECK(later.sync.retry_count == 4);
    CHECK(later.sync.failure->find("has not passed a deep check yet") != std::string::npos);

    auto kept = secondary::failed_copy("git fsck: missing blob 2222", CopyRepair::none, 0, 0,
                                       primary(VerificationState::failed, "git fsck: missing tree 3333"), 2.0,
                                       no_jitter);
    CHECK(kept.repair == CopyRepair::none);
    CHECK(kept.check.repairs == 0);
    CHECK(*kept.check.failure ==
          "the copy is kept: the primary's repository fails its deep check too: git fsck: missing blob 2222");
}

}  // TEST_SUITE
