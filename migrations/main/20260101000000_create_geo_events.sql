-- The primary's event log: what changed, for secondaries to replay in id order.

-- migrate:up
CREATE TABLE geo_events (
    id bigserial PRIMARY KEY,
    replicable_name character varying(255) NOT NULL,
    event_name character varying(255) NOT NULL,
    payload jsonb DEFAULT '{}'::jsonb NOT NULL,
    created_at timestamp with time zone NOT NULL
);

-- migrate:down
DROP TABLE geo_events;
