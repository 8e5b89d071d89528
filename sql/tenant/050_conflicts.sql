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
--
-- Values are kept as each owner wrote them: erp_value is the ERP's (status
-- 'active', lead time '21'), ui_value the UI's ('true', '14'); `field` names the
-- UI's override column.

CREATE OR REPLACE FUNCTION @extschema@.record_conflicts_from_products()
RETURNS trigger
LANGUAGE plpgsql
VOLATILE SECURITY DEFINER PARALLEL UNSAFE
SET search_path = pg_catalog, @extschema@, pg_temp
AS $$
BEGIN
    -- guarantees: a conflicts row for each product this statement wrote whose
    -- status newly disagrees with ui_product_settings.discontinued
    IF TG_OP = 'INSERT' THEN
        INSERT INTO conflicts (entity, entity_key, field, erp_value, ui_value, erp_updated_at)
        SELECT 'product', n.product_id, 'discontinued', n.status, u.discontinued::text, n.updated_at
        FROM new_rows n
        JOIN ui_product_settings u ON u.product_id = n.product_id
        WHERE NOT n.deleted
          AND u.discontinued <> (n.status = 'discontinued')
        ON CONFLICT ON CONSTRAINT conflicts_one_per_erp_change DO NOTHING;
    ELSE
        INSERT INTO conflicts (entity, entity_key, field, erp_value, ui_value, erp_updated_at)
        SELECT 'product', n.product_id, 'discontinued', n.status, u.discontinued::text, n.updated_at
        FROM new_rows n
        JOIN old_rows o ON o.product_id = n.product_id
        JOIN ui_product_settings u ON u.product_id = n.product_id
        WHERE NOT n.deleted
          AND u.discontinued <> (n.status = 'discontinued')
          AND (o.deleted OR n.status IS DISTINCT FROM o.status
               OR NOT EXISTS (SELECT 1 FROM conflicts c
                              WHERE c.entity = 'product' AND c.entity_key = n.product_id
                                AND c.field = 'discontinued' AND c.detected_at >= u.updated_at))
        ON CONFLICT ON CONSTRAINT conflicts_one_per_erp_change DO NOTHING;
    END IF;
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION @extschema@.record_conflicts_from_locations()
RETURNS trigger
LANGUAGE plpgsql
VOLATILE SECURITY DEFINER PARALLEL UNSAFE
SET search_path = pg_catalog, @extschema@, pg_temp
AS $$
BEGIN
    -- guarantees: a conflicts row for each location this statement wrote whose
    -- status newly disagrees with ui_location_settings.enabled
    IF TG_OP = 'INSERT' THEN
        INSERT INTO conflicts (entity, entity_key, field, erp_value, ui_value, erp_updated_at)
        SELECT 'location', n.location_id, 'enabled', n.status, u.enabled::text, n.updated_at
        FROM new_rows n
        JOIN ui_location_settings u ON u.location_id = n.location_id
        WHERE NOT n.deleted
          AND u.enabled <> (n.status = 'open')
        ON CONFLICT ON CONSTRAINT conflicts_one_per_erp_change DO NOTHING;
    ELSE
        INSERT INTO conflicts (entity, entity_key, field, erp_value, ui_value, erp_updated_at)
        SELECT 'location', n.location_id, 'enabled', n.status, u.enabled::text, n.updated_at
        FROM new_rows n
        JOIN old_rows o ON o.location_id = n.location_id
        JOIN ui_location_settings u ON u.location_id = n.location_id
        WHERE NOT n.deleted
          AND u.enabled <> (n.status = 'open')
          AND (o.deleted OR n.status IS DISTINCT FROM o.status
               OR NOT EXISTS (SELECT 1 FROM conflicts c
                              WHERE c.entity = 'location' AND c.entity_key = n.location_id
                                AND c.field = 'enabled' AND c.detected_at >= u.updated_at))
        ON CONFLICT ON CONSTRAINT conflicts_one_per_erp_change DO NOTHING;
    END IF;
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION @extschema@.record_conflicts_from_suppliers()
RETURNS trigger
LANGUAGE plpgsql
VOLATILE SECURITY DEFINER PARALLEL UNSAFE
SET search_path = pg_catalog, @extschema@, pg_temp
AS $$
BEGIN
    -- guarantees: a conflicts row for each supplier this statement wrote and
    -- each field (lead_time_days, min_order_qty, order_multiple) whose value
    -- newly disagrees with the ui_supplier_settings override of that field
    IF TG_OP = 'INSERT' THEN
        INSERT INTO conflicts (entity, entity_key, field, erp_value, ui_value, erp_updated_at)
        SELECT 'supplier', n.supplier_id, f.field, f.erp_value, f.ui_value, n.updated_at
        FROM new_rows n
        JOIN ui_supplier_settings u ON u.supplier_id = n.supplier_id
        CROSS JOIN LATERAL (VALUES
            ('lead_time_days', n.lead_time_days::text, u.lead_time_days::text, n.lead_time_days <> u.lead_time_days),
            ('min_order_qty',  n.min_order_qty::text,  u.min_order_qty::text,  n.min_order_qty <> u.min_order_qty),
            ('order_multiple', n.order_multiple::text, u.order_multiple::text, n.order_multiple <> u.order_multiple)
        ) f (field, erp_value, ui_value, disagrees)
        WHERE NOT n.deleted AND f.disagrees
        ON CONFLICT ON CONSTRAINT conflicts_one_per_erp_change DO NOTHING;
    ELSE
        INSERT INTO conflicts (entity, entity_key, field, erp_value, ui_value, erp_updated_at)
        SELECT 'supplier', n.supplier_id, f.field, f.erp_value, f.ui_value, n.updated_at
        FROM new_rows n
        JOIN old_rows o ON o.supplier_id = n.supplier_id
        JOIN ui_supplier_settings u ON u.supplier_id = n.supplier_id
        CROSS JOIN LATERAL (VALUES
            ('lead_time_days', n.lead_time_days::text, u.lead_time_days::text, n.lead_time_days <> u.lead_time_days,
             n.lead_time_days IS DISTINCT FROM o.lead_time_days),
            ('min_order_qty',  n.min_order_qty::text,  u.min_order_qty::text,  n.min_order_qty <> u.min_order_qty,
             n.min_order_qty IS DISTINCT FROM o.min_order_qty),
            ('order_multiple', n.order_multiple::text, u.order_multiple::text, n.order_multiple <> u.order_multiple,
             n.order_multiple IS DISTINCT FROM o.order_multiple)
        ) f (field, erp_value, ui_value, disagrees, changed)
        WHERE NOT n.deleted AND f.disagrees
          AND (o.deleted OR f.changed
               OR NOT EXISTS (SELECT 1 FROM conflicts c
                              WHERE c.entity = 'supplier' AND c.entity_key = n.supplier_id
                                AND c.field = f.field AND c.detected_at >= u.updated_at))
        ON CONFLICT ON CONSTRAINT conflicts_one_per_erp_change DO NOTHING;
    END IF;
    RETURN NULL;
END;
$$;

-- per ERP table, its trigger function
SELECT @extschema@.attach_statement_triggers('erp_' || t.entities, 'conflicts_from_' || t.entities,
                                             'record_conflicts_from_' || t.entities, ARRAY[]::text[],
                                             ARRAY['INSERT', 'UPDATE'])
FROM unnest(ARRAY['products', 'locations', 'suppliers']) AS t(entities);
