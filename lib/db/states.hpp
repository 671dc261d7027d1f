// The state machines of GitLab Geo's self-service framework, written once.
//
// Sync (registry `state`): pending 0, started 1, synced 2, failed 3.
// Verification (`verification_state`, on a primary's states row and a secondary's registry row):
// pending 0, started 1, succeeded 2, failed 3, disabled 4.
//
// What one row's outcome (a checksum, a sync error) gives is computed here, as pure C++: the
// failure text, the retry count and the backoff. What each transition writes to a row's columns
// is in transitions.hpp, which records these outcomes.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace geo_ssf {

enum class SyncState : int16_t { pending = 0, started = 1, synced = 2, failed = 3 };
enum class VerificationState : int16_t { pending = 0, started = 1, succeeded = 2, failed = 3, disabled = 4 };
// What resync and reverify --all and --failed act on.
enum class BulkSelection { all, failed };

inline constexpr SyncState k_sync_states[] = {SyncState::pending, SyncState::started, SyncState::synced,
                                              SyncState::failed};
inline constexpr VerificationState k_verification_states[] = {
    VerificationState::pending, VerificationState::started, VerificationState::succeeded, VerificationState::failed,
    VerificationState::disabled};

const char* sync_state_name(SyncState state);                  // "pending", "started", ...
const char* verification_state_name(VerificationState state);  // "verification_pending", ...
// Accepts "failed" or "sync_failed" / "verification_failed" or "failed", and the numbers.
std::optional<SyncState> parse_sync_state(std::string_view text);
std::optional<VerificationState> parse_verification_state(std::string_view text);

// Failure messages and retry counts have the limits of their columns.
inline constexpr size_t k_failure_max_chars = 255;
inline constexpr int k_retry_count_max = 32767;  // smallint

// TEXT cut to at most MAX_CHARS characters (code points), never inside a UTF-8 sequence.
std::string truncate_utf8(std::string_view text, size_t max_chars = k_failure_max_chars);

// A failure text as GitLab stores it: within k_failure_max_chars characters, and when cut, the
// first 252 characters followed by "..." (Rails' truncate), so a reader sees it was cut.
std::string truncate_failure(std::string_view text);

// Backoff, as GitLab's Delay: delay(n) = n^4 + 15 + rand(30) * (n + 1) seconds, and the next
// retry after min(delay(n), cap + delay(1)). RANDOM_30 returns a number in [0, 30).
inline constexpr std::chrono::seconds k_retry_cap{3600};
inline constexpr std::chrono::seconds k_missing_on_primary_retry_cap{4 * 3600};
std::chrono::seconds retry_delay(int retry_count, std::chrono::seconds cap, const std::function<int()>& random_30);
// The same with a thread-local random generator.
std::chrono::seconds retry_delay(int retry_count, std::chrono::seconds cap = k_retry_cap);

// The failure a timeout sweep records, with the timeout in whole seconds as GitLab writes it:
// "Verification timed out after 28800" (WHAT: "Verification", "Sync").
std::string timed_out_failure(std::string_view what, std::chrono::seconds timeout);

// What a verification outcome writes on the primary's states row.
struct VerificationOutcome {
    VerificationState state = VerificationState::pending;
    std::optional<std::string> checksum;  // hex; stored as bytea
    std::optional<std::string> failure;
    int retry_count = 0;
    std::optional<std::chrono::seconds> retry_in;  // verification_retry_at = now() + retry_in
};

// started → succeeded: the checksum, verified_at = now(), failure fields cleared.
VerificationOutcome verification_succeeded(std::string checksum);
// any → failed: "Error during verification: <reason>" (255 characters at most), checksum
// cleared, retry count + 1 (saturating), next retry with backoff, verified_at = now().
VerificationOutcome verification_failed(int previous_retry_count, std::string_view reason,
                                        const std::function<int()>& random_30);
VerificationOutcome verification_failed(int previous_retry_count, std::string_view reason);

// What a sync outcome writes on a registry row.
struct SyncOutcome {
    SyncState state = SyncState::synced;
    std::optional<std::string> failure;  // last_sync_failure
    int retry_count = 0;
    std::optional<std::chrono::seconds> retry_in;  // retry_at = now() + retry_in
    bool missing_on_primary = false;
    bool cloned = false;  // the copy was made afresh (housekeeping packs it whole)
};

// started → synced: retry fields and failure cleared. Verification then becomes pending if the
// primary's verification succeeded, else disabled (the recording SQL applies that part).
SyncOutcome sync_succeeded(bool missing_on_primary);
// any → failed: "Error syncing repository: <reason>" (255 characters at most), retry count + 1,
// next retry with backoff (1 hour cap).
SyncOutcome sync_failed(int previous_retry_count, std::string_view reason, const std::function<int()>& random_30);
SyncOutcome sync_failed(int previous_retry_count, std::string_view reason);

// What a secondary's verification writes on its registry row. A failure also fails the sync,
// so the next sync fetches the repository again (GitLab's VerifiableRegistry).
struct RegistryVerificationOutcome {
    VerificationState state = VerificationState::succeeded;
    std::optional<std::string> checksum;             // verification_checksum
    std::optional<std::string> failure;              // verification_failure
    int retry_count = 0;                             // verification_retry_count
    std::optional<std::chrono::seconds> retry_in;    // verification_retry_at
    bool checksum_mismatch = false;
    std::optional<std::string> checksum_mismatched;  // verification_checksum_mismatched
    // After a mismatch, the refs that differ from the primary's (geo_ssf_ref_differences).
    std::optional<std::string> ref_differences;
    // The resync that a failure forces: state failed, retry_count, retry_at, last_sync_failure.
    bool resync = false;
    int sync_retry_count = 0;
    std::optional<std::chrono::seconds> sync_retry_in;
    std::optional<std::string> sync_failure;
};

RegistryVerificationOutcome registry_verification_succeeded(std::string checksum);
// The local checksum differs from the primary's.
RegistryVerificationOutcome registry_verification_mismatched(int previous_retry_count, const std::string& checksum,
                                                             const std::string& primary_checksum, long long registry_id,
                                                             const std::function<int()>& random_30);
RegistryVerificationOutcome registry_verification_mismatched(int previous_retry_count, const std::string& checksum,
                                                             const std::string& primary_checksum, long long registry_id);
// The local checksum differs from the primary's, though the copy has every ref the primary
// advertises as it advertises them: the primary's checksum counts refs it does not advertise, or
// is older than its refs. Fetching again cannot mend that, so only the verification fails, with
// REASON and its backoff, and the sync stays as it is.
RegistryVerificationOutcome registry_verification_mismatched_without_resync(int previous_retry_count,
                                                                            const std::string& checksum,
                                                                            std::string_view reason,
                                                                            const std::function<int()>& random_30);
RegistryVerificationOutcome registry_verification_mismatched_without_resync(int previous_retry_count,
                                                                            const std::string& checksum,
                                                                            std::string_view reason);
// The local copy could not be checksummed.
RegistryVerificationOutcome registry_verification_failed(int previous_retry_count, std::string_view reason,
                                                         const std::function<int()>& random_30);
RegistryVerificationOutcome registry_verification_failed(int previous_retry_count, std::string_view reason);
// The primary has not verified the record yet: nothing to compare with.
RegistryVerificationOutcome registry_verification_disabled();

}  // namespace geo_ssf
