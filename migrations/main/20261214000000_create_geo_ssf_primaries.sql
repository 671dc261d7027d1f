-- Which site is the primary since a promotion: one row per site that `geo-ssf promote` made the
-- primary of this database, the newest generation the current one. Replicated with the rest of
-- the main database to every standby, so that every site reads the same answer: an old primary
-- whose database names another site refuses to act as one. No row: the configs decide.

-- migrate:up
CREATE TABLE geo_ssf_primaries (
    generation integer PRIMARY KEY CHECK (generation > 0),  -- 1 for the first promotion, then one more per promotion
    site_name text NOT NULL,          -- the promoted site's site.name
    system_identifier text NOT NULL,  -- pg_control_system() of the database it became the primary on
    timeline integer NOT NULL,        -- that database's timeline then
    last_event_id bigint,             -- the newest event of the earlier primaries kept here
    promoted_from text,               -- the site that was the primary before, when a row named it
    became_primary_at timestamptz NOT NULL DEFAULT now()
);

-- migrate:down
DROP TABLE geo_ssf_primaries;
