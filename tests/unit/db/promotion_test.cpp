#include "db/promotion.hpp"

#include <doctest/doctest.h>

#include <optional>
#include <string>

using namespace geo_ssf;

namespace {

PrimaryVerificationState checksummed(const std::string& checksum) {
    return {VerificationState::succeeded, checksum};
}

RegistryCopy verified(const std::string& checksum) {
    RegistryCopy copy;
    copy.state = SyncState::synced;
    copy.verification_state = VerificationState::succeeded;
    copy.checksum = checksum;
    return copy;
}

std::string reason(const std::optional<CopyLoss>& loss) { return loss ? loss->reason : "none"; }

}  // namespace

TEST_SUITE("promotion") {

TEST_CASE("promotion::copy_loss: only a synced copy verified with the primary's checksum loses nothing") {
    CHECK(reason(copy_loss(checksummed("ab"), verified("ab"))) == "none");
    CHECK(reason(copy_loss(checksummed("ab"), verified("cd"))) == "checksum_differs");
    CHECK(reason(copy_loss(checksummed("ab"), std::nullopt)) == "not_registered");
    RegistryCopy copy = verified("ab");
    for (SyncState state : {SyncState::pending, SyncState::started, SyncState::failed}) {
        copy.state = state;
        CHECK(reason(copy_loss(checksummed("ab"), copy)) == "not_synced");
    }
    copy.state = SyncState::failed;
    copy.sync_failure = "Error syncing repository: gone";
    CHECK(copy_loss(checksummed("ab"), copy)->detail == "its sync failed: Error syncing repository: gone");
    copy = verified("ab");
    for (VerificationState state : {VerificationState::pending, VerificationState::started, VerificationState::failed,
                                    VerificationState::disabled}) {
        copy.verification_state = state;
        CHECK(reason(copy_loss(checksummed("ab"), copy)) == "not_verified");
    }
}

TEST_CASE("promotion::copy_loss: what the primary cannot prove is not proven") {
    CHECK(reason(copy_loss(std::nullopt, verified("ab"))) == "primary_not_checksummed");
    CHECK(reason(copy_loss(PrimaryVerificationState{VerificationState::pending, "ab"}, verified("ab"))) ==
          "primary_not_checksummed");
    CHECK(reason(copy_loss(PrimaryVerificationState{VerificationState::failed, ""}, verified(""))) ==
          "primary_not_checksummed");
    // Nothing on the primary and nothing here: nothing lost.
    RegistryCopy missing = verified("");
    missing.missing_on_primary = true;
    missing.verification_state = VerificationState::disabled;
    CHECK(reason(copy_loss(PrimaryVerificationState{VerificationState::failed, ""}, missing)) == "none");
    CHECK(reason(copy_loss(std::nullopt, missing)) == "none");
    // The primary has a repository now, and a checksum of it: the copy here is missing.
    CHECK(reason(copy_loss(checksummed("ab"), missing)) == "missing_on_primary");
}

}  // TEST_SUITE
