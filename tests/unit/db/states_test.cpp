#include "db/states.hpp"

#include <doctest/doctest.h>

using namespace geo_ssf;
using std::chrono::seconds;

TEST_SUITE("states") {

TEST_CASE("states::retry_delay follows GitLab's table") {
    auto low = [] { return 0; };
    auto high = [] { return 29; };
    struct Row {
        int n;
        long long min_1h, max_1h, min_4h, max_4h;
    };
    // reference/ssf-behaviour.md §3.1; its 4346 for n = 8 is a slip: 8^4 + 15 + 29 * 9 = 4372.
    const Row rows[] = {
        {1, 16, 74, 16, 74},           {2, 31, 118, 31, 118},         {3, 96, 212, 96, 212},
        {4, 271, 416, 271, 416},       {5, 640, 814, 640, 814},       {6, 1311, 1514, 1311, 1514},
        {7, 2416, 2648, 2416, 2648},   {8, 3616, 3674, 4111, 4372},   {9, 3616, 3674, 6576, 6866},
        {10, 3616, 3674, 10015, 10334}, {11, 3616, 3674, 14416, 14474}, {200, 3616, 3674, 14416, 14474},
    };
    for (const auto& row : rows) {
        CAPTURE(row.n);
        CHECK(retry_delay(row.n, k_retry_cap, low) == seconds(row.min_1h));
        CHECK(retry_delay(row.n, k_retry_cap, high) == seconds(row.max_1h));
        CHECK(retry_delay(row.n, k_missing_on_primary_retry_cap, low) == seconds(row.min_4h));
        CHECK(retry_delay(row.n, k_missing_on_primary_retry_cap, high) == seconds(row.max_4h));
    }
    CHECK(retry_delay(k_retry_count_max, k_retry_cap, high) == seconds(3674));
    for (int i = 0; i < 200; ++i) {
        auto d = retry_delay(3).count();
        CHECK(d >= 96);
        CHECK(d <= 212);
    }
}

TEST_CASE("states::verification_succeeded clears the failure fields") {
    VerificationOutcome o = verification_succeeded("abc123");
    CHECK(o.state == VerificationState::succeeded);
    CHECK(o.checksum == "abc123");
    CHECK_FALSE(o.failure.has_value());
    CHECK(o.retry_count == 0);
    CHECK_FALSE(o.retry_in.has_value());
}

TEST_CASE("states::verification_failed counts, backs off and keeps the message in 255 characters") {
    auto low = [] { return 0; };
    VerificationOutcome first = verification_failed(0, "repository does not exist", low);
    CHECK(first.state == VerificationState::failed);
    CHECK(first.failure == "Error during verification: repository does not exist");
    CHECK_FALSE(first.checksum.has_value());
    CHECK(first.retry_count == 1);
    CHECK(first.retry_in == seconds(16));

    VerificationOutcome third = verification_failed(2, "x", low);
    CHECK(third.retry_count == 3);
    CHECK(third.retry_in == seconds(96));

    CHECK(verification_failed(k_retry_count_max, "x", low).retry_count == k_retry_count_max);
    CHECK(verification_failed(-4, "x", low).retry_count == 1);

    std::string long_reason(300, 'e');
    std::string cut = *verification_failed(0, long_reason, low).failure;
    CHECK(cut.size() == 255);
    CHECK(cut.ends_with("eee..."));  // GitLab's truncate: 252 characters, then "..."
}

TEST_CASE("states::truncate_failure ends a cut text in ... on a character boundary") {
    CHECK(truncate_failure("short") == "short");
    std::string exact(255, 'x');
    CHECK(truncate_failure(exact) == exact);  // not cut, so no "..."
    std::string over(256, 'x');
    CHECK(truncate_failure(over) == std::string(252, 'x') + "...");
    std::string snowmen;
    for (int i = 0; i < 300; ++i)
        snowmen += "\xe2\x98\x83";
    std::string cut = truncate_failure(snowmen);
    CHECK(cut.size() == 252 * 3 + 3);
    CHECK(cut.ends_with("\xe2\x98\x83..."));
}

TEST_CASE("states::timed_out_failure writes the timeout in whole seconds, as GitLab") {
    CHECK(timed_out_failure("Sync", std::chrono::hours(3)) == "Sync timed out after 10800");
    CHECK(timed_out_failure("Verification", std::chrono::hours(8)) == "Verification timed out after 28800");
}

TEST_CASE("states::truncate_utf8 counts characters and never splits one") {
    CHECK(truncate_utf8("hello", 3) == "hel");
    CHECK(truncate_utf8("hello", 10) == "hello");
    CHECK(truncate_utf8("", 3).empty());
    std::string snowmen;
    for (int i = 0; i < 300; ++i)
        snowmen += "\xe2\x98\x83";  // U+2603, three bytes
    std::string cut = truncate_utf8(snowmen);
    CHECK(cut.size() == 255 * 3);
    CHECK(truncate_utf8("ab\xe2\x98", 5) == "ab");  // a sequence cut short at the end goes
    CHECK(truncate_utf8("\xc3\xa9t\xc3\xa9", 2) == "\xc3\xa9t");
    CHECK(truncate_utf8("\xf0\x9f\x98\x80x", 1) == "\xf0\x9f\x98\x80");
}

TEST_CASE("states::names parse both ways") {
    CHECK(parse_sync_state("failed") == SyncState::failed);
    CHECK(parse_sync_state("sync_failed") == SyncState::failed);
    CHECK(parse_sync_state("2") == SyncState::synced);
    CHECK_FALSE(parse_sync_state("verification_failed").has_value());
    CHECK_FALSE(parse_sync_state("7").has_value());
    CHECK(parse_verification_state("verification_failed") == VerificationState::failed);
    CHECK(parse_verification_state("failed") == VerificationState::failed);
    CHECK(parse_verification_state("disabled") == VerificationState::disabled);
    CHECK(parse_verification_state("4") == VerificationState::disabled);
    CHECK_FALSE(parse_verification_state("synced").has_value());
    for (int i = 0; i <= 3; ++i)
        CHECK(parse_sync_state(sync_state_name(static_cast<SyncState>(i))) == static_cast<SyncState>(i));
    for (int i = 0; i <= 4; ++i)
        CHECK(parse_verification_state(verification_state_name(static_cast<VerificationState>(i))) ==
              static_cast<VerificationState>(i));
}

}
