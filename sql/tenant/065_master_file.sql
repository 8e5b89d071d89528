-- The master file: the features of each key-week joined with the effective
-- attributes of each key as they are now (features.md). Attributes are joined, never
-- copied into feature rows, so a metadata correction rewrites no row. The
-- feature columns are the declaration's, in its order
-- (sql/control/015_features_declared.sql): a migration that adds one drops
-- this view, and the reload makes it again with the new column in place.

-- The 13 effective attributes of every known key, with the contract's
-- defaults where the ERP or the UI has said nothing about the entity. This
-- is the one place those defaults are completed: the master file and the
-- plans (090) read it. Each entity is looked up by its id in a LATERAL
-- subquery kept apart by OFFSET 0, so a read of a few keys (one key's
-- master file, a batch of plans) probes the tables' keys instead of
-- gathering every supplier or location.
CREATE OR REPLACE VIEW @extschema@.key_attributes AS
SELECT k.product_id,
       k.location_id,
       p.category,
       p.brand,
       p.supplier_id,
       p.unit_price,
       p.unit_cost,
       coalesce(p.discontinued, false) AS discontinued,
       coalesce(a.assorted, true) AS assorted,
       coalesce(l.location_enabled, true) AS location_enabled,
       coalesce(s.lead_time_days, st.default_lead_time_days) AS lead_time_days,
       coalesce(s.min_order_qty, 1)::double precision AS min_order_qty,
       coalesce(s.order_multiple, 1)::double precision AS order_multiple,
       coalesce(s.review_period_weeks, 1) AS review_period_weeks,
       coalesce(p.service_level, st.default_service_level)::double precision AS service_level
FROM _private_feature_keys k
CROSS JOIN settings st
LEFT JOIN LATERAL (SELECT e.category, e.brand, e.supplier_id, e.unit_price, e.unit_cost, e.discontinued,
                          e.service_level
                   FROM effective_products e WHERE e.product_id = k.product_id OFFSET 0) p ON true
LEFT JOIN LATERAL (SELECT e.location_enabled
                   FROM effective_locations e WHERE e.location_id = k.location_id OFFSET 0) l ON true
LEFT JOIN LATERAL (SELECT e.lead_time_days, e.min_order_qty, e.order_multiple, e.review_period_weeks
                   FROM effective_suppliers e WHERE e.supplier_id = p.supplier_id OFFSET 0) s ON true
LEFT JOIN LATERAL (SELECT e.assorted
                   FROM effective_assortments e
                   WHERE e.product_id = k.product_id AND e.location_id = k.location_id OFFSET 0) a ON true;

CREATE OR REPLACE VIEW @extschema@.master_file AS
SELECT
    f.product_id,
    f.location_id,
    f.week_start,
    extract(isoyear FROM f.week_start)::integer AS iso_year,
    extract(week FROM f.week_start)::integer AS iso_week,
    extract(month FROM f.week_start)::integer AS month,
    extract(quarter FROM f.week_start)::integer AS quarter,
    -- the features, as sql/control/015_features_declared.sql declares them:
    -- a stored column, or the expression of a kind derived from other
    -- features of the same row (on_hand, on_order, cover, avg_price)
    @all_features {value} AS {name}@,
    a.category,
    a.brand,
    a.supplier_id,
    a.unit_price,
    a.unit_cost,
    a.discontinued,
    a.assorted,
    a.location_enabled,
    a.lead_time_days,
    a.min_order_qty,
    a.order_multiple,
    a.review_period_weeks,
    a.service_level
FROM features f
JOIN key_attributes a ON a.product_id = f.product_id AND a.location_id = f.location_id;
