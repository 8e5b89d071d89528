-- Retention: apply_retention() deletes a tenant's bookkeeping older than its
-- retention_policy (migrations t0013) and returns what it deleted, as
--   {"runs": n, "loads": n, "rejects": n, "conflicts": n}
-- Safe to call at any time and as often as wished (the scheduler does): a
-- second call finds nothing more to delete.
--
-- Only what is older than its period goes, by the time it ended: a run or a
-- load still `running` is never deleted, whatever its age; a load's rejects
-- go with it (rejects reference their load); a conflict goes only once it is
-- acknowledged, counted from its acknowledgement (conflicts gain their
-- acknowledgement columns in another migration: until then none is deleted).
--
-- SECURITY DEFINER: the pipeline role, which calls it, may not delete loads,
-- rejects or conflicts; the owner deletes, and only rows this function picks.
CREATE OR REPLACE FUNCTION @extschema@.apply_retention()
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE SECURITY DEFINER PARALLEL UNSAFE
SET search_path = pg_catalog, @extschema@, pg_temp
AS $$
DECLARE
    v_policy    retention_policy;
    v_runs      bigint;
    v_loads     bigint;
    v_rejects   bigint;
    v_dropped   bigint;
    v_conflicts bigint := 0;
BEGIN
    -- deletes only rows older than the tenant's retention periods; never a running one
    SELECT * INTO v_policy FROM retention_policy;
    IF NOT FOUND THEN  -- the row was deleted by hand: the defaults apply
        INSERT INTO retention_policy DEFAULT VALUES RETURNING * INTO v_policy;
    END IF;

    DELETE FROM runs
     WHERE status <> 'running' AND finished_at < now() - v_policy.runs_kept;
    GET DIAGNOSTICS v_runs = ROW_COUNT;

    DELETE FROM rejects WHERE rejected_at < now() - v_policy.rejects_kept;
    GET DIAGNOSTICS v_rejects = ROW_COUNT;
    DELETE FROM rejects r
     USING loads l
     WHERE r.load_id = l.load_id AND l.status <> 'running' AND l.finished_at < now() - v_policy.loads_kept;
    GET DIAGNOSTICS v_dropped = ROW_COUNT;
    v_rejects := v_rejects + v_dropped;
    DELETE FROM loads
     WHERE status <> 'running' AND finished_at < now() - v_policy.loads_kept;
    GET DIAGNOSTICS v_loads = ROW_COUNT;

    IF EXISTS (SELECT 1 FROM pg_attribute
                WHERE attrelid = 'conflicts'::regclass AND attname = 'acknowledged_at' AND NOT attisdropped) THEN
        EXECUTE 'DELETE FROM conflicts WHERE acknowledged_at < now() - $1' USING v_policy.conflicts_kept;
        GET DIAGNOSTICS v_conflicts = ROW_COUNT;
    END IF;

    RETURN jsonb_build_object('runs', v_runs, 'loads', v_loads, 'rejects', v_rejects, 'conflicts', v_conflicts);
END
$$;
