-- Where the copies of this secondary's records are, and the removals under way.
--
-- A path belongs to one record: sync reserves it before fetching into it, so that no record's
-- copy lies at, inside or around another's, whatever the templates render. A removal (a deleted
-- event, a record gone from the primary) is recorded here in the transaction that removes the
-- registry row, and done once that commits; a run killed in between leaves the row, and the
-- next run finishes the removal.

-- migrate:up
CREATE TABLE geo_ssf_copies (
    storage text NOT NULL DEFAULT 'default',
    path text COLLATE "C" NOT NULL,  -- relative to the storage's root; "C" orders a folder's paths together
    replicable text NOT NULL,
    record_id bigint NOT NULL,
    removal text CHECK (removal IN ('delete', 'quarantine')),  -- NULL: a live copy
    recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (storage, path)
);
CREATE INDEX geo_ssf_copies_record_index ON geo_ssf_copies (replicable, record_id);
CREATE INDEX geo_ssf_copies_removal_index ON geo_ssf_copies (storage, path) WHERE removal IS NOT NULL;

-- The records whose registry rows registry consistency removed, for its bound on removals over
-- a day (sync.max_removal_share, sync.max_removal_count).
CREATE TABLE geo_ssf_removals (
    replicable text NOT NULL,
    removed_at timestamptz NOT NULL DEFAULT now(),
    records integer NOT NULL
);
CREATE INDEX geo_ssf_removals_time_index ON geo_ssf_removals (replicable, removed_at);

-- migrate:down
DROP TABLE geo_ssf_removals;
DROP TABLE geo_ssf_copies;
