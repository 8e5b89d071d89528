-- Attach a trigger function to the writes of a table, as statement-level
-- triggers, one per event of p_events (INSERT, UPDATE, DELETE, TRUNCATE):
-- <prefix>_insert, _update and _delete with their transition tables
-- (new_rows, old_rows), and <prefix>_truncate. PostgreSQL allows one event
-- per trigger that has transition tables, hence one trigger per event; the
-- function tells them apart by TG_OP. Every statement-level trigger of
-- sql/tenant is attached here.
CREATE OR REPLACE FUNCTION @extschema@.attach_statement_triggers(p_table text, p_prefix text, p_function text,
                                                                 p_args text[],
                                                                 p_events text[] DEFAULT ARRAY['INSERT', 'UPDATE', 'DELETE', 'TRUNCATE'])
RETURNS void
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, @extschema@, pg_temp
AS $$
DECLARE
    v_call  text := format('%I(%s)', p_function,
                           (SELECT coalesce(string_agg(quote_literal(a), ', '), '') FROM unnest(p_args) a));
    v_event text;
BEGIN
    -- guarantees: one trigger per event of p_events exists on p_table and calls p_function(p_args)
    FOREACH v_event IN ARRAY p_events LOOP
        EXECUTE format('CREATE OR REPLACE TRIGGER %I AFTER %s ON %I %s FOR EACH STATEMENT EXECUTE FUNCTION %s',
                       p_prefix || '_' || lower(v_event),
                       CASE v_event WHEN 'INSERT' THEN 'INSERT' WHEN 'UPDATE' THEN 'UPDATE'
                                    WHEN 'DELETE' THEN 'DELETE' WHEN 'TRUNCATE' THEN 'TRUNCATE' END,
                       p_table,
                       CASE v_event WHEN 'INSERT' THEN 'REFERENCING NEW TABLE AS new_rows'
                                    WHEN 'UPDATE' THEN 'REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows'
                                    WHEN 'DELETE' THEN 'REFERENCING OLD TABLE AS old_rows'
                                    ELSE '' END,
                       v_call);
    END LOOP;
END;
$$;
