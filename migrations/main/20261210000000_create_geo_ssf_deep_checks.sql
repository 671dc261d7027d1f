-- Deep checks of each record's repository (on a primary) or copy (on a secondary): every object
-- read and its hash checked, everything the refs reach present (git fsck), on a schedule of
-- verification.deep_interval per record. One row per record, keyed by its type and id, as the
-- registry and states tables keep exactly the seed's schema. A row is made when the record is
-- verified (or its copy synced) and has none; the next verify run schedules its first check at a
-- random point within the first interval, so that the checks of a site spread evenly; then each
-- is due an interval after the last that passed.
-- The same migration for both databases: migrations/geo/ links to this file.

-- migrate:up
CREATE TABLE geo_ssf_deep_checks (
    replicable text NOT NULL,
    record_id bigint NOT NULL,
    deep_check_state smallint NOT NULL DEFAULT 0,  -- as verification_state: pending, started, succeeded, failed
    deep_check_started_at timestamptz,             -- the claim time of the run checking it
    deep_check_due_at timestamptz,                 -- when the next check is due; NULL: not scheduled yet
    deep_checked_at timestamptz,                   -- when the last check ended
    deep_check_seconds double precision,           -- how long it took
    deep_check_failure text,                       -- why the last check failed (255 characters at most)
    deep_check_retry_count integer NOT NULL DEFAULT 0,
    deep_check_retry_at timestamptz,
    deep_check_repairs integer NOT NULL DEFAULT 0,  -- secondary: fresh clones since the copy last passed
    PRIMARY KEY (replicable, record_id)
);
CREATE INDEX geo_ssf_deep_checks_due_index ON geo_ssf_deep_checks (replicable, deep_check_due_at)
    WHERE deep_check_state IN (0, 2);
CREATE INDEX geo_ssf_deep_checks_failed_index ON geo_ssf_deep_checks (replicable, deep_check_retry_at)
    WHERE deep_check_state = 3;
CREATE INDEX geo_ssf_deep_checks_started_index ON geo_ssf_deep_checks (replicable, deep_check_started_at)
    WHERE deep_check_state = 1;

-- migrate:down
DROP TABLE geo_ssf_deep_checks;
