-- Forecasts and order recommendations (forecast-and-orders.md), per key, as of
-- end_week(), from the stored features and the effective values. Called by
-- refresh_batch() after the keys' features, in the same transaction.

-- forecasts: one row per key and target week h = 1 .. horizon_weeks. A key's
-- forecast per week, method and class are the same for every target week and
-- its recommendation holds them, so they are not stored again (migration
-- t0009: a calendar roll rewrote horizon_weeks rows per key for a new
-- as_of_week). A key without features at end_week has no forecasts: its
-- recommendation is deleted, or kept `inactive` when it holds a UI decision.
CREATE OR REPLACE VIEW @extschema@.forecasts AS
SELECT r.product_id,
       r.location_id,
       r.as_of_week,
       r.as_of_week + 7 * h AS target_week,
       r.forecast_per_week AS yhat,
       r.method,
       r.demand_class
FROM recommendations r
CROSS JOIN settings s
CROSS JOIN LATERAL generate_series(1, s.horizon_weeks) AS h
WHERE r.reason IS DISTINCT FROM 'inactive';

-- Recompute the pipeline's columns of recommendations of the given keys
-- (forecasts are a view over them). Returns the recommendation rows
-- inserted, updated or deleted.
CREATE OR REPLACE FUNCTION @extschema@.refresh_plans(p_product_ids text[], p_location_ids text[])
RETURNS bigint
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE
SECURITY INVOKER
SET search_path = pg_catalog, @extschema@, pg_temp
-- a batch is a few thousand rows, but the views' estimates run to billions
-- and JIT compiling them costs seconds
SET jit = off
AS $$
DECLARE
    c_demand_weeks constant integer := masterfile.forecast_weeks();
    v_end     date := end_week();
    -- the run's time, as a value: Citus refuses now() in an UPDATE's SET on a tenant's table
    v_now     timestamptz := now();
    v_runner  integer := masterfile.work_runner();
    v_written bigint := 0;
    v_n       bigint;
    v_out     record;
    v_p       text[];
    v_l       text[];
BEGIN
    -- guarantees: for every given key, the pipeline's columns of its
    -- recommendation (and so its forecasts) equal a computation from scratch; a row is
    -- written only where a value changed (computed_at moves with it,
    -- qty_changed_at only with recommended_qty); the UI's columns are never
    -- written and a row holding a UI decision is never deleted
    -- the batch is staged in _private_plan_batch (migration t0019), the
    -- transaction's rows keyed by masterfile.work_runner(), deleted at the end: nothing
    -- is left at commit, and an abort takes its rows back

    -- one row per key with its master-file row at end_week and its
    -- attributes as the master file has them (key_attributes, 065: the
    -- effective values with the contract's defaults completed). A key with
    -- no row at end_week has no ord and needs no attribute. Each lookup is a
    -- LATERAL subquery kept apart by OFFSET 0, so it runs per key on the
    -- tables' keys: the cost follows the batch, not the tenant.
    INSERT INTO _private_plan_batch (runner, product_id, location_id, ord, sigma, est_on_hand, on_order, lead_time_days,
                         review_period_weeks, service_level, min_order_qty, order_multiple, discontinued,
                         assorted, location_enabled)
    SELECT v_runner, k.p, k.l,
           CASE WHEN f.week_start IS NOT NULL
                THEN row_number() OVER (PARTITION BY f.week_start IS NOT NULL ORDER BY k.p, k.l) END,
           f.sold_std_13, f.est_on_hand, f.on_order,
           a.lead_time_days, a.review_period_weeks, a.service_level, a.min_order_qty, a.order_multiple,
           a.discontinued, a.assorted, a.location_enabled
    FROM (SELECT DISTINCT k.p, k.l FROM unnest(p_product_ids, p_location_ids) AS k(p, l)
          WHERE k.p IS NOT NULL AND k.l IS NOT NULL) k
    LEFT JOIN LATERAL (SELECT f.week_start, f.sold_std_13, @value est_on_hand@ AS est_on_hand,
                              @value on_order@ AS on_order
                       FROM features f
                       WHERE f.product_id = k.p AND f.location_id = k.l AND f.week_start = v_end
                       OFFSET 0) f ON true
    LEFT JOIN LATERAL (SELECT a.lead_time_days, a.review_period_weeks, a.service_level, a.min_order_qty,
                              a.order_multiple, a.discontinued, a.assorted, a.location_enabled
                       FROM key_attributes a
                       WHERE f.week_start IS NOT NULL AND a.product_id = k.p AND a.location_id = k.l
                       OFFSET 0) a ON true;

    -- one kernel call for the batch: each key's units_sold over the last
    -- min(n, c_demand_weeks) weeks ending at end_week, keys in ord order, as
    -- one weekly series after another (docs/weekly-series.md): the key's
    -- sold tail when it ends at end_week (_private_feature_keys, migration t0010),
    -- else read from its stored rows
    SELECT b.product_ids, b.location_ids, b.review_period_weeks AS batch_review_period_weeks,
           b.service_level AS batch_service_level, r.* INTO v_out
    FROM (SELECT array_agg(a.product_id ORDER BY a.ord) AS product_ids,
                 array_agg(a.location_id ORDER BY a.ord) AS location_ids,
                 string_agg(coalesce(t.sold_tail, y.weeks), ''::bytea ORDER BY a.ord) AS y_flat,
                 array_agg(coalesce(octet_length(t.sold_tail) / 8, y.n) ORDER BY a.ord) AS lengths,
                 array_agg(a.sigma ORDER BY a.ord) AS sigma,
                 array_agg(a.est_on_hand ORDER BY a.ord) AS est_on_hand,
                 array_agg(a.on_order ORDER BY a.ord) AS on_order,
                 array_agg(a.lead_time_days ORDER BY a.ord) AS lead_time_days,
                 array_agg(a.review_period_weeks ORDER BY a.ord) AS review_period_weeks,
                 array_agg(a.service_level ORDER BY a.ord) AS service_level,
                 array_agg(a.min_order_qty ORDER BY a.ord) AS min_order_qty,
                 array_agg(a.order_multiple ORDER BY a.ord) AS order_multiple,
                 array_agg(a.discontinued ORDER BY a.ord) AS discontinued,
                 array_agg(a.assorted ORDER BY a.ord) AS assorted,
                 array_agg(a.location_enabled ORDER BY a.ord) AS location_enabled
          FROM _private_plan_batch a
          LEFT JOIN LATERAL (SELECT fk.sold_tail FROM _private_feature_keys fk
                             WHERE fk.product_id = a.product_id AND fk.location_id = a.location_id
                               AND fk.tail_week = v_end
                             OFFSET 0) t ON true
          CROSS JOIN LATERAL (
              -- a null units_sold would shift the weeks: float8send(NULL) adds
              -- nothing while count(*) counts it, and the kernel refuses the mismatch.
              -- The weeks come in order from a sorted subquery (it is not
              -- flattened, and the key index gives its order) rather than by
              -- ORDER BY in the aggregate, which sorts each key's weeks again;
              -- the read is index-only (the key index carries units_sold)
              SELECT count(*)::integer AS n, coalesce(string_agg(float8send(w.units_sold), ''::bytea), ''::bytea)
                         AS weeks
              FROM (SELECT f.units_sold FROM features f
                    WHERE t.sold_tail IS NULL
                      AND f.product_id = a.product_id AND f.location_id = a.location_id
                      AND f.week_start > v_end - 7 * c_demand_weeks AND f.week_start <= v_end
                    ORDER BY f.week_start) w) y
          WHERE a.runner = v_runner AND a.ord IS NOT NULL
          HAVING count(*) > 0) b
    CROSS JOIN LATERAL masterfile.forecast_batch(
        b.y_flat, b.lengths, b.sigma, b.est_on_hand, b.on_order, b.lead_time_days, b.review_period_weeks,
        b.service_level, b.min_order_qty, b.order_multiple, b.discontinued, b.assorted, b.location_enabled) r;

    -- recommendations of keys with features: only the pipeline's columns,
    -- counted by what the upsert returns: on Citus an INSERT whose rows come
    -- from no table of the tenant is pulled to the coordinator, and its
    -- ROW_COUNT is the rows offered, written or not
    WITH written AS (
    INSERT INTO recommendations AS r (product_id, location_id, as_of_week, demand_class, method,
                                      forecast_per_week, sigma, lead_time_weeks, review_period_weeks,
                                      service_level, z, safety_stock, order_up_to, inventory_position, raw_qty,
                                      recommended_qty, reason, qty_changed_at, computed_at)
    SELECT o.product_id, o.location_id, v_end, o.demand_class, o.method, o.forecast_per_week, o.sigma,
           o.lead_time_weeks, o.review_period_weeks::integer, o.service_level, o.z, o.safety_stock, o.order_up_to,
           o.inventory_position, o.raw_qty, o.recommended_qty, o.reason, v_now, v_now
    -- the keys and the kernel's results, element by element in ord order,
    -- joined to nothing: a join of the batch with the results on ord was
    -- planned on the batch table's statistics, which autovacuum mostly
    -- takes with the table empty (one row expected), and became a nested
    -- loop that scanned every result for every key: 1,000,000 comparisons
    -- a batch of 1,000, 68-80 s of a 10x roll (docs/benchmarks.md)
    FROM unnest(v_out.product_ids, v_out.location_ids, v_out.batch_review_period_weeks, v_out.batch_service_level,
                v_out.demand_class, v_out.method, v_out.forecast_per_week, v_out.sigma, v_out.lead_time_weeks,
                v_out.z, v_out.safety_stock, v_out.order_up_to, v_out.inventory_position, v_out.raw_qty,
                v_out.recommended_qty, v_out.reason)
        AS o(product_id, location_id, review_period_weeks, service_level, demand_class, method, forecast_per_week,
             sigma, lead_time_weeks, z, safety_stock, order_up_to, inventory_position, raw_qty, recommended_qty,
             reason)
    ON CONFLICT (product_id, location_id) DO UPDATE
    SET as_of_week = excluded.as_of_week, demand_class = excluded.demand_class, method = excluded.method,
        forecast_per_week = excluded.forecast_per_week, sigma = excluded.sigma,
        lead_time_weeks = excluded.lead_time_weeks, review_period_weeks = excluded.review_period_weeks,
        service_level = excluded.service_level, z = excluded.z, safety_stock = excluded.safety_stock,
        order_up_to = excluded.order_up_to, inventory_position = excluded.inventory_position,
        raw_qty = excluded.raw_qty, recommended_qty = excluded.recommended_qty, reason = excluded.reason,
        qty_changed_at = CASE WHEN r.recommended_qty IS DISTINCT FROM excluded.recommended_qty
                              THEN excluded.qty_changed_at ELSE r.qty_changed_at END,
        computed_at = excluded.computed_at
    WHERE (r.as_of_week, r.demand_class, r.method, r.forecast_per_week, r.sigma, r.lead_time_weeks,
           r.review_period_weeks, r.service_level, r.z, r.safety_stock, r.order_up_to, r.inventory_position,
           r.raw_qty, r.recommended_qty, r.reason)
          IS DISTINCT FROM
          (excluded.as_of_week, excluded.demand_class, excluded.method, excluded.forecast_per_week,
           excluded.sigma, excluded.lead_time_weeks, excluded.review_period_weeks, excluded.service_level,
           excluded.z, excluded.safety_stock, excluded.order_up_to, excluded.inventory_position,
           excluded.raw_qty, excluded.recommended_qty, excluded.reason)
    RETURNING 1)
    SELECT count(*) INTO v_n FROM written;
    v_written := v_written + v_n;

    -- keys without features at end_week: a row the UI has not touched goes;
    -- a decided one stays, inactive (read first, then deleted: on Citus a
    -- function called in a statement on the batch would run on the worker)
    SELECT array_agg(p.product_id), array_agg(p.location_id) INTO v_p, v_l
    FROM _private_plan_batch p WHERE p.runner = v_runner AND p.ord IS NULL;
    IF v_p IS NOT NULL THEN
        v_written := v_written + delete_undecided_recommendations(v_p, v_l);
    END IF;

    UPDATE recommendations r
    SET recommended_qty = 0, reason = 'inactive',
        qty_changed_at = CASE WHEN r.recommended_qty IS DISTINCT FROM 0::double precision
                              THEN v_now ELSE r.qty_changed_at END,
        computed_at = v_now
    FROM _private_plan_batch p
    WHERE p.runner = v_runner AND r.product_id = p.product_id AND r.location_id = p.location_id AND p.ord IS NULL
      AND (r.recommended_qty, r.reason) IS DISTINCT FROM (0::double precision, 'inactive');
    GET DIAGNOSTICS v_n = ROW_COUNT;
    v_written := v_written + v_n;

    DELETE FROM _private_plan_batch WHERE runner = v_runner;
    RETURN v_written;
END;
$$;

-- Whether the UI has spoken on a recommendation (its columns hold anything
-- but their defaults): such a row is never deleted. Columns rather than the
-- row type, so the table can still be dropped without this function.
CREATE OR REPLACE FUNCTION @extschema@.recommendation_has_decision(p_decision text, p_approved_qty double precision,
                                                       p_decided_by text, p_decided_at timestamptz, p_note text)
RETURNS boolean
LANGUAGE sql
IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, @extschema@, pg_temp
AS $$
    SELECT p_decision IS DISTINCT FROM 'pending' OR p_approved_qty IS NOT NULL OR p_decided_by IS NOT NULL
        OR p_decided_at IS NOT NULL OR p_note IS NOT NULL
$$;

-- How the pipeline deletes recommendations: the given keys' rows that hold
-- no decision. A decided row is kept by the table's trigger
-- (keep_decided_recommendations, below), whoever deletes. It runs as its
-- caller, the pipeline (it was the owner's, with no DELETE for the
-- pipeline; on Citus an owner's function after the pipeline's writes in one
-- transaction is refused: "placements modified by a different user").
CREATE OR REPLACE FUNCTION @extschema@.delete_undecided_recommendations(p_product_ids text[], p_location_ids text[])
RETURNS bigint
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE
SECURITY INVOKER
SET search_path = pg_catalog, @extschema@, pg_temp
AS $$
DECLARE
    v_n bigint;
BEGIN
    -- guarantees: deletes exactly the given keys' recommendations whose UI
    -- columns are at their defaults (a decision committed meanwhile is seen:
    -- the DELETE re-checks its condition on the row's latest version)
    DELETE FROM recommendations r
    USING unnest(p_product_ids, p_location_ids) AS k(p, l)
    WHERE r.product_id = k.p AND r.location_id = k.l
      AND NOT recommendation_has_decision(r.decision, r.approved_qty, r.decided_by, r.decided_at, r.note);
    GET DIAGNOSTICS v_n = ROW_COUNT;
    RETURN v_n;
END;
$$;

-- The database itself refuses to delete a decided row, whoever asks.
CREATE OR REPLACE FUNCTION @extschema@.refuse_deleting_decided_recommendation()
RETURNS trigger
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, @extschema@, pg_temp
AS $$
BEGIN
    -- fires only for rows holding a UI decision (see the trigger's WHEN)
    RAISE EXCEPTION 'recommendation (%, %) holds a UI decision and cannot be deleted',
        OLD.product_id, OLD.location_id
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$;

CREATE OR REPLACE TRIGGER keep_decided_recommendations BEFORE DELETE ON recommendations
FOR EACH ROW WHEN (recommendation_has_decision(OLD.decision, OLD.approved_qty, OLD.decided_by, OLD.decided_at,
                                                OLD.note))
EXECUTE FUNCTION refuse_deleting_decided_recommendation();
