-- Listeners of the event log (geo-ssf follow on a primary, and on a secondary that reads the
-- primary's own database) learn of new events when they commit instead of asking for them: one
-- notification per statement that inserts events, on the channel geo_ssf_events, sent at
-- commit. A standby sends none: its readers ask (follow.poll_interval).

-- migrate:up
CREATE FUNCTION geo_ssf_notify_events() RETURNS trigger LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM pg_notify('geo_ssf_events', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER geo_ssf_notify_events AFTER INSERT ON geo_events
    FOR EACH STATEMENT EXECUTE FUNCTION geo_ssf_notify_events();

-- migrate:down
DROP TRIGGER geo_ssf_notify_events ON geo_events;
DROP FUNCTION geo_ssf_notify_events();
