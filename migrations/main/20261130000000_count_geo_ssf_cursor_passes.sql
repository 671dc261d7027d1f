-- When each bounded walk last went through the whole model table: status counts what the walk
-- has not reached yet exactly and trusts what it has checked (geo-ssf-status(1)). A walk that
-- reaches the end keeps its row, without a position, so that the next run starts over.
-- The same migration for both databases: migrations/geo/ links to this file.

-- migrate:up
ALTER TABLE geo_ssf_cursors
    ALTER COLUMN position DROP NOT NULL,  -- NULL: the last pass ended; the next one starts over
    ADD COLUMN passes bigint NOT NULL DEFAULT 0,  -- how many passes went through to the end
    ADD COLUMN passed_at timestamptz;  -- when the last of them ended

-- migrate:down
DELETE FROM geo_ssf_cursors WHERE position IS NULL;
ALTER TABLE geo_ssf_cursors
    DROP COLUMN passed_at,
    DROP COLUMN passes,
    ALTER COLUMN position SET NOT NULL;
