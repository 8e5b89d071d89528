-- Plan marking: a change that moves no feature but an effective value or a
-- setting (a ui_* row, settings, an ERP product, location or supplier) queues
-- the keys whose forecasts or recommendations it affects, scope 'plan', in the
-- same transaction as the change. Keys are those of feature_keys; a change
-- that leaves every plan-relevant column as it was marks nothing.

-- The query, over a statement-level trigger's transition tables, that yields
-- the key values (p_key_cols) of the rows whose p_cols changed. Both sides
-- are joined on the key, so an INSERT compares with an absent (all-null) row,
-- a DELETE with an absent new row, and an UPDATE that moves a key marks both.
CREATE OR REPLACE FUNCTION @extschema@.plan_changes_query(p_op text, p_key_cols text[], p_cols text[])
RETURNS text
LANGUAGE sql
IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, @extschema@, pg_temp
AS $$
    SELECT format(
        'WITH c AS (SELECT %1$s, %2$s FROM %3$s o FULL JOIN %4$s n ON %5$s WHERE (%6$s) IS DISTINCT FROM (%7$s))'
        ' SELECT %8$s FROM c WHERE o_1 IS NOT NULL UNION SELECT %9$s FROM c WHERE n_1 IS NOT NULL',
        (SELECT string_agg(format('o.%I AS o_%s', c, i), ', ') FROM unnest(p_key_cols) WITH ORDINALITY AS u(c, i)),
        (SELECT string_agg(format('n.%I AS n_%s', c, i), ', ') FROM unnest(p_key_cols) WITH ORDINALITY AS u(c, i)),
        CASE WHEN p_op = 'INSERT' THEN '(SELECT * FROM new_rows WHERE false)' ELSE 'old_rows' END,
        CASE WHEN p_op = 'DELETE' THEN '(SELECT * FROM old_rows WHERE false)' ELSE 'new_rows' END,
        (SELECT string_agg(format('o.%1$I = n.%1$I', c), ' AND ') FROM unnest(p_key_cols) AS u(c)),
        (SELECT string_agg(format('o.%I', c), ', ') FROM unnest(p_cols) AS u(c)),
        (SELECT string_agg(format('n.%I', c), ', ') FROM unnest(p_cols) AS u(c)),
        (SELECT string_agg(format('o_%s AS %I', i, c), ', ') FROM unnest(p_key_cols) WITH ORDINALITY AS u(c, i)),
        (SELECT string_agg(format('n_%s', i), ', ') FROM unnest(p_key_cols) WITH ORDINALITY AS u(c, i)))
$$;

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
-- columns; TG_ARGV[1]: the row's key columns, as feature_keys has them
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
    v_changed text;
    v_p       text[];
    v_l       text[];
BEGIN
    -- guarantees: each known key affected by a row whose plan-relevant columns changed is queued for its plan
    IF TG_OP = 'TRUNCATE' THEN
        PERFORM mark_all_keys(NULL, 'plan');
        RETURN NULL;
    END IF;
    v_changed := plan_changes_query(TG_OP, v_keys, string_to_array(TG_ARGV[0], ','));
    IF v_keys = ARRAY['supplier_id'] THEN
        v_changed := format('SELECT p.product_id FROM (%s) x JOIN erp_products p USING (supplier_id)'
                            ' WHERE NOT p.deleted', v_changed);
        v_keys := ARRAY['product_id'];
    END IF;
    EXECUTE format('SELECT array_agg(k.product_id), array_agg(k.location_id)'
                   ' FROM (%s) x JOIN feature_keys k USING (%s)',
                   v_changed, (SELECT string_agg(format('%I', c), ', ') FROM unnest(v_keys) AS u(c)))
        INTO v_p, v_l;
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
