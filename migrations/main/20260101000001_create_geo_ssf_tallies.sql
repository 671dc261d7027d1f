-- Running tallies of geo-ssf's registry and states tables: how many rows each table has in each
-- state, and a digest of their record ids. Triggers on those tables add a row of differences in
-- the same transaction as every change, so `geo-ssf status` sums a few rows instead of passing
-- over millions; sync and verify fold the rows of differences together after each run.
-- The same migration for both databases: migrations/geo/ links to this file.

-- migrate:up
CREATE TABLE geo_ssf_tallies (
    table_name text NOT NULL,
    state smallint,                  -- the sync state; NULL for a states table, which has none
    verification_state smallint NOT NULL,
    records bigint NOT NULL,
    id_hash_sum numeric NOT NULL     -- sum of hashint8extended(record id, 0): the ids' digest
);

CREATE INDEX index_geo_ssf_tallies_on_table_name ON geo_ssf_tallies USING btree (table_name);

-- FOR EACH STATEMENT after INSERT (REFERENCING NEW TABLE AS new_rows), UPDATE (both), DELETE
-- (OLD TABLE AS old_rows) and TRUNCATE. TG_ARGV[0] names the record id column, TG_ARGV[1] the
-- sync state column of a registry table (none for a states table). The tallies are the ones in
-- the tallied table's schema, where geo-ssf migrate creates both.
-- It runs as its owner, so that whoever changes the rows (the application deleting records,
-- whose states rows cascade) needs no right to the tallies; so every name in it is qualified,
-- and only its owner may attach it to a table.
CREATE FUNCTION geo_ssf_tally() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    tallies text := format('%I.geo_ssf_tallies', TG_TABLE_SCHEMA);
    state_column text := coalesce(quote_ident(TG_ARGV[1]), 'NULL::smallint');
    id_hash text := format('pg_catalog.hashint8extended(%I, 0::bigint)::numeric', TG_ARGV[0]);
    changes text;
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        -- A snapshot older than this statement would not see, and so keep, tallies committed
        -- since it was taken.
        IF current_setting('transaction_isolation') <> 'read committed' THEN
            RAISE EXCEPTION 'truncate % under READ COMMITTED: its tallies cannot be reset in an older snapshot',
                TG_TABLE_NAME;
        END IF;
        -- After any fold under way (lib/tallies.cpp), so that its new rows are deleted too.
        EXECUTE format('LOCK TABLE %s IN SHARE UPDATE EXCLUSIVE MODE', tallies);
        EXECUTE format('DELETE FROM %s WHERE table_name = %L', tallies, TG_TABLE_NAME);
        RETURN NULL;
    END IF;
    changes := concat_ws(' UNION ALL ',
        CASE WHEN TG_OP <> 'DELETE' THEN
            format('SELECT %s AS state, verification_state, 1 AS records, %s AS id_hash FROM new_rows',
                   state_column, id_hash) END,
        CASE WHEN TG_OP <> 'INSERT' THEN
            format('SELECT %s AS state, verification_state, -1 AS records, -%s AS id_hash FROM old_rows',
                   state_column, id_hash) END);
    -- An update that changes no state nets to nothing and adds no row.
    EXECUTE format('INSERT INTO %s (table_name, state, verification_state, records, id_hash_sum) '
                   'SELECT %L, state, verification_state, sum(records), sum(id_hash) FROM (%s) change '
                   'GROUP BY state, verification_state HAVING sum(records) <> 0 OR sum(id_hash) <> 0',
                   tallies, TG_TABLE_NAME, changes);
    RETURN NULL;
END
$$;

REVOKE EXECUTE ON FUNCTION geo_ssf_tally() FROM PUBLIC;

-- migrate:down
-- The types' tally triggers go with the function; their tables are then counted row by row.
DROP FUNCTION geo_ssf_tally() CASCADE;
DROP TABLE geo_ssf_tallies;
