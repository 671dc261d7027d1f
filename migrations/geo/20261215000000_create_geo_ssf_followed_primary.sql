-- The primary a secondary follows, as its database names itself: the system identifier (the same
-- on a cluster and every standby made from it) and the promotion that made it the primary
-- (geo_ssf_primaries' generation, 0 before any). A sync that finds another primary than the one
-- recorded here has been repointed: every copy is verified again against the new primary's
-- checksums rather than cloned again. One row.

-- migrate:up
CREATE TABLE geo_ssf_followed_primary (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    system_identifier text NOT NULL,
    generation integer NOT NULL,      -- 0: no promotion recorded
    site_name text,                   -- the promoted site, when a promotion is recorded
    timeline integer NOT NULL,        -- the database's timeline when it was recorded
    storage_root_adopted boolean NOT NULL DEFAULT false,  -- the repositories found there sorted out
    noticed_at timestamptz NOT NULL DEFAULT now()
);

-- migrate:down
DROP TABLE geo_ssf_followed_primary;
