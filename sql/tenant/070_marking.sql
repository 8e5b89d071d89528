-- Dirty marking: every change to a feature input queues the keys it touches,
-- in the same transaction as the change.

-- Tell the scheduler this tenant has queued work, in the marking
-- transaction: a row in masterfile.work_hints (row-level security keeps the
-- owner to its own schema) and a wake-up for listening workers. The
-- notification carries nothing: any role can send one on any channel, so a
-- worker trusts only the hints and the queue.
CREATE OR REPLACE FUNCTION @extschema@.hint_work()
RETURNS void
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE
SECURITY DEFINER
SET search_path = pg_catalog, @extschema@, pg_temp
AS $$
BEGIN
    -- guarantees: a hint of this tenant committed with the caller's marks
    INSERT INTO masterfile.work_hints (schema_name) VALUES ('@extschema@');
    PERFORM pg_notify('masterfile_dirty', '');
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
LANGUAGE sql
VOLATILE PARALLEL UNSAFE
SECURITY DEFINER
SET search_path = pg_catalog, @extschema@, pg_temp
AS $$
    WITH requeued AS (
        INSERT INTO masterfile.work_hints (schema_name, not_before)
        SELECT '@extschema@', now() + CASE WHEN p_stalled THEN interval '10 seconds' ELSE interval '0' END
        WHERE EXISTS (SELECT 1 FROM dirty_keys)
        RETURNING 1
    )
    DELETE FROM masterfile.work_hints WHERE schema_name = '@extschema@' AND hint_id <= p_max_hint
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
    v_n bigint;
BEGIN
    -- guarantees: each given key is covered by an unclaimed mark; NOTIFY when any was added
    INSERT INTO dirty_keys (product_id, location_id, from_week, scope)
    SELECT c.p, c.l, c.w, p_scope
    FROM (SELECT k.p, k.l, CASE WHEN bool_or(k.w IS NULL) THEN NULL ELSE min(k.w) END AS w
          FROM unnest(p_product_ids, p_location_ids, p_from_weeks) AS k(p, l, w)
          WHERE k.p IS NOT NULL AND k.l IS NOT NULL
          GROUP BY k.p, k.l) c
    WHERE NOT EXISTS (
        SELECT 1 FROM dirty_keys d
        WHERE d.product_id = c.p AND d.location_id = c.l
          AND (d.from_week IS NULL OR (c.w IS NOT NULL AND d.from_week <= c.w))
          AND (d.scope = 'features' OR p_scope = 'plan')
        FOR KEY SHARE SKIP LOCKED);
    GET DIAGNOSTICS v_n = ROW_COUNT;
    IF v_n > 0 THEN
        PERFORM hint_work();
    END IF;
    RETURN v_n;
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
    INSERT INTO dirty_keys (product_id, location_id, from_week, scope) VALUES (NULL, NULL, p_from_week, p_scope);
    PERFORM hint_work();
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
    v_date  text := TG_ARGV[0];
    v_pk    text[] := string_to_array(TG_ARGV[1], ',');
    v_cols  text[] := string_to_array(TG_ARGV[2], ',');
    v_sql   text;
    v_p     text[];
    v_l     text[];
    v_w     date[];
BEGIN
    -- guarantees: every key whose feature inputs changed is marked from the
    -- earliest week touched, on both sides of a line that moved
    IF TG_OP = 'TRUNCATE' THEN
        PERFORM mark_all_keys(NULL, 'features');
        RETURN NULL;
    ELSIF TG_OP = 'INSERT' THEN
        v_sql := format('SELECT product_id, location_id, %I AS d FROM new_rows WHERE NOT deleted', v_date);
    ELSIF TG_OP = 'DELETE' THEN
        v_sql := format('SELECT product_id, location_id, %I AS d FROM old_rows WHERE NOT deleted', v_date);
    ELSE
        v_sql := format(
            'WITH changed AS (SELECT o.product_id AS op, o.location_id AS ol, o.%1$I AS od, o.deleted AS odel,'
            '                        n.product_id AS np, n.location_id AS nl, n.%1$I AS nd, n.deleted AS ndel'
            '                 FROM old_rows o JOIN new_rows n ON %2$s WHERE (%3$s) IS DISTINCT FROM (%4$s))'
            ' SELECT op, ol, od FROM changed WHERE NOT odel'
            ' UNION ALL SELECT np, nl, nd FROM changed WHERE NOT ndel',
            v_date,
            (SELECT string_agg(format('o.%1$I = n.%1$I', c), ' AND ') FROM unnest(v_pk) c),
            (SELECT string_agg(format('o.%I', c), ', ') FROM unnest(v_cols) c),
            (SELECT string_agg(format('n.%I', c), ', ') FROM unnest(v_cols) c));
    END IF;
    EXECUTE format('SELECT array_agg(product_id), array_agg(location_id), array_agg(w)'
                   ' FROM (SELECT product_id, location_id, date_trunc(''week'', min(d))::date AS w'
                   '       FROM (%s) x(product_id, location_id, d) GROUP BY 1, 2) k', v_sql)
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
