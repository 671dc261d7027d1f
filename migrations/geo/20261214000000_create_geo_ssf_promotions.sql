-- `geo-ssf promote`'s own records on the secondary it promotes: the promotion under way or done,
-- the step it has reached (a rerun after a crash goes on from there), and the records whose
-- copies were not verified equal to the old primary's, the data-loss report. The tracking
-- database is kept aside after a promotion, these tables with it.

-- migrate:up
CREATE TABLE geo_ssf_promotions (
    generation integer PRIMARY KEY,   -- the generation this site becomes the primary as
    from_site text,                   -- the primary before it, when the main database named one
    accepted_data_loss boolean NOT NULL,
    step text NOT NULL,               -- the last step done
    last_event_id bigint,             -- the newest event kept, once the event log is set
    report_file text,
    started_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz
);

CREATE TABLE geo_ssf_promotion_records (
    generation integer NOT NULL,      -- the promotion's (geo_ssf_promotions)
    replicable text NOT NULL,
    record_id bigint NOT NULL,
    reason text NOT NULL,             -- not_registered, not_synced, not_verified, checksum_differs, ...
    detail text NOT NULL,
    PRIMARY KEY (generation, replicable, record_id)
);

-- migrate:down
DROP TABLE geo_ssf_promotion_records;
DROP TABLE geo_ssf_promotions;
