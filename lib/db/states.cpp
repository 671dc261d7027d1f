#include "db/states.hpp"

#include <array>
#include <random>

namespace geo_ssf {

namespace {

constexpr std::array<const char*, 4> k_sync_names = {"pending", "started", "synced", "failed"};
constexpr std::array<const char*, 5> k_verification_names = {
    "verification_pending", "verification_started", "verification_succeeded", "verification_failed",
    "verification_disabled"};

std::optional<int> parse_number(std::string_view text, int max) {
    if (text.size() != 1 || text[0] < '0' || text[0] > '0' + max)
        return std::nullopt;
    return text[0] - '0';
}

int thread_random_30() {
    thread_local std::mt19937 generator{std::random_device{}()};
    return std::uniform_int_distribution<int>(0, 29)(generator);
}

}  // namespace

const char* sync_state_name(SyncState state) { return k_sync_names.at(static_cast<size_t>(state)); }

const char* verification_state_name(VerificationState state) {
    return k_verification_names.at(static_cast<size_t>(state));
}

std::optional<SyncState> parse_sync_state(std::string_view text) {
    if (auto n = parse_number(text, 3))
        return static_cast<SyncState>(*n);
    if (text.rfind("sync_", 0) == 0)
        text.remove_prefix(5);
    for (size_t i = 0; i < k_sync_names.size(); ++i)
        if (text == k_sync_names[i])
            return static_cast<SyncState>(i);
    return std::nullopt;
}

std::optional<VerificationState> parse_verification_state(std::string_view text) {
    if (auto n = parse_number(text, 4))
        return static_cast<VerificationState>(*n);
    for (size_t i = 0; i < k_verification_names.size(); ++i)
        if (text == k_verification_names[i] || text == std::string_view(k_verification_names[i]).substr(13))
            return static_cast<VerificationState>(i);
    return std::nullopt;
}

std::string truncate_utf8(std::string_view text, size_t max_chars) {
    size_t chars = 0;
    size_t i = 0;
    while (i < text.size()) {
        unsigned char lead = static_cast<unsigned char>(text[i]);
        size_t length = lead < 0x80 ? 1 : (lead >> 5) == 0x6 ? 2 : (lead >> 4) == 0xe ? 3 : (lead >> 3) == 0x1e ? 4 : 1;
        if (i + length > text.size())
            break;  // a truncated sequence at the very end: drop it
        if (chars == max_chars)
            break;
        i += length;
        ++chars;
    }
    return std::string(text.substr(0, i));
}

std::string truncate_failure(std::string_view text) {
    std::string cut = truncate_utf8(text, k_failure_max_chars);
    if (cut.size() == text.size())
        return cut;
    return truncate_utf8(text, k_failure_max_chars - 3) + "...";
}

std::chrono::seconds retry_delay(int retry_count, std::chrono::seconds cap, const std::function<int()>& random_30) {
    auto delay = [&](long long n) { return n * n * n * n + 15 + random_30() * (n + 1); };
    long long n = std::max(retry_count, 1);
    long long first = delay(n);
    long long capped = cap.count() + delay(1);
    return std::chrono::seconds(std::min(first, capped));
}

std::chrono::seconds retry_delay(int retry_count, std::chrono::seconds cap) {
    return retry_delay(retry_count, cap, thread_random_30);
}

VerificationOutcome verification_succeeded(std::string checksum) {
    VerificationOutcome o;
    o.state = VerificationState::succeeded;
    o.checksum = std::move(checksum);
    return o;
}

namespace {

// A failed attempt's retry count: one more than before, within the smallint column.
int next_retry_count(int previous_retry_count) {
    return std::min(std::max(previous_retry_count, 0) + 1, k_retry_count_max);
}

// A failed attempt of either machine: GitLab's failure text (PREFIX and the reason, cut to
// the column), one more retry, and the backoff before the next.
template <typename Outcome, typename State>
Outcome failed_outcome(State state, std::string_view prefix, std::string_view reason, int previous_retry_count,
                       const std::function<int()>& random_30) {
    Outcome o;
    o.state = state;
    o.failure = truncate_failure(std::string(prefix) + std::string(reason));
    o.retry_count = next_retry_count(previous_retry_count);
    o.retry_in = retry_delay(o.retry_count, k_retry_cap, random_30);
    return o;
}

}  // namespace

VerificationOutcome verification_failed(int previous_retry_count, std::string_view reason,
                                        const std::function<int()>& random_30) {
    return failed_outcome<VerificationOutcome>(VerificationState::failed, "Error during verification: ", reason,
                                               previous_retry_count, random_30);
}

VerificationOutcome verification_failed(int previous_retry_count, std::string_view reason) {
    return verification_failed(previous_retry_count, reason, thread_random_30);
}

SyncOutcome sync_succeeded(bool missing_on_primary) {
    SyncOutcome o;
    o.state = SyncState::synced;
    o.missing_on_primary = missing_on_primary;
    return o;
}

SyncOutcome sync_failed(int previous_retry_count, std::string_view reason, const std::function<int()>& random_30) {
    return failed_outcome<SyncOutcome>(SyncState::failed, "Error syncing repository: ", reason, previous_retry_count,
                                       random_30);
}

SyncOutcome sync_failed(int previous_retry_count, std::string_view reason) {
    return sync_failed(previous_retry_count, reason, thread_random_30);
}

namespace {

// A failed verification on a registry: counts and backs off, and fails the sync too, with the
// same retry count, so that the next sync fetches the repository again.
RegistryVerificationOutcome registry_failure(int previous_retry_count, std::string failure,
                                             const std::function<int()>& random_30) {
    RegistryVerificationOutcome o;
    o.state = VerificationState::failed;
    o.failure = truncate_failure(failure);
    o.retry_count = next_retry_count(previous_retry_count);
    o.retry_in = retry_delay(o.retry_count, k_retry_cap, random_30);
    o.resync = true;
    o.sync_retry_count = o.retry_count;
    o.sync_retry_in = retry_delay(o.sync_retry_count, k_retry_cap, random_30);
    o.sync_failure = truncate_failure("Verification failed with: " + *o.failure);
    return o;
}

}  // namespace

RegistryVerificationOutcome registry_verification_succeeded(std::string checksum) {
    RegistryVerificationOutcome o;
    o.state = VerificationState::succeeded;
    o.checksum = std::move(checksum);
    return o;
}

RegistryVerificationOutcome registry_verification_mismatched(int previous_retry_count, const std::string& checksum,
                                                             const std::string& primary_checksum, long long registry_id,
                                                             const std::function<int()>& random_30) {
    // GitLab's text, with Ruby 3.4's Hash#inspect.
    RegistryVerificationOutcome o = registry_failure(
        previous_retry_count,
        "Checksum does not match the primary checksum {checksum: \"" + checksum + "\", primary_checksum: \"" +
            primary_checksum + "\", registry_id: " + std::to_string(registry_id) + "}",
        random_30);
    o.checksum = checksum;
    o.checksum_mismatch = true;
    o.checksum_mismatched = checksum;
    return o;
}

RegistryVerificationOutcome registry_verification_mismatched(int previous_retry_count, const std::string& checksum,
                                                             const std::string& primary_checksum, long long registry_id) {
    return registry_verification_mismatched(previous_retry_count, checksum, primary_checksum, registry_id,
                                            thread_random_30);
}

RegistryVerificationOutcome registry_verification_mismatched_without_resync(int previous_retry_count,
                                                                            const std::string& checksum,
                                                                            std::string_view reason,
                                                                            const std::function<int()>& random_30) {
    RegistryVerificationOutcome o;
    o.state = VerificationState::failed;
    o.failure = truncate_failure(std::string(reason));
    o.retry_count = next_retry_count(previous_retry_count);
    o.retry_in = retry_delay(o.retry_count, k_retry_cap, random_30);
    o.checksum = checksum;
    o.checksum_mismatch = true;
    o.checksum_mismatched = checksum;
    return o;
}

RegistryVerificationOutcome registry_verification_mismatched_without_resync(int previous_retry_count,
                                                                            const std::string& checksum,
                                                                            std::string_view reason) {
    return registry_verification_mismatched_without_resync(previous_retry_count, checksum, reason, thread_random_30);
}

RegistryVerificationOutcome registry_verification_failed(int previous_retry_count, std::string_view reason,
                                                         const std::function<int()>& random_30) {
    return registry_failure(previous_retry_count, "Error during verification: " + std::string(reason), random_30);
}

RegistryVerificationOutcome registry_verification_failed(int previous_retry_count, std::string_view reason) {
    return registry_verification_failed(previous_retry_count, reason, thread_random_30);
}

RegistryVerificationOutcome registry_verification_disabled() {
    RegistryVerificationOutcome o;
    o.state = VerificationState::disabled;
    return o;
}

std::string timed_out_failure(std::string_view what, std::chrono::seconds timeout) {
    return truncate_failure(std::string(what) + " timed out after " + std::to_string(timeout.count()));
}

}  // namespace geo_ssf
