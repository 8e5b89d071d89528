-- Effective values: the UI wins where it speaks (data-contract.md, "Effective
-- values"). Every consumer reads these views rather than re-deriving the rules.
--
-- An entity is known when the ERP sent it (and has not deleted it) or the UI
-- holds a row for it: an override may come before the ERP sends the entity, and
-- then the ERP's columns are null. Ids are gathered in a UNION rather than a
-- FULL JOIN so that a filter on the id reaches each table's primary key.

CREATE OR REPLACE VIEW @extschema@.effective_products AS
SELECT k.product_id,
       e.name,
       e.category,
       e.brand,
       e.supplier_id,
       e.unit_cost::double precision AS unit_cost,
       e.unit_price::double precision AS unit_price,
       e.status AS erp_status,
       coalesce(u.discontinued, e.status = 'discontinued', false) AS discontinued,
       coalesce(u.service_level, s.default_service_level) AS service_level
FROM (SELECT product_id FROM erp_products WHERE NOT deleted
      UNION
      SELECT product_id FROM ui_product_settings) k
LEFT JOIN erp_products e ON e.product_id = k.product_id AND NOT e.deleted
LEFT JOIN ui_product_settings u ON u.product_id = k.product_id
CROSS JOIN settings s;

CREATE OR REPLACE VIEW @extschema@.effective_locations AS
SELECT k.location_id,
       e.name,
       e.kind,
       e.region,
       e.status AS erp_status,
       coalesce(u.enabled, e.status = 'open', true) AS location_enabled
FROM (SELECT location_id FROM erp_locations WHERE NOT deleted
      UNION
      SELECT location_id FROM ui_location_settings) k
LEFT JOIN erp_locations e ON e.location_id = k.location_id AND NOT e.deleted
LEFT JOIN ui_location_settings u ON u.location_id = k.location_id;

CREATE OR REPLACE VIEW @extschema@.effective_suppliers AS
SELECT k.supplier_id,
       e.name,
       coalesce(u.lead_time_days, e.lead_time_days, s.default_lead_time_days) AS lead_time_days,
       coalesce(u.min_order_qty, e.min_order_qty, 1)::double precision AS min_order_qty,
       coalesce(u.order_multiple, e.order_multiple, 1)::double precision AS order_multiple,
       coalesce(u.review_period_weeks, 1) AS review_period_weeks
FROM (SELECT supplier_id FROM erp_suppliers WHERE NOT deleted
      UNION
      SELECT supplier_id FROM ui_supplier_settings) k
LEFT JOIN erp_suppliers e ON e.supplier_id = k.supplier_id AND NOT e.deleted
LEFT JOIN ui_supplier_settings u ON u.supplier_id = k.supplier_id
CROSS JOIN settings s;

-- Only the UI speaks about assortment: a key without a row here is assorted.
CREATE OR REPLACE VIEW @extschema@.effective_assortments AS
SELECT product_id,
       location_id,
       coalesce(assorted, true) AS assorted
FROM ui_assortments;
