-- Privileges of the tenant's roles on its own schema: every grant of the
-- tenant's code is here, and nowhere else. Runs last, as the schema's owner,
-- after every other file has (re)created its objects.
--   <schema>           reads everything of its own schema, nothing else
--   <schema>_loader    writes the ERP side and its own bookkeeping
--   <schema>_ui        writes ui_* and settings (and the UI's columns of recommendations)
--   <schema>_pipeline  writes derived tables and consumes the queue
DO $grants$
DECLARE
    v_schema   text := '@extschema@';
    v_reader   text := '@extschema@';
    v_loader   text := '@extschema@' || '_loader';
    v_pipeline text := '@extschema@' || '_pipeline';
    v_ui       text := '@extschema@' || '_ui';
    v_table    name;
    v_column   name;
    v_fn       regprocedure;
    v_citus    boolean := masterfile.on_citus();
BEGIN
    EXECUTE format('REVOKE ALL ON SCHEMA %I FROM PUBLIC', v_schema);
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', v_schema, v_reader);
    EXECUTE format('GRANT SELECT ON ALL TABLES IN SCHEMA %I TO %I', v_schema, v_reader);
    -- the pipeline's own bookkeeping is named _private_* (the queue, the
    -- keys' tails, the keys set aside, the week accounted for, the batches
    -- in flight): the reader does not see it, the pipeline alone reads it;
    -- owner's-rights views (queue_status, key_attributes, master_file) show
    -- what readers need. On a Citus coordinator a view's query runs on the
    -- tenant's worker as the reading role, not as the view's owner, so there
    -- the reader keeps SELECT on them (it writes none; docs/scale-out.md)
    FOR v_table IN
        SELECT c.relname FROM pg_class c
        WHERE c.relnamespace = v_schema::pg_catalog.regnamespace AND c.relkind IN ('r', 'v')
          AND c.relname LIKE '\_private\_%'
    LOOP
        IF v_citus THEN
            EXECUTE format('GRANT SELECT ON %I TO %I', v_table, v_reader);
        ELSE
            EXECUTE format('REVOKE SELECT ON %I FROM %I', v_table, v_reader);
        END IF;
        EXECUTE format('GRANT SELECT ON %I TO %I', v_table, v_pipeline);
    END LOOP;
    -- the ERP token is the loader's alone
    EXECUTE format('REVOKE SELECT ON loader_config FROM %I', v_reader);
    EXECUTE format('GRANT SELECT ON loader_config TO %I', v_loader);

    -- the ERP tables are written by the loader alone (data-contract.md, "ERP
    -- entities"): it inserts and updates them, never deletes (a tombstone is
    -- an update); it reads them as a member of the tenant's own role
    EXECUTE format(
        'GRANT INSERT, UPDATE ON erp_products, erp_locations, erp_suppliers, erp_purchase_order_lines, '
        'erp_receipt_lines, erp_sales_lines, erp_invoice_lines TO %I', v_loader);
    EXECUTE format('GRANT INSERT, UPDATE ON loads, watermarks TO %I', v_loader);
    EXECUTE format('GRANT INSERT ON rejects TO %I', v_loader);
    EXECUTE format('GRANT USAGE ON SEQUENCE loads_load_id_seq, rejects_reject_id_seq TO %I', v_loader);

    EXECUTE format('GRANT INSERT, UPDATE ON runs TO %I', v_pipeline);
    -- the pipeline locks (FOR UPDATE needs UPDATE) and deletes the marks it
    -- processed, and adds continuation and
    -- expansion marks; its derived tables are its own
    EXECUTE format('GRANT INSERT, UPDATE, DELETE ON _private_dirty_keys TO %I', v_pipeline);
    EXECUTE format('GRANT USAGE ON SEQUENCE runs_run_id_seq, _private_dirty_keys_mark_id_seq TO %I', v_pipeline);
    EXECUTE format('GRANT INSERT, UPDATE, DELETE ON features, _private_feature_keys, _private_failed_keys TO %I', v_pipeline);
    -- the batches in flight (migration t0019)
    EXECUTE format('GRANT INSERT, DELETE ON _private_feature_batch, _private_plan_batch TO %I', v_pipeline);
    EXECUTE format('GRANT UPDATE ON _private_pipeline_state TO %I', v_pipeline);

    -- one owner per field (data-contract.md): the UI writes ui_* and settings;
    -- the loader's erp_* grants are above
    FOR v_table IN
        SELECT c.relname FROM pg_class c
        WHERE c.relnamespace = v_schema::pg_catalog.regnamespace AND c.relkind = 'r' AND c.relname LIKE 'ui\_%'
    LOOP
        EXECUTE format('GRANT INSERT, UPDATE, DELETE ON %I TO %I', v_table, v_ui);
    END LOOP;
    EXECUTE format('GRANT UPDATE ON settings TO %I', v_ui);

    -- recommendations are shared by column: the pipeline inserts rows and
    -- updates its own columns (the UI's take their defaults), the UI updates
    -- only its decision; neither deletes (a decided row must survive). The
    -- grants are the table's; which columns each writes is kept by the
    -- trigger guard_shared_columns below, not by column privileges: Citus
    -- does not take column grants to a tenant's worker, nor keeps them
    -- through a move (docs/scale-out.md)
    EXECUTE format('GRANT INSERT, UPDATE ON recommendations TO %I', v_pipeline);
    EXECUTE format('GRANT UPDATE ON recommendations TO %I', v_ui);
    -- the pipeline deletes the recommendations of keys without features
    -- (delete_undecided_recommendations, 090_plans.sql); a decided row is
    -- kept by the trigger keep_decided_recommendations, whoever deletes
    EXECUTE format('GRANT DELETE ON recommendations TO %I', v_pipeline);
    -- the UI acknowledges conflicts, writing only who and when (t0012); the
    -- ERP's and the pipeline's columns stay out of its reach (the same trigger)
    EXECUTE format('GRANT UPDATE ON conflicts TO %I', v_ui);
    -- column grants of tenants made before the trigger: redundant, taken back
    FOR v_table, v_column IN
        SELECT c.relname, a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
        WHERE c.relnamespace = v_schema::pg_catalog.regnamespace AND a.attnum > 0 AND a.attacl IS NOT NULL
    LOOP
        EXECUTE format('REVOKE ALL (%I) ON %I FROM %I, %I', v_column, v_table, v_pipeline, v_ui);
    END LOOP;

    -- functions are private unless granted below
    FOR v_fn IN SELECT p.oid::pg_catalog.regprocedure FROM pg_proc p WHERE p.pronamespace = v_schema::pg_catalog.regnamespace LOOP
        EXECUTE format('REVOKE ALL ON ROUTINE %s FROM PUBLIC', v_fn);
    END LOOP;
    -- what the pipeline runs; the reader may ask which week is computed
    EXECUTE format('GRANT EXECUTE ON PROCEDURE process_dirty(integer, double precision, text), run_scheduled() TO %I',
                   v_pipeline);
    EXECUTE format('GRANT EXECUTE ON FUNCTION process_batch(integer), refresh_batch(text[], text[], date[], boolean[]),'
                   ' refresh_features(text[], text[], date[]), stage_feature_batch(text[], text[], date[], date),'
                   ' delete_stale_features(date), write_feature_rows(),'
                   ' store_feature_tails(date, text[], text[], date[], integer[], bytea[], bytea[]),'
                   ' refresh_plans(text[], text[]), ensure_work_tables(),'
                   ' end_week_moved(), check_end_week(), expand_global_marks(), wait_for_global_marks(),'
                   ' prepare_queue(),'
                   ' mark_all_keys(date, text), mark_continuations(text[], text[], date[])'
                   ' TO %I', v_pipeline);
    EXECUTE format('GRANT EXECUTE ON FUNCTION end_week() TO %I', v_reader);
    EXECUTE format('GRANT EXECUTE ON FUNCTION settle_work_hints(bigint, boolean) TO %I', v_pipeline);
    -- a writer's hint from its own session (the loader's batches, the API's edits)
    EXECUTE format('GRANT EXECUTE ON FUNCTION hint_work() TO %I, %I, %I', v_loader, v_ui, v_pipeline);
    EXECUTE format('GRANT EXECUTE ON FUNCTION try_load_lock(), release_load_lock() TO %I', v_loader);
    EXECUTE format('GRANT EXECUTE ON FUNCTION'
                   ' delete_undecided_recommendations(text[], text[]), apply_retention() TO %I', v_pipeline);
    -- every role of the tenant may evaluate the decision rule, which the
    -- trigger keep_decided_recommendations runs as the deleting role
    EXECUTE format('GRANT EXECUTE ON FUNCTION recommendation_has_decision(text, double precision, text,'
                   ' timestamptz, text) TO %I', v_reader);
END
$grants$;

-- One writer per field of a shared table, kept by a row trigger: of
-- recommendations the UI writes its decision (the columns below), the
-- pipeline every other column and inserts rows whose decision columns hold
-- their defaults; of conflicts the UI writes the acknowledgement only.
-- Anything else a writer tries is refused as a privilege error. Other roles
-- have no write grant on these tables; the owner is not held (migrations).
CREATE OR REPLACE FUNCTION @extschema@.guard_shared_columns()
RETURNS trigger
LANGUAGE plpgsql
STABLE PARALLEL SAFE
SET search_path = pg_catalog, @extschema@, pg_temp
AS $$
DECLARE
    -- TG_ARGV[0]: the UI's columns of the table, as a text array; TG_ARGV[1]:
    -- the table (TG_TABLE_NAME is a shard's name on a Citus worker)
    v_ui_columns text[] := TG_ARGV[0]::text[];
    v_table      text := TG_ARGV[1];
    v_column     text;
BEGIN
    -- guarantees: the UI role changes only v_ui_columns; the pipeline role
    -- changes none of recommendations' (spelled out below: the pipeline
    -- writes no other shared table), and inserts them at their defaults
    IF current_user = '@extschema@' || '_ui' THEN
        IF TG_OP = 'INSERT' OR (to_jsonb(NEW) - v_ui_columns) IS DISTINCT FROM (to_jsonb(OLD) - v_ui_columns) THEN
            v_column := (SELECT n.key FROM jsonb_each(to_jsonb(NEW)) n
                         WHERE n.key <> ALL (v_ui_columns)
                           AND (TG_OP = 'INSERT' OR n.value IS DISTINCT FROM to_jsonb(OLD) -> n.key)
                         LIMIT 1);
        END IF;
    ELSIF current_user = '@extschema@' || '_pipeline' AND v_table = 'recommendations' THEN
        -- per row of every plan the pipeline writes: spelled out, no jsonb
        IF TG_OP = 'INSERT' THEN
            IF NEW.decision IS DISTINCT FROM 'pending' OR NEW.approved_qty IS NOT NULL
               OR NEW.decided_by IS NOT NULL OR NEW.decided_at IS NOT NULL OR NEW.note IS NOT NULL THEN
                v_column := 'decision';
            END IF;
        ELSIF (NEW.decision, NEW.approved_qty, NEW.decided_by, NEW.decided_at, NEW.note)
              IS DISTINCT FROM (OLD.decision, OLD.approved_qty, OLD.decided_by, OLD.decided_at, OLD.note) THEN
            v_column := 'decision';
        END IF;
    END IF;
    IF v_column IS NOT NULL THEN
        RAISE EXCEPTION 'permission denied for column % of relation %', v_column, v_table
            USING ERRCODE = 'insufficient_privilege',
                  HINT = format('%s writes only its own columns of %s', current_user, v_table);
    END IF;
    RETURN NEW;
END;
$$;

CREATE OR REPLACE TRIGGER guard_shared_columns BEFORE INSERT OR UPDATE ON recommendations
    FOR EACH ROW EXECUTE FUNCTION guard_shared_columns('{decision,approved_qty,decided_by,decided_at,note}',
                                                       'recommendations');
CREATE OR REPLACE TRIGGER guard_shared_columns BEFORE INSERT OR UPDATE ON conflicts
    FOR EACH ROW EXECUTE FUNCTION guard_shared_columns('{acknowledged_by,acknowledged_at}', 'conflicts');
