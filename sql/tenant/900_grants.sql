-- Privileges of the tenant's roles on its own schema. Runs last, as the
-- schema's owner, after every other file has (re)created its objects.
--   <schema>           reads everything of its own schema, nothing else
--   <schema>_loader    writes the ERP side and its own bookkeeping
--   <schema>_ui        writes ui_* and settings (and the UI's columns of recommendations)
--   <schema>_pipeline  writes derived tables and consumes the queue
DO $grants$
DECLARE
    v_schema   text := current_schema();
    v_reader   text := current_schema();
    v_loader   text := current_schema() || '_loader';
    v_pipeline text := current_schema() || '_pipeline';
    v_fn       regprocedure;
BEGIN
    EXECUTE format('REVOKE ALL ON SCHEMA %I FROM PUBLIC', v_schema);
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', v_schema, v_reader);
    EXECUTE format('GRANT SELECT ON ALL TABLES IN SCHEMA %I TO %I', v_schema, v_reader);
    -- the ERP token is the loader's alone
    EXECUTE format('REVOKE SELECT ON loader_config FROM %I', v_reader);
    EXECUTE format('GRANT SELECT ON loader_config TO %I', v_loader);

    EXECUTE format('GRANT INSERT, UPDATE ON loads, watermarks TO %I', v_loader);
    EXECUTE format('GRANT INSERT ON rejects TO %I', v_loader);
    EXECUTE format('GRANT USAGE ON SEQUENCE loads_load_id_seq, rejects_reject_id_seq TO %I', v_loader);

    EXECUTE format('GRANT INSERT, UPDATE ON runs TO %I', v_pipeline);
    EXECUTE format('GRANT DELETE ON dirty_keys TO %I', v_pipeline);
    EXECUTE format('GRANT USAGE ON SEQUENCE runs_run_id_seq TO %I', v_pipeline);

    -- functions are private unless a file grants them
    FOR v_fn IN SELECT p.oid::regprocedure FROM pg_proc p WHERE p.pronamespace = v_schema::regnamespace LOOP
        EXECUTE format('REVOKE ALL ON ROUTINE %s FROM PUBLIC', v_fn);
    END LOOP;
END
$grants$;
