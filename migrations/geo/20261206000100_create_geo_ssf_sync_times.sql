-- When each registry row began to wait for a sync, and when its last sync succeeded: what
-- `geo-ssf status` reports as the oldest pending change, and `list` and `show` as "last synced".
-- The registry's own last_synced_at is GitLab's: the time the last sync was claimed, whatever
-- became of it. Triggers on each registry table keep these rows in the same transaction as
-- every change of its sync state, so no statement of geo-ssf's has to remember them.

-- migrate:up
CREATE TABLE geo_ssf_sync_times (
    registry_table text NOT NULL,
    record_id bigint NOT NULL,
    pending_since timestamptz,  -- since when the row is pending or started; NULL when it is neither
    synced_at timestamptz,      -- when its last sync succeeded; NULL when none has since it was made
    PRIMARY KEY (registry_table, record_id)
);

-- status: the oldest pending change of each registry, without reading the others.
CREATE INDEX index_geo_ssf_sync_times_on_pending_since ON geo_ssf_sync_times USING btree (registry_table, pending_since)
    WHERE pending_since IS NOT NULL;

-- FOR EACH STATEMENT after INSERT (NEW TABLE AS new_rows), UPDATE (both), DELETE (OLD TABLE AS
-- old_rows) and TRUNCATE of a registry table; TG_ARGV[0] names its record id column. A row that
-- comes to pending or started (0, 1) from any other state, or is made so, waits from now; one
-- that leaves them stops waiting, and one that becomes synced (2) was synced now. Like
-- geo_ssf_tally(), it runs as its owner with every name qualified.
CREATE FUNCTION geo_ssf_sync_time() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    times text := format('%I.geo_ssf_sync_times', TG_TABLE_SCHEMA);
    record_id text := quote_ident(TG_ARGV[0]);
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        EXECUTE format('DELETE FROM %s WHERE registry_table = %L', times, TG_TABLE_NAME);
        RETURN NULL;
    END IF;
    IF TG_OP = 'DELETE' THEN
        EXECUTE format('DELETE FROM %s t USING old_rows o WHERE t.registry_table = %L AND t.record_id = o.%s',
                       times, TG_TABLE_NAME, record_id);
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        EXECUTE format('INSERT INTO %s AS t (registry_table, record_id, pending_since, synced_at) '
                       'SELECT %L, n.%s, CASE WHEN n.state IN (0, 1) THEN now() END, NULL FROM new_rows n '
                       'ON CONFLICT (registry_table, record_id) DO UPDATE '
                       'SET pending_since = excluded.pending_since, synced_at = NULL',
                       times, TG_TABLE_NAME, record_id);
        RETURN NULL;
    END IF;
    EXECUTE format('INSERT INTO %s AS t (registry_table, record_id, pending_since, synced_at) '
                   'SELECT %L, n.%s, CASE WHEN n.state IN (0, 1) THEN now() END, '
                   'CASE WHEN n.state = 2 THEN now() END '
                   'FROM new_rows n JOIN old_rows o ON o.id = n.id '
                   'WHERE (n.state IN (0, 1)) <> (o.state IN (0, 1)) OR (n.state = 2 AND o.state <> 2) '
                   'ON CONFLICT (registry_table, record_id) DO UPDATE '
                   'SET pending_since = excluded.pending_since, synced_at = coalesce(excluded.synced_at, t.synced_at)',
                   times, TG_TABLE_NAME, record_id);
    RETURN NULL;
END
$$;

REVOKE EXECUTE ON FUNCTION geo_ssf_sync_time() FROM PUBLIC;

-- The registries made before: their triggers, and their rows as well as they are known. A row
-- pending now waits since it was made if it never synced, else since now; a synced row was
-- synced when its last sync was claimed.
DO $$
DECLARE
    registry record;
BEGIN
    FOR registry IN
        SELECT c.relname AS name, n.nspname AS schema,
               encode(substring(t.tgargs FROM 1 FOR position('\000'::bytea IN t.tgargs) - 1), 'escape') AS record_id
        FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE t.tgname = 'geo_ssf_tally_insert' AND t.tgnargs = 2
    LOOP
        EXECUTE format('INSERT INTO geo_ssf_sync_times (registry_table, record_id, pending_since, synced_at) '
                       'SELECT %L, %I, CASE WHEN state IN (0, 1) THEN '
                       'CASE WHEN last_synced_at IS NULL THEN created_at ELSE now() END END, '
                       'CASE WHEN state = 2 THEN last_synced_at END FROM %I.%I ON CONFLICT DO NOTHING',
                       registry.name, registry.record_id, registry.schema, registry.name);
        EXECUTE format('CREATE TRIGGER geo_ssf_sync_time_insert AFTER INSERT ON %I.%I REFERENCING NEW TABLE AS new_rows '
                       'FOR EACH STATEMENT EXECUTE FUNCTION geo_ssf_sync_time(%L)',
                       registry.schema, registry.name, registry.record_id);
        EXECUTE format('CREATE TRIGGER geo_ssf_sync_time_update AFTER UPDATE ON %I.%I REFERENCING OLD TABLE AS old_rows '
                       'NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION geo_ssf_sync_time(%L)',
                       registry.schema, registry.name, registry.record_id);
        EXECUTE format('CREATE TRIGGER geo_ssf_sync_time_delete AFTER DELETE ON %I.%I REFERENCING OLD TABLE AS old_rows '
                       'FOR EACH STATEMENT EXECUTE FUNCTION geo_ssf_sync_time(%L)',
                       registry.schema, registry.name, registry.record_id);
        EXECUTE format('CREATE TRIGGER geo_ssf_sync_time_truncate AFTER TRUNCATE ON %I.%I '
                       'FOR EACH STATEMENT EXECUTE FUNCTION geo_ssf_sync_time(%L)',
                       registry.schema, registry.name, registry.record_id);
    END LOOP;
END
$$;

-- migrate:down
-- The registries' triggers go with the function.
DROP FUNCTION geo_ssf_sync_time() CASCADE;
DROP TABLE geo_ssf_sync_times;
