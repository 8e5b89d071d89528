-- Attach a trigger function to every write of a table, as statement-level
-- triggers: <prefix>_on_insert, _on_update and _on_delete with their
-- transition tables (new_rows, old_rows), and <prefix>_on_truncate.
-- PostgreSQL allows one event per trigger that has transition tables, hence
-- four; the function tells them apart by TG_OP.
CREATE OR REPLACE FUNCTION @extschema@.attach_statement_triggers(p_table text, p_prefix text, p_function text, p_args text[])
RETURNS void
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, @extschema@, pg_temp
AS $$
DECLARE
    v_call text := format('%I(%s)', p_function,
                          (SELECT coalesce(string_agg(quote_literal(a), ', '), '') FROM unnest(p_args) a));
BEGIN
    -- guarantees: the four triggers exist on p_table and call p_function(p_args)
    EXECUTE format('CREATE OR REPLACE TRIGGER %I AFTER INSERT ON %I REFERENCING NEW TABLE AS new_rows'
                   ' FOR EACH STATEMENT EXECUTE FUNCTION %s', p_prefix || '_on_insert', p_table, v_call);
    EXECUTE format('CREATE OR REPLACE TRIGGER %I AFTER UPDATE ON %I'
                   ' REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows'
                   ' FOR EACH STATEMENT EXECUTE FUNCTION %s', p_prefix || '_on_update', p_table, v_call);
    EXECUTE format('CREATE OR REPLACE TRIGGER %I AFTER DELETE ON %I REFERENCING OLD TABLE AS old_rows'
                   ' FOR EACH STATEMENT EXECUTE FUNCTION %s', p_prefix || '_on_delete', p_table, v_call);
    EXECUTE format('CREATE OR REPLACE TRIGGER %I AFTER TRUNCATE ON %I FOR EACH STATEMENT EXECUTE FUNCTION %s',
                   p_prefix || '_on_truncate', p_table, v_call);
END;
$$;
