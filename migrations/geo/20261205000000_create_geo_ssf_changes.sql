-- Replication lag, change by change: for each record, when the changes a secondary replayed
-- from the primary's event log were published (on the primary's clock), and when a copy
-- holding them was synced and verified (on the tracking database's); and the site's
-- histograms of those lags (geo-ssf-follow(1), REPLICATION LAG). The event replay writes a
-- record's row in the transaction that replays its created or updated events, sync and verify
-- in the transaction that records the outcome, so that a killed run counts nothing twice.

-- migrate:up
CREATE TABLE geo_ssf_changes (
    registry_table text NOT NULL,
    record_id bigint NOT NULL,
    event_id bigint NOT NULL,                   -- the newest created or updated event replayed
    changed_at timestamptz NOT NULL,            -- when that event was published
    unsynced_since timestamptz,                 -- the oldest change no synced copy holds yet
    unverified_since timestamptz,               -- the oldest change no verified copy holds yet
    synced_at timestamptz,                      -- when a copy was last synced with every change
    sync_lag_seconds double precision,          -- then, since the oldest change it brought
    verified_at timestamptz,                    -- when such a copy was last verified
    verification_lag_seconds double precision,  -- then, since the oldest change it proved
    PRIMARY KEY (registry_table, record_id)
);

CREATE INDEX index_geo_ssf_changes_on_synced_at ON geo_ssf_changes USING btree (registry_table, synced_at);
CREATE INDEX index_geo_ssf_changes_on_unsynced_since ON geo_ssf_changes USING btree (registry_table, unsynced_since)
    WHERE unsynced_since IS NOT NULL;
CREATE INDEX index_geo_ssf_changes_on_unverified_since ON geo_ssf_changes USING btree (registry_table, unverified_since)
    WHERE unverified_since IS NOT NULL;

CREATE TABLE geo_ssf_lag_histogram (
    registry_table text NOT NULL,
    stage text NOT NULL,                -- synced, verified
    le double precision NOT NULL,       -- the bucket's upper bound in seconds; 'Infinity' for the last
    samples bigint NOT NULL,            -- changes whose lag is in this bucket and in no lower one
    seconds double precision NOT NULL,  -- the sum of their lags
    PRIMARY KEY (registry_table, stage, le)
);

-- migrate:down
DROP TABLE geo_ssf_lag_histogram;
DROP TABLE geo_ssf_changes;
