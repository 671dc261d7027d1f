-- Where bounded passes over a whole table stopped, so that the next run goes on from there:
-- registry consistency walks the primary's records one batch of ids per run and type, as
-- GitLab's consistency worker does with its Redis cursor.

-- migrate:up
CREATE TABLE geo_ssf_cursors (
    name text PRIMARY KEY,  -- e.g. registry_consistency:cool_widget
    position bigint NOT NULL,  -- the last id of the batch done last
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- migrate:down
DROP TABLE geo_ssf_cursors;
