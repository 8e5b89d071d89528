-- Conflicts: the ERP sends a value that a UI override of the same fact
-- contradicts. The UI value stays effective (040_effective.sql); a row in
-- `conflicts` lets the UI show the disagreement.
--
-- A load that writes an ERP record whose value disagrees with a non-null
-- override records a row when the disagreement is news:
--   - the record is new, revived from a tombstone, or its value changed; or
--   - the value is unchanged but no conflict of that fact was recorded since
--     the override was last set (the user overrode what the ERP said, and the
--     ERP has now sent it again: said once, not at every nightly reload).
-- A replay writes no ERP row (the loader skips an equal updated_at), and the
-- unique (entity, entity_key, field, erp_updated_at) guards it once more.
-- Tombstones and null ERP values contradict nothing.
--
-- Statement-level triggers with transition tables: one set-based INSERT per
-- load statement. A trigger with transition tables takes a single event, and an
-- INSERT ... ON CONFLICT DO UPDATE shows its inserted rows to the INSERT trigger
-- and its updated rows to the UPDATE trigger, so each table has both.
-- SECURITY DEFINER: the loader may write erp_* only, the owner writes the row.
-- One trigger function serves every entity; its trigger arguments name the
-- entity and its facts, so the query is written once for INSERT and UPDATE.
--
-- Values are kept as each owner wrote them: erp_value is the ERP's (status
-- 'active', lead time '21'), ui_value the UI's ('true', '14'); `field` names the
-- UI's override column.

-- Trigger arguments: the entity ('product'), its key column, its ui_* table,
-- then a triple per fact: the UI's override column (conflicts.field), the ERP
-- column it overrides, and the ERP value that means true when the override is
-- a boolean (status 'discontinued' is discontinued = true), '' when both
-- columns hold the same kind of value.
-- An INSERT compares with an absent old row (every value is news); an UPDATE
-- joins its old row on the key.
CREATE OR REPLACE FUNCTION @extschema@.record_conflicts_from_erp()
RETURNS trigger
LANGUAGE plpgsql
VOLATILE SECURITY DEFINER PARALLEL UNSAFE
SET search_path = pg_catalog, @extschema@, pg_temp
AS $$
DECLARE
    v_entity  text := TG_ARGV[0];
    v_key     text := TG_ARGV[1];
    v_ui      text := TG_ARGV[2];
    v_fields  text[];
    v_trues   text[];
    v_facts   text;
    v_new     jsonb;
    v_old     jsonb;
    v_keys    text[];
    v_fields_out text[];
    v_erp     text[];
    v_ui_values text[];
    v_at      timestamptz[];
BEGIN
    -- guarantees: a conflicts row for each record this statement wrote and
    -- each fact whose ERP value newly disagrees with its non-null UI override
    SELECT array_agg(TG_ARGV[i] ORDER BY i), array_agg(TG_ARGV[i + 2] ORDER BY i),
           string_agg(format(
               CASE WHEN TG_ARGV[i + 2] = ''
                    THEN '($1[%1$s], n.%3$I::text, u.%2$I::text, n.%3$I <> u.%2$I, n.%3$I IS DISTINCT FROM o.%3$I)'
                    ELSE '($1[%1$s], n.%3$I::text, u.%2$I::text, u.%2$I <> (n.%3$I = $2[%1$s]),'
                         ' n.%3$I IS DISTINCT FROM o.%3$I)' END,
               (i - 3) / 3 + 1, TG_ARGV[i], TG_ARGV[i + 1]), ', ' ORDER BY i)
    INTO v_fields, v_trues, v_facts
    FROM generate_series(3, TG_NARGS - 1, 3) AS i;
    -- three steps, each a statement a Citus worker runs (the trigger runs on
    -- the tenant's worker there, docs/scale-out.md): the statement's rows out
    -- of the transition tables; the conflicts they raise, read against the
    -- tenant's tables; then the insert, from arrays
    EXECUTE 'SELECT jsonb_agg(to_jsonb(n)) FROM new_rows n' INTO v_new;
    IF TG_OP = 'UPDATE' THEN
        EXECUTE 'SELECT jsonb_agg(to_jsonb(o)) FROM old_rows o' INTO v_old;
    END IF;
    IF v_new IS NULL THEN
        RETURN NULL;
    END IF;
    EXECUTE format(
        'SELECT array_agg(n.%1$I), array_agg(f.field), array_agg(f.erp_value), array_agg(f.ui_value),'
        '       array_agg(n.updated_at)'
        ' FROM jsonb_populate_recordset(NULL::%5$I, $4) n'
        ' LEFT JOIN jsonb_populate_recordset(NULL::%5$I, $5) o ON o.%1$I = n.%1$I'
        ' JOIN %2$I u ON u.%1$I = n.%1$I'
        ' CROSS JOIN LATERAL (VALUES %4$s) f (field, erp_value, ui_value, disagrees, changed)'
        ' WHERE NOT n.deleted AND f.disagrees %3$s'
        '   AND (o.%1$I IS NULL OR o.deleted OR f.changed'
        '        OR NOT EXISTS (SELECT 1 FROM conflicts c'
        '                       WHERE c.entity = $3 AND c.entity_key = n.%1$I'
        '                         AND c.field = f.field AND c.detected_at >= u.updated_at))',
        v_key, v_ui,
        -- an UPDATE pairs each new row with its old one
        CASE WHEN TG_OP = 'UPDATE' THEN format('AND o.%I IS NOT NULL', v_key) ELSE '' END,
        v_facts, TG_TABLE_NAME)
        INTO v_keys, v_fields_out, v_erp, v_ui_values, v_at
        USING v_fields, v_trues, v_entity, v_new, coalesce(v_old, '[]'::jsonb);
    IF v_keys IS NOT NULL THEN
        INSERT INTO conflicts (entity, entity_key, field, erp_value, ui_value, erp_updated_at)
        SELECT v_entity, k, f, e, u, a FROM unnest(v_keys, v_fields_out, v_erp, v_ui_values, v_at) AS x(k, f, e, u, a)
        ON CONFLICT ON CONSTRAINT conflicts_one_per_erp_change DO NOTHING;
    END IF;
    RETURN NULL;
END;
$$;

-- per ERP table: the trigger arguments (see above)
SELECT @extschema@.attach_statement_triggers(t.tbl, 'conflicts_from_' || t.entities, 'record_conflicts_from_erp',
                                             t.args, ARRAY['INSERT', 'UPDATE'])
FROM (VALUES
    ('erp_products', 'products',
     ARRAY['product', 'product_id', 'ui_product_settings', 'discontinued', 'status', 'discontinued']),
    ('erp_locations', 'locations',
     ARRAY['location', 'location_id', 'ui_location_settings', 'enabled', 'status', 'open']),
    ('erp_suppliers', 'suppliers',
     ARRAY['supplier', 'supplier_id', 'ui_supplier_settings', 'lead_time_days', 'lead_time_days', '',
           'min_order_qty', 'min_order_qty', '', 'order_multiple', 'order_multiple', ''])
) AS t(tbl, entities, args);
