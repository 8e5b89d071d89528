-- Processing the queue: claim keys, recompute, delete exactly the marks
-- claimed, commit per batch.

-- Turn global marks (null key) into one mark per known key.
CREATE OR REPLACE FUNCTION @extschema@.expand_global_marks()
RETURNS void
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, @extschema@, pg_temp
-- the global marks through the queue's key index (they sort last in it),
-- not a scan of the queue: see wait_for_global_marks. The setting covers
-- only the two statements below, and each has an index to take (the
-- queue's, and _private_feature_keys' primary key in key order)
SET enable_seqscan = off
AS $$
DECLARE
    v_g record;
BEGIN
    -- guarantees: a global mark is replaced by per-key marks in one transaction
    FOR v_g IN
        DELETE FROM _private_dirty_keys d
        WHERE d.mark_id IN (SELECT mark_id FROM _private_dirty_keys WHERE product_id IS NULL FOR UPDATE SKIP LOCKED)
        RETURNING d.from_week, d.scope
    LOOP
        -- in key order: claims take keys in mark order, and a batch of
        -- neighbouring keys writes neighbouring pages of the key indexes
        INSERT INTO _private_dirty_keys (product_id, location_id, from_week, scope)
        SELECT product_id, location_id, v_g.from_week, v_g.scope FROM _private_feature_keys
        ORDER BY product_id, location_id;
    END LOOP;
END;
$$;

-- Wait for every global mark another runner is expanding: a global mark
-- being expanded is locked until its expansion commits, and is gone then.
-- A runner calls this before every batch, and a session plans its
-- statements once: the first call of a run finds the queue holding one
-- global mark on one page, a scan of it is the cheapest plan, and that plan
-- then scanned the whole queue (every key's mark of a roll) before each of
-- the run's batches, a cost growing with the square of the keys. Through the
-- key index, where the null keys sort last, the lookup costs the same at
-- any size of the queue. The setting is on this one statement's function:
-- on prepare_queue it covered check_end_week too, whose reads of one-row
-- tables have no index, and a seq scan the planner must take anyway is
-- costed past jit_above_cost: every batch paid 40-120 ms compiling them.
CREATE OR REPLACE FUNCTION @extschema@.wait_for_global_marks()
RETURNS void
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, @extschema@, pg_temp
SET enable_seqscan = off
AS $$
BEGIN
    -- guarantees: at return, no global mark committed before the call is
    -- locked by another transaction
    PERFORM 1 FROM _private_dirty_keys WHERE product_id IS NULL FOR UPDATE;
END;
$$;

-- What a runner does, in a short transaction of its own, before it claims:
-- queue end_week's move and expand every global mark, waiting for one that
-- another runner is expanding. Without the wait, a runner that starts while
-- another expands a full rebuild's mark (in that runner's batch) sees the
-- mark locked and no key queued, and stops with the rebuild left to the
-- other.
CREATE OR REPLACE FUNCTION @extschema@.prepare_queue()
RETURNS void
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, @extschema@, pg_temp
AS $$
BEGIN
    -- guarantees: at return, no global mark committed before the call is
    -- left unexpanded (once this transaction commits)
    PERFORM check_end_week();
    PERFORM wait_for_global_marks();
    PERFORM expand_global_marks();
END;
$$;

-- One batch: claim up to p_batch_size keys, recompute them, delete their
-- claimed marks. Returns the keys processed, feature and plan rows written,
-- the keys set aside, and the seconds spent on features and on plans.
CREATE OR REPLACE FUNCTION @extschema@.process_batch(p_batch_size integer, OUT keys_done bigint, OUT feature_rows bigint,
                                         OUT plan_rows bigint, OUT keys_failed bigint,
                                         OUT feature_seconds double precision, OUT plan_seconds double precision)
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, @extschema@, pg_temp
AS $$
DECLARE
    v_p       text[];
    v_l       text[];
    v_w       date[];
    v_feat    boolean[];
    i         integer;
    v_err     text;
    v_rows    bigint[];
    v_attempt integer;
    v_state   text;
    -- keys set aside for now (mf_retry) and the marks claimed: the session's
    -- temporary tables are read alone and reach the tenant's tables as
    -- arrays (on Citus those sit on a worker, and a statement may not join
    -- them with a table of the coordinator's session)
    v_rp      text[];
    v_rl      text[];
    v_ids     bigint[];
    v_cp      text[];
    v_cl      text[];
    v_cw      date[];
    v_cs      text[];
BEGIN
    -- guarantees: a claimed key's marks are deleted only with its results (or
    -- its entry in _private_failed_keys); marks added meanwhile are new rows and stay
    keys_done := 0; feature_rows := 0; plan_rows := 0; keys_failed := 0;
    feature_seconds := 0; plan_seconds := 0;
    -- for a caller that did not prepare_queue() (process_dirty has, and these
    -- then find nothing to do: a read of _private_pipeline_state, a probe of the
    -- queue's key index for a null key)
    PERFORM check_end_week();
    PERFORM expand_global_marks();

    -- claim: keys in queue order, each under a transaction-level advisory lock
    -- so two runners never compute one key at once; then the key's marks,
    -- FOR UPDATE SKIP LOCKED (a mark a writer is coalescing into waits for
    -- the next run). Exactly these marks are deleted at the end.
    PERFORM ensure_work_tables();
    DELETE FROM mf_claim;
    -- A key another runner finished while this statement ran is seen queued
    -- (its marks were live in the statement's snapshot) and its lock is
    -- free, but its marks are gone: it is claimed with no mark. A batch of
    -- only such keys would claim nothing and end this runner's run with keys
    -- left; so when nothing was claimed and keys are queued, ask again (a new
    -- statement sees the deletions).
    SELECT array_agg(r.product_id), array_agg(r.location_id) INTO v_rp, v_rl
    FROM pg_temp.mf_retry r WHERE r.retry_after > clock_timestamp();
    FOR v_attempt IN 1 .. 3 LOOP
        -- the candidates come from the oldest marks alone, read in mark
        -- order from the queue's primary key: a key whose first mark is
        -- among them has its first mark there, so the order is the queue's;
        -- grouping the whole queue instead cost a batch time and memory in
        -- proportion to the queue (bench/bench_claim.py: a batch of 1,000
        -- keys took 63-82 ms and 25 MB at 20,000 marks, 405-413 ms and 41 MB
        -- at 200,000; now 51-57 ms and 15 MB at either)
        WITH oldest AS (
            SELECT d.mark_id, d.product_id, d.location_id
            FROM _private_dirty_keys d
            WHERE d.product_id IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM unnest(v_rp, v_rl) AS r(p, l)
                              WHERE r.p = d.product_id AND r.l = d.location_id)
            ORDER BY d.mark_id
            LIMIT p_batch_size * 4
        ),
        candidates AS (
            SELECT product_id, location_id, min(mark_id) AS first_mark
            FROM oldest
            GROUP BY product_id, location_id
            ORDER BY first_mark
            LIMIT p_batch_size * 2
        ),
        claimed AS (
            SELECT product_id, location_id
            FROM candidates
            WHERE pg_try_advisory_xact_lock(hashtextextended('@extschema@' || '/' || product_id || '/' || location_id, 0))
            ORDER BY first_mark
            LIMIT p_batch_size
        )
        -- each claimed key's marks through the key's index: a join would be
        -- planned on statistics taken before the roll queued 20,000 marks, and
        -- once scanned the whole queue for every key (5 s a batch)
        SELECT array_agg(d.mark_id), array_agg(d.product_id), array_agg(d.location_id), array_agg(d.from_week),
               array_agg(d.scope)
        INTO v_ids, v_cp, v_cl, v_cw, v_cs
        FROM claimed c
        CROSS JOIN LATERAL (
            SELECT m.* FROM _private_dirty_keys m
            WHERE m.product_id = c.product_id AND m.location_id = c.location_id
            FOR UPDATE SKIP LOCKED
        ) d;
        EXIT WHEN v_ids IS NOT NULL OR NOT EXISTS (SELECT 1 FROM _private_dirty_keys WHERE product_id IS NOT NULL);
    END LOOP;
    INSERT INTO mf_claim (mark_id, product_id, location_id, from_week, scope)
    SELECT * FROM unnest(v_ids, v_cp, v_cl, v_cw, v_cs);

    SELECT array_agg(product_id), array_agg(location_id), array_agg(from_week), array_agg(features)
    INTO v_p, v_l, v_w, v_feat
    FROM (SELECT product_id, location_id,
                 CASE WHEN bool_or(from_week IS NULL AND scope = 'features') THEN NULL
                      ELSE min(from_week) FILTER (WHERE scope = 'features') END AS from_week,
                 bool_or(scope = 'features') AS features
          FROM mf_claim GROUP BY product_id, location_id) k;
    IF v_p IS NULL THEN
        RETURN;
    END IF;

    BEGIN
        v_rows := refresh_batch(v_p, v_l, v_w, v_feat);
        feature_rows := v_rows[1]; plan_rows := v_rows[2];
        feature_seconds := v_rows[3] / 1e6; plan_seconds := v_rows[4] / 1e6;
    EXCEPTION WHEN OTHERS THEN
        -- one bad key must not stop the others: redo the batch key by key
        FOR i IN 1 .. array_length(v_p, 1) LOOP
            BEGIN
                v_rows := refresh_batch(ARRAY[v_p[i]], ARRAY[v_l[i]], ARRAY[v_w[i]], ARRAY[v_feat[i]]);
                feature_rows := feature_rows + v_rows[1]; plan_rows := plan_rows + v_rows[2];
                feature_seconds := feature_seconds + v_rows[3] / 1e6;
                plan_seconds := plan_seconds + v_rows[4] / 1e6;
            EXCEPTION WHEN OTHERS THEN
                GET STACKED DIAGNOSTICS v_err = MESSAGE_TEXT, v_state = RETURNED_SQLSTATE;
                IF v_state IN ('40001', '40P01', '55P03', '57014') THEN
                    -- a passing failure (serialization, deadlock, lock or
                    -- statement timeout): the key keeps its marks, and is
                    -- claimed again after a backoff
                    INSERT INTO pg_temp.mf_retry (product_id, location_id, error, retry_after)
                    VALUES (v_p[i], v_l[i], v_err, clock_timestamp() + interval '10 seconds')
                    ON CONFLICT (product_id, location_id) DO UPDATE
                        SET error = excluded.error, retry_after = excluded.retry_after;
                    CONTINUE;
                END IF;
                INSERT INTO _private_failed_keys (product_id, location_id, from_week, scope, error)
                VALUES (v_p[i], v_l[i], v_w[i], CASE WHEN v_feat[i] THEN 'features' ELSE 'plan' END, v_err)
                ON CONFLICT (product_id, location_id) DO UPDATE
                    SET from_week = excluded.from_week, scope = excluded.scope, error = excluded.error,
                        failed_at = excluded.failed_at;
                keys_failed := keys_failed + 1;
            END;
        END LOOP;
    END;
    -- the keys done (not set aside meanwhile), and their claimed marks
    SELECT array_agg(r.product_id), array_agg(r.location_id) INTO v_rp, v_rl
    FROM pg_temp.mf_retry r WHERE r.retry_after > clock_timestamp();
    SELECT array_agg(c.mark_id) INTO v_ids
    FROM mf_claim c
    WHERE NOT EXISTS (SELECT 1 FROM unnest(v_rp, v_rl) AS r(p, l) WHERE r.p = c.product_id AND r.l = c.location_id);
    DELETE FROM _private_failed_keys f USING unnest(v_p, v_l) AS k(p, l)
    WHERE f.product_id = k.p AND f.location_id = k.l AND f.failed_at < transaction_timestamp()
      AND NOT EXISTS (SELECT 1 FROM unnest(v_rp, v_rl) AS r(p, l) WHERE r.p = k.p AND r.l = k.l);
    DELETE FROM _private_dirty_keys d WHERE d.mark_id = ANY (v_ids);
    keys_done := array_length(v_p, 1)
                 - (SELECT count(*) FROM pg_temp.mf_retry r JOIN unnest(v_p, v_l) AS k(p, l)
                    ON r.product_id = k.p AND r.location_id = k.l AND r.retry_after > clock_timestamp());
END;
$$;

-- Features (where the key's inputs changed) then plans, for one set of keys.
CREATE OR REPLACE FUNCTION @extschema@.refresh_batch(p_product_ids text[], p_location_ids text[], p_from_weeks date[],
                                         p_features boolean[])
RETURNS bigint[]
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, @extschema@, pg_temp
AS $$
DECLARE
    v_fp text[];
    v_fl text[];
    v_fw date[];
    v_features bigint := 0;
    v_plans    bigint;
    v_t0       timestamptz := clock_timestamp();
    v_t1       timestamptz;
BEGIN
    -- guarantees: features of keys marked for features, then forecasts and
    -- recommendations of every given key, in the caller's transaction;
    -- returns {feature rows written, plan rows written, microseconds spent
    -- on features, on plans}
    SELECT array_agg(p), array_agg(l), array_agg(w) INTO v_fp, v_fl, v_fw
    FROM unnest(p_product_ids, p_location_ids, p_from_weeks, p_features) AS k(p, l, w, f)
    WHERE f;
    IF v_fp IS NOT NULL THEN
        v_features := refresh_features(v_fp, v_fl, v_fw);
    END IF;
    v_t1 := clock_timestamp();
    v_plans := refresh_plans(p_product_ids, p_location_ids);
    RETURN ARRAY[v_features, v_plans,
                 (extract(epoch FROM v_t1 - v_t0) * 1e6)::bigint,
                 (extract(epoch FROM clock_timestamp() - v_t1) * 1e6)::bigint];
END;
$$;

-- The tenant's own entry points: the loop itself is
-- masterfile.process_tenant() (sql/control/040_scheduling.sql), shared by
-- every tenant and the scheduler. Procedures that commit may have no SET
-- clause, so these name everything qualified.
CREATE OR REPLACE PROCEDURE @extschema@.process_dirty(p_batch_size integer DEFAULT 500,
                                                      p_max_seconds double precision DEFAULT 50,
                                                      p_trigger text DEFAULT 'manual')
LANGUAGE plpgsql
AS $$
BEGIN
    -- guarantees: batches of keys until the queue is empty or p_max_seconds
    -- have passed, each committed with exactly its claimed marks removed
    CALL masterfile.process_tenant('@extschema@', p_batch_size, p_max_seconds, p_trigger);
END;
$$;

CREATE OR REPLACE PROCEDURE @extschema@.run_scheduled()
LANGUAGE plpgsql
AS $$
BEGIN
    -- at most 50 s of work, as one turn of the scheduler takes
    CALL masterfile.process_tenant('@extschema@', 500, 50, 'cron');
END;
$$;

-- The queue and the pipeline's state as their readers see them, one row:
-- keys queued (distinct), marks queued, the oldest mark and its age, the
-- end week the pipeline has accounted for, the keys it knows and those it
-- set aside. `pyloader status`, `tenant list`, `run`, the API, the metrics
-- and the demo all read this view, so queue depth means one thing
-- everywhere; it runs with its owner's rights, as the _private_ tables are
-- the pipeline's alone (900_grants.sql).
CREATE OR REPLACE VIEW @extschema@.queue_status AS
SELECT (SELECT pg_catalog.count(*) FROM (SELECT DISTINCT product_id, location_id FROM @extschema@._private_dirty_keys) d)
           AS queue_depth,
       pg_catalog.count(*) AS queued_marks,
       pg_catalog.min(marked_at) AS oldest_mark,
       EXTRACT(epoch FROM pg_catalog.now() - pg_catalog.min(marked_at))::float8 AS oldest_dirty_age_seconds,
       (SELECT end_week FROM @extschema@._private_pipeline_state) AS end_week,
       (SELECT pg_catalog.count(*) FROM @extschema@._private_feature_keys) AS known_keys,
       (SELECT pg_catalog.count(*) FROM @extschema@._private_failed_keys) AS failed_keys
FROM @extschema@._private_dirty_keys;
