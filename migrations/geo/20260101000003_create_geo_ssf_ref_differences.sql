-- The refs that differ from the primary's, found when a verification's checksum did not match,
-- so that `geo-ssf show` can print them: GitLab's verification_failure column keeps its own
-- text, within its 255 characters. A row lives while its record's last verification was a
-- mismatch; verify replaces or deletes it with every outcome, sync's removals with the registry row.

-- migrate:up
CREATE TABLE geo_ssf_ref_differences (
    registry_table text NOT NULL,
    record_id bigint NOT NULL,
    differences text NOT NULL,  -- "refs differ: refs/heads/main here 1a2b… primary 5d6e…; …"
    found_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (registry_table, record_id)
);

-- migrate:down
DROP TABLE geo_ssf_ref_differences;
