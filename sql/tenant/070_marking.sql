-- Marking: everything that queues work is here. A change to a feature input
-- (an ERP line, as_of_date) queues the keys it touches from the earliest week
-- it affects, scope 'features'; a change that moves no feature but an
-- effective value or a setting (a ui_* row, settings, an ERP product,
-- location or supplier) queues the keys whose plans it affects, scope
-- 'plan'. Both happen in the same transaction as the change, by the
-- statement triggers attached at the end of this file: mark_dirty_on_<table>
-- and mark_plans_on_<table>. The pipeline itself queues the rest of a long
-- range (mark_continuations) and a move of end_week (check_end_week).

-- Tell the scheduler this tenant has queued work, in the marking
-- transaction: a row in masterfile.work_hints (row-level security keeps the
-- owner to its own schema).
CREATE OR REPLACE FUNCTION @extschema@.hint_work()
RETURNS void
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE
SECURITY DEFINER
SET search_path = pg_catalog, @extschema@, pg_temp
AS $$
BEGIN
    -- guarantees: a hint of this tenant committed with the caller's marks,
    -- where the control schema is (the listeners' wake-up is work_hints'
    -- own trigger, 040_scheduling.sql). On a Citus worker, where marking
    -- triggers run and the control schema is not, nothing: there the
    -- writers (the loader's batches, the API's edits, migrate) call it
    -- from their own session on the coordinator, and a cron dispatcher
    -- sweeps for the rest (docs/scale-out.md). It reads no tenant table: a
    -- definer function that did would reach the worker as another user
    -- than the writer's, which Citus refuses in one transaction
    IF pg_catalog.to_regclass('masterfile.work_hints') IS NULL THEN
        RETURN;
    END IF;
    INSERT INTO masterfile.work_hints (schema_name) VALUES ('@extschema@');
END;
$$;

-- After a turn of the scheduler: delete the hints up to p_max_hint, in one
-- statement that also sees the queue; while keys are still queued a new
-- hint takes their place at the back of the line (p_stalled: the turn made
-- no progress, e.g. its keys were locked, so not before 10 s from now).
-- Marks committed after the statement's snapshot have hints it cannot see,
-- and cannot delete.
CREATE OR REPLACE FUNCTION @extschema@.settle_work_hints(p_max_hint bigint, p_stalled boolean)
RETURNS void
-- PL/pgSQL, and the queue asked in a statement of its own: Citus plans no
-- statement of an SQL function that reads its parameters, and the queue
-- sits on the tenant's worker while the hints are the coordinator's
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE
SECURITY DEFINER
SET search_path = pg_catalog, @extschema@, pg_temp
AS $$
DECLARE
    v_queued boolean := EXISTS (SELECT 1 FROM _private_dirty_keys);
BEGIN
    -- guarantees: the tenant's hints up to p_max_hint are gone, and one
    -- new hint stands for what is still queued
    DELETE FROM masterfile.work_hints WHERE schema_name = '@extschema@' AND hint_id <= p_max_hint;
    IF v_queued THEN
        INSERT INTO masterfile.work_hints (schema_name, not_before)
        VALUES ('@extschema@', now() + CASE WHEN p_stalled THEN interval '10 seconds' ELSE interval '0' END);
    END IF;
END;
$$;

-- Queue keys from a week on (null week: from the key's first week).
-- Coalesces: a key that already waits, unclaimed, from an earlier or the
-- same week with a scope that covers this one is not queued again. A mark a
-- run has claimed (row-locked) does not count, since that run's snapshot may
-- predate this change; locking the covering mark FOR KEY SHARE keeps a run
-- from claiming and deleting it before this transaction commits.
CREATE OR REPLACE FUNCTION @extschema@.mark_keys(p_product_ids text[], p_location_ids text[], p_from_weeks date[], p_scope text)
RETURNS bigint
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE
SECURITY DEFINER
SET search_path = pg_catalog, @extschema@, pg_temp
AS $$
DECLARE
    v_p text[];
    v_l text[];
    v_w date[];
BEGIN
    -- guarantees: each given key is covered by an unclaimed mark; a hint when any was added.
    -- The keys to add are selected first and inserted from arrays: on Citus
    -- an INSERT ... SELECT joining unnest() with a tenant's table writes
    -- nothing (docs/scale-out.md), and the two steps cost the same here
    SELECT array_agg(c.p), array_agg(c.l), array_agg(c.w) INTO v_p, v_l, v_w
    FROM (SELECT k.p, k.l, CASE WHEN bool_or(k.w IS NULL) THEN NULL ELSE min(k.w) END AS w
          FROM unnest(p_product_ids, p_location_ids, p_from_weeks) AS k(p, l, w)
          WHERE k.p IS NOT NULL AND k.l IS NOT NULL
          GROUP BY k.p, k.l) c
    WHERE NOT EXISTS (
        SELECT 1 FROM _private_dirty_keys d
        WHERE d.product_id = c.p AND d.location_id = c.l
          AND (d.from_week IS NULL OR (c.w IS NOT NULL AND d.from_week <= c.w))
          AND (d.scope = 'features' OR p_scope = 'plan')
        FOR KEY SHARE SKIP LOCKED);
    IF v_p IS NULL THEN
        RETURN 0;
    END IF;
    INSERT INTO _private_dirty_keys (product_id, location_id, from_week, scope)
    SELECT k.p, k.l, k.w, p_scope FROM unnest(v_p, v_l, v_w) AS k(p, l, w);
    PERFORM hint_work();
    RETURN cardinality(v_p);
END;
$$;

-- Queue every key (a full rebuild from the given week, null: from the start).
CREATE OR REPLACE FUNCTION @extschema@.mark_all_keys(p_from_week date, p_scope text)
RETURNS void
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE
SECURITY DEFINER
SET search_path = pg_catalog, @extschema@, pg_temp
AS $$
BEGIN
    -- guarantees: one global mark, expanded into per-key marks by the next run
    INSERT INTO _private_dirty_keys (product_id, location_id, from_week, scope) VALUES (NULL, NULL, p_from_week, p_scope);
    PERFORM hint_work();
END;
$$;

-- The one query builder of the marking triggers: over a statement-level
-- trigger's transition tables, the p_out_cols of every row version whose
-- p_cols changed. An INSERT yields its new rows, a DELETE its old rows, an
-- UPDATE both sides of each row it changed, paired on p_join_cols (the
-- table's primary key: a row whose key moved is an old row and a new one).
-- A row with every p_cols null says nothing and yields nothing; nor does a
-- row version whose p_skip_col is true (a deleted line's week holds none of
-- its quantities).
CREATE OR REPLACE FUNCTION @extschema@.changed_rows_query(p_op text, p_join_cols text[], p_cols text[],
                                                          p_out_cols text[], p_skip_col text DEFAULT NULL)
RETURNS text
LANGUAGE sql
IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, @extschema@, pg_temp
AS $$
    SELECT CASE
        WHEN p_op IN ('INSERT', 'DELETE') THEN format(
            'SELECT %1$s FROM %2$s x WHERE (%3$s) IS DISTINCT FROM (%4$s)%5$s',
            (SELECT string_agg(format('x.%I', c), ', ') FROM unnest(p_out_cols) AS u(c)),
            CASE WHEN p_op = 'INSERT' THEN 'new_rows' ELSE 'old_rows' END,
            (SELECT string_agg(format('x.%I', c), ', ') FROM unnest(p_cols) AS u(c)),
            array_to_string(array_fill('NULL'::text, ARRAY[cardinality(p_cols)]), ', '),
            CASE WHEN p_skip_col IS NOT NULL THEN format(' AND NOT x.%I', p_skip_col) ELSE '' END)
        ELSE format(
            'WITH c AS (SELECT %1$s, %2$s FROM old_rows o FULL JOIN new_rows n ON %3$s'
            '           WHERE (%4$s) IS DISTINCT FROM (%5$s))'
            ' SELECT %6$s FROM c WHERE o_present%7$s UNION ALL SELECT %8$s FROM c WHERE n_present%9$s',
            (SELECT string_agg(format('o.%I AS o_%s', c, i), ', ') FROM unnest(p_out_cols) WITH ORDINALITY AS u(c, i))
                || format(', o.%I IS NOT NULL AS o_present', p_join_cols[1])
                || CASE WHEN p_skip_col IS NOT NULL THEN format(', o.%I AS o_skip', p_skip_col) ELSE '' END,
            (SELECT string_agg(format('n.%I AS n_%s', c, i), ', ') FROM unnest(p_out_cols) WITH ORDINALITY AS u(c, i))
                || format(', n.%I IS NOT NULL AS n_present', p_join_cols[1])
                || CASE WHEN p_skip_col IS NOT NULL THEN format(', n.%I AS n_skip', p_skip_col) ELSE '' END,
            (SELECT string_agg(format('o.%1$I = n.%1$I', c), ' AND ') FROM unnest(p_join_cols) AS u(c)),
            (SELECT string_agg(format('o.%I', c), ', ') FROM unnest(p_cols) AS u(c)),
            (SELECT string_agg(format('n.%I', c), ', ') FROM unnest(p_cols) AS u(c)),
            (SELECT string_agg(format('o_%s AS %I', i, c), ', ') FROM unnest(p_out_cols) WITH ORDINALITY AS u(c, i)),
            CASE WHEN p_skip_col IS NOT NULL THEN ' AND NOT o_skip' ELSE '' END,
            (SELECT string_agg(format('n_%s', i), ', ') FROM unnest(p_out_cols) WITH ORDINALITY AS u(c, i)),
            CASE WHEN p_skip_col IS NOT NULL THEN ' AND NOT n_skip' ELSE '' END)
    END
$$;

-- Whether end_week has moved since the pipeline last accounted for it (the
-- scheduler asks before it starts a tenant's turn; check_end_week acts on it).
-- end_week() is asked in a statement of its own: within a statement on a
-- tenant's table it would run on the tenant's Citus worker, as a nested
-- distributed query, which Citus refuses.
CREATE OR REPLACE FUNCTION @extschema@.end_week_moved()
RETURNS boolean
LANGUAGE plpgsql
STABLE PARALLEL SAFE
SET search_path = pg_catalog, @extschema@, pg_temp
AS $$
DECLARE
    v_end date := end_week();
BEGIN
    -- guarantees: true exactly when the accounted end_week is not end_week()
    RETURN (SELECT end_week FROM _private_pipeline_state) IS DISTINCT FROM v_end;
END;
$$;

-- When end_week moved (as_of_date set, or the calendar rolled with it null),
-- queue every key from the first week added or removed.
CREATE OR REPLACE FUNCTION @extschema@.check_end_week()
RETURNS void
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, @extschema@, pg_temp
AS $$
DECLARE
    v_now  date;
    v_then date;
BEGIN
    -- guarantees: _private_pipeline_state.end_week = end_week(), and the move is queued
    -- (the row is locked only when it must change: every batch of every
    -- runner passes here, and a lock held to its commit would serialise them)
    IF NOT end_week_moved() THEN
        RETURN;
    END IF;
    v_now := end_week();
    SELECT end_week INTO v_then FROM _private_pipeline_state FOR UPDATE;
    IF v_then IS DISTINCT FROM v_now THEN
        IF v_then IS NOT NULL THEN
            PERFORM mark_all_keys(least(v_then, v_now) + 7, 'features');
        END IF;
        UPDATE _private_pipeline_state SET end_week = v_now;
    END IF;
END;
$$;

-- A range longer than a batch computes goes on in a later batch: the
-- pipeline queues each such key from the week after the last one it wrote.
-- No hint: the run that writes it is still draining the queue.
CREATE OR REPLACE FUNCTION @extschema@.mark_continuations(p_product_ids text[], p_location_ids text[],
                                                          p_from_weeks date[])
RETURNS void
-- PL/pgSQL: Citus plans no statement of an SQL function that reads its
-- parameters ("could not create distributed plan")
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, @extschema@, pg_temp
AS $$
BEGIN
    -- guarantees: a features mark per given key, from its given week
    INSERT INTO _private_dirty_keys (product_id, location_id, from_week, scope)
    SELECT p, l, w, 'features' FROM unnest(p_product_ids, p_location_ids, p_from_weeks) AS k(p, l, w);
END;
$$;

-- Statement-level trigger on an ERP line table. Arguments: the line's date
-- column, its key columns, and the columns that feed features (a change of
-- any other column, e.g. load_id alone, marks nothing).
CREATE OR REPLACE FUNCTION @extschema@.mark_dirty_from_lines()
RETURNS trigger
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE
SECURITY DEFINER
SET search_path = pg_catalog, @extschema@, pg_temp
AS $$
DECLARE
    v_date text := TG_ARGV[0];
    v_p    text[];
    v_l    text[];
    v_w    date[];
BEGIN
    -- guarantees: every key whose feature inputs changed is marked from the
    -- earliest week touched, on both sides of a line that moved
    IF TG_OP = 'TRUNCATE' THEN
        PERFORM mark_all_keys(NULL, 'features');
        RETURN NULL;
    END IF;
    EXECUTE format('SELECT array_agg(product_id), array_agg(location_id), array_agg(w)'
                   ' FROM (SELECT product_id, location_id, date_trunc(''week'', min(d))::date AS w'
                   '       FROM (%s) x(product_id, location_id, d) GROUP BY 1, 2) k',
                   changed_rows_query(TG_OP, string_to_array(TG_ARGV[1], ','), string_to_array(TG_ARGV[2], ','),
                                      ARRAY['product_id', 'location_id', v_date], 'deleted'))
        INTO v_p, v_l, v_w;
    IF v_p IS NOT NULL THEN
        PERFORM mark_keys(v_p, v_l, v_w, 'features');
    END IF;
    RETURN NULL;
END;
$$;

-- the line tables: date column, key columns, feature input columns
SELECT @extschema@.attach_statement_triggers(t.tbl, 'mark_dirty_on', 'mark_dirty_from_lines',
                                             ARRAY[t.date_col, t.pk, t.cols])
FROM (VALUES
    ('erp_sales_lines', 'business_date', 'txn_id,line_no',
     'product_id,location_id,business_date,qty,net_amount,deleted'),
    ('erp_receipt_lines', 'received_date', 'receipt_id,line_no',
     'product_id,location_id,received_date,qty_received,deleted'),
    ('erp_purchase_order_lines', 'order_date', 'po_id,line_no',
     'product_id,location_id,order_date,qty_ordered,status,deleted'),
    ('erp_invoice_lines', 'invoice_date', 'invoice_id,line_no',
     'product_id,location_id,invoice_date,qty_invoiced,line_amount,deleted')
) AS t(tbl, date_col, pk, cols);

-- Plan marking: keys are those of _private_feature_keys; a change that leaves every
-- plan-relevant column as it was marks nothing.

-- Queue the given keys for their plans only.
CREATE OR REPLACE FUNCTION @extschema@.mark_plans(p_product_ids text[], p_location_ids text[])
RETURNS void
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, @extschema@, pg_temp
AS $$
BEGIN
    -- guarantees: every given key is queued with scope 'plan' (or already covered)
    IF cardinality(p_product_ids) > 0 THEN
        PERFORM mark_keys(p_product_ids, p_location_ids,
                          array_fill(NULL::date, ARRAY[cardinality(p_product_ids)]), 'plan');
    END IF;
END;
$$;

-- A row of master data: every key it affects. TG_ARGV[0]: the plan-relevant
-- columns; TG_ARGV[1]: the row's key columns, as _private_feature_keys has them
-- (product_id: erp_products, ui_product_settings, every key of the product;
-- location_id: erp_locations, ui_location_settings, every key at the
-- location; product_id,location_id: ui_assortments, the key itself), or
-- supplier_id (erp_suppliers, ui_supplier_settings: every key of the
-- supplier's products, erp_products.supplier_id as effective_products reads
-- it).
CREATE OR REPLACE FUNCTION @extschema@.mark_plans_from_master_data()
RETURNS trigger
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE
SECURITY DEFINER
SET search_path = pg_catalog, @extschema@, pg_temp
AS $$
DECLARE
    v_keys    text[] := string_to_array(TG_ARGV[1], ',');
    v_a       text[];
    v_b       text[];
    v_p       text[];
    v_l       text[];
BEGIN
    -- guarantees: each known key affected by a row whose plan-relevant columns changed is queued for its plan
    IF TG_OP = 'TRUNCATE' THEN
        PERFORM mark_all_keys(NULL, 'plan');
        RETURN NULL;
    END IF;
    -- the changed rows' keys first, from the transition tables alone; then
    -- the keys they affect: on Citus a trigger runs on the tenant's worker,
    -- which cannot join a transition table with a tenant's table
    EXECUTE format('SELECT array_agg(x.%1$I)%2$s FROM (SELECT DISTINCT * FROM (%3$s) x) x',
                   v_keys[1],
                   CASE WHEN cardinality(v_keys) > 1 THEN format(', array_agg(x.%I)', v_keys[2]) ELSE '' END,
                   changed_rows_query(TG_OP, v_keys, string_to_array(TG_ARGV[0], ','), v_keys))
        INTO v_a, v_b;
    IF v_a IS NULL THEN
        RETURN NULL;
    END IF;
    -- a supplier's rows affect the keys of its products (as effective_products reads erp_products.supplier_id)
    IF v_keys = ARRAY['supplier_id'] THEN
        SELECT array_agg(p.product_id) INTO v_a FROM erp_products p WHERE p.supplier_id = ANY (v_a) AND NOT p.deleted;
        v_keys := ARRAY['product_id'];
    END IF;
    -- the known keys of those products, locations or keys (v_b: the locations of keys, else null);
    -- both sides of an update, or several suppliers' products, name a key more than once
    EXECUTE format('SELECT array_agg(k.product_id), array_agg(k.location_id) FROM _private_feature_keys k'
                   ' JOIN (SELECT DISTINCT * FROM unnest($1, $2)) x(%s) USING (%s)',
                   (SELECT string_agg(format('%I', c), ', ') FROM unnest(v_keys || CASE WHEN cardinality(v_keys) = 1
                                                                    THEN ARRAY['unused'] END) AS u(c)),
                   (SELECT string_agg(format('%I', c), ', ') FROM unnest(v_keys) AS u(c)))
        INTO v_p, v_l USING v_a, v_b;
    PERFORM mark_plans(v_p, v_l);
    RETURN NULL;
END;
$$;

-- settings: a default (service level, lead time) queues every key (the
-- horizon needs no work: the forecasts view reads it); as_of_date is the
-- pipeline's own check (check_end_week), which a listening worker is told to
-- run now.
CREATE OR REPLACE FUNCTION @extschema@.mark_plans_from_settings()
RETURNS trigger
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE
SECURITY DEFINER
SET search_path = pg_catalog, @extschema@, pg_temp
AS $$
BEGIN
    -- guarantees: every key is queued for its plan when a plan-relevant setting changed
    IF EXISTS (SELECT 1 FROM old_rows o JOIN new_rows n USING (singleton)
               WHERE (o.default_service_level, o.default_lead_time_days)
                     IS DISTINCT FROM (n.default_service_level, n.default_lead_time_days)) THEN
        PERFORM mark_all_keys(NULL, 'plan');
    END IF;
    IF EXISTS (SELECT 1 FROM old_rows o JOIN new_rows n USING (singleton)
               WHERE o.as_of_date IS DISTINCT FROM n.as_of_date) THEN
        PERFORM hint_work();
    END IF;
    RETURN NULL;
END;
$$;

SELECT @extschema@.attach_statement_triggers(t.tbl, 'mark_plans_on', 'mark_plans_from_master_data',
                                             ARRAY[t.cols, t.key_cols])
FROM (VALUES
    ('erp_products', 'supplier_id,status,deleted', 'product_id'),
    ('ui_product_settings', 'discontinued,service_level', 'product_id'),
    ('erp_locations', 'status,deleted', 'location_id'),
    ('ui_location_settings', 'enabled', 'location_id'),
    ('erp_suppliers', 'lead_time_days,min_order_qty,order_multiple,deleted', 'supplier_id'),
    ('ui_supplier_settings', 'lead_time_days,min_order_qty,order_multiple,review_period_weeks', 'supplier_id'),
    ('ui_assortments', 'assorted', 'product_id,location_id')
) AS t(tbl, cols, key_cols);
SELECT @extschema@.attach_statement_triggers('settings', 'mark_plans_on', 'mark_plans_from_settings', ARRAY[]::text[],
                                             ARRAY['UPDATE']);

-- A move of as_of_date marks, in the same transaction, every key from the
-- first week the move adds or removes (check_end_week does the work and
-- records the end_week now accounted for; a run repeats the check for
-- calendar rolls while as_of_date is null).
CREATE OR REPLACE FUNCTION @extschema@.mark_dirty_from_as_of_date()
RETURNS trigger
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE
SECURITY DEFINER
SET search_path = pg_catalog, @extschema@, pg_temp
AS $$
BEGIN
    -- guarantees: the weeks between the old and the new end_week are queued
    PERFORM check_end_week();
    RETURN NULL;
END;
$$;

CREATE OR REPLACE TRIGGER mark_dirty_on_as_of_date AFTER UPDATE OF as_of_date ON settings
    FOR EACH ROW WHEN (OLD.as_of_date IS DISTINCT FROM NEW.as_of_date)
    EXECUTE FUNCTION mark_dirty_from_as_of_date();
