-- Where bounded passes over a whole table stopped, so that the next run goes on from there: a
-- secondary's registry consistency and a primary's state-row backfill walk the model table one
-- batch of ids per run and type, as GitLab's consistency worker does with its Redis cursor.
-- The same migration for both databases: migrations/geo/ links to this file.

-- migrate:up
CREATE TABLE geo_ssf_cursors (
    name text PRIMARY KEY,  -- e.g. registry_consistency:cool_widget, state_backfill:cool_widget
    position bigint NOT NULL,  -- the last id of the batch done last
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- migrate:down
DROP TABLE geo_ssf_cursors;
