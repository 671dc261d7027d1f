// The records of one type in a given state (`geo-ssf list`), GitLab's registry listing: on a
// primary its state rows, on a secondary its registry rows, in pages ordered by record id.
#pragma once

#include "site/site.hpp"
#include "db/states.hpp"
#include "repo/quarantine.hpp"

#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace geo_ssf {

// State words as users type them; anything else is a UsageError listing the accepted words.
// Sync: pending, started, synced, failed (also sync_failed, ...). Verification: pending,
// started, succeeded, failed, disabled, also with the verification_ prefix.
SyncState sync_state_option(const std::string& text);
VerificationState verification_state_option(const std::string& text);

struct ListQuery {
    std::optional<SyncState> sync_state;  // secondary only
    std::optional<VerificationState> verification_state;
    bool missing_on_primary = false;  // secondary only: records synced while the primary had no repository
    int limit = 100;
    long long after = std::numeric_limits<long long>::min();  // only records with a greater id
};

struct ListedRecord {
    long long id = 0;
    std::optional<SyncState> sync_state;  // secondary
    VerificationState verification_state = VerificationState::pending;
    std::optional<std::string> synced_at;        // secondary: when its last sync succeeded, ISO 8601
    std::optional<double> synced_seconds;        // from now, negative in the past
    std::optional<std::string> sync_claimed_at;  // secondary: when a sync last began (GitLab's last_synced_at)
    std::optional<std::string> verified_at;
    std::optional<double> verified_seconds;
    std::optional<std::string> next_sync_retry;          // "in 3 minutes", "due now"; when sync failed
    std::optional<std::string> sync_retry_at;            // the same as a time, ISO 8601
    std::optional<std::string> next_verification_retry;  // when verification failed
    std::optional<std::string> verification_retry_at;
    int retry_count = 0;
    int verification_retry_count = 0;
    std::optional<std::string> last_sync_failure;
    std::optional<std::string> verification_failure;
    bool missing_on_primary = false;  // secondary: the primary had no repository at the last sync
};

struct RecordPage {
    std::vector<ListedRecord> records;
    std::optional<long long> next_after;  // pass as after for the next page; nullopt on the last
};

// One page of REPLICABLE's records on SITE. A sync state on a primary is a UsageError.
RecordPage list_records(Site& site, const std::string& replicable, const ListQuery& query);

// The table cuts failure texts to a column's width unless WIDE; the JSON has them whole.
std::string format_record_page_table(const RecordPage& page, bool secondary, bool wide);
std::string format_record_page_json(const RecordPage& page, bool secondary);

// The copies of REPLICABLE's records in a secondary's quarantine, a page of records at a time.
struct QuarantinePage {
    std::vector<QuarantinedCopy> copies;
    std::optional<long long> next_after;  // pass as after for the next page; nullopt on the last
    std::chrono::seconds retention{0};    // sync.removed_retention: when each copy is purged
    SystemTime now;
};

// On a primary, a UsageError: only a secondary has a quarantine.
QuarantinePage list_quarantined(Site& site, const std::string& replicable, long long after, int limit);

std::string format_quarantine_page_table(const QuarantinePage& page);
std::string format_quarantine_page_json(const QuarantinePage& page);

}  // namespace geo_ssf
