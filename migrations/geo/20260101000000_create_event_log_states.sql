-- A secondary's cursor into the primary's geo_events: the last event it has processed.

-- migrate:up
CREATE TABLE event_log_states (
    event_id bigint PRIMARY KEY,
    created_at timestamp without time zone NOT NULL
);

-- migrate:down
DROP TABLE event_log_states;
