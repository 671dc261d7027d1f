-- Housekeeping of a secondary's copies: after each sync a copy is looked at and the cheapest
-- sufficient task is run (refs packed, loose objects repacked, a full repack with a
-- commit-graph, old unreachable objects pruned; geo-ssf-sync(1), HOUSEKEEPING). One row per copy,
-- keyed by its type and record id, as the registry tables keep exactly the seed's schema.

-- migrate:up
CREATE TABLE geo_ssf_housekeeping (
    replicable text NOT NULL,
    record_id bigint NOT NULL,
    housekeeping_state smallint NOT NULL DEFAULT 0,  -- as verification_state: pending, started, succeeded, failed
    housekeeping_started_at timestamptz,             -- the claim time of the run housekeeping it
    housekeeping_fresh_copy boolean NOT NULL DEFAULT false,  -- cloned since its last housekeeping: packed whole
    housekept_at timestamptz,                        -- when the last housekeeping ended
    housekeeping_tasks text,                         -- what it did: "full repack, commit-graph", "nothing"
    housekeeping_seconds double precision,           -- how long it took
    housekeeping_failure text,                       -- why the last one failed (255 characters at most)
    housekeeping_retry_count integer NOT NULL DEFAULT 0,
    housekeeping_retry_at timestamptz,
    full_repacked_at timestamptz,                    -- when the copy was last packed whole
    PRIMARY KEY (replicable, record_id)
);
CREATE INDEX geo_ssf_housekeeping_pending_index ON geo_ssf_housekeeping (replicable, record_id)
    WHERE housekeeping_state = 0;
CREATE INDEX geo_ssf_housekeeping_failed_index ON geo_ssf_housekeeping (replicable, housekeeping_retry_at)
    WHERE housekeeping_state = 3;
CREATE INDEX geo_ssf_housekeeping_started_index ON geo_ssf_housekeeping (replicable, housekeeping_started_at)
    WHERE housekeeping_state = 1;

-- migrate:down
DROP TABLE geo_ssf_housekeeping;
