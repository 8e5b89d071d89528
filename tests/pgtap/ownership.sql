-- One source of truth, seen from inside one tenant (t_pgtap): the effective
-- values follow data-contract.md, "Effective values", and the grants give each
-- owner its own tables. Everything is rolled back.
BEGIN;
SET search_path = t_pgtap, public, pg_catalog;
SELECT plan(57);

-- the objects
SELECT has_table('t_pgtap', t, t) FROM unnest(ARRAY['ui_product_settings', 'ui_location_settings',
    'ui_supplier_settings', 'ui_assortments', 'conflicts', 'recommendations']) t;
SELECT has_view('t_pgtap', v, v) FROM unnest(ARRAY['effective_products', 'effective_locations',
    'effective_suppliers', 'effective_assortments', 'forecasts']) v;
SELECT col_type_is('t_pgtap', 'effective_products', 'unit_price', 'double precision', 'unit_price is float8');
SELECT col_type_is('t_pgtap', 'effective_products', 'service_level', 'double precision', 'service_level is float8');
SELECT col_type_is('t_pgtap', 'effective_suppliers', 'lead_time_days', 'integer', 'lead_time_days is integer');
SELECT col_type_is('t_pgtap', 'effective_suppliers', 'min_order_qty', 'double precision', 'min_order_qty is float8');
SELECT col_type_is('t_pgtap', 'effective_suppliers', 'order_multiple', 'double precision', 'order_multiple is float8');
SELECT col_type_is('t_pgtap', 'effective_suppliers', 'review_period_weeks', 'integer', 'review_period_weeks is integer');
SELECT is_definer('t_pgtap', 'record_conflicts_from_erp', ARRAY[]::name[], 'record_conflicts_from_erp runs as the owner');
SELECT has_trigger('t_pgtap', 'erp_' || e, 'conflicts_from_' || e || '_' || op, 'erp_' || e || ' ' || op || ' trigger')
FROM unnest(ARRAY['products', 'locations', 'suppliers']) e, unnest(ARRAY['insert', 'update']) op;

-- products: ERP status, UI override, settings default; ids from both sides
INSERT INTO erp_products (product_id, name, unit_cost, unit_price, status, updated_at, deleted) VALUES
    ('P-active', 'Active', 2.5, 4, 'active', now(), false),
    ('P-disc', 'Disc', 1, 2, 'discontinued', now(), false),
    ('P-null', 'No status', NULL, NULL, NULL, now(), false),
    ('P-kept', 'Kept', 1, 2, 'discontinued', now(), false),
    ('P-gone', 'Gone', 1, 2, 'active', now(), true),
    ('P-gone-ui', 'Gone', 1, 2, 'discontinued', now(), true);
INSERT INTO ui_product_settings (product_id, discontinued, service_level) VALUES
    ('P-kept', false, NULL),
    ('P-ui-only', true, 0.9),
    ('P-gone-ui', NULL, 0.8);

SELECT set_eq(
    $$SELECT product_id, name, unit_cost, unit_price, erp_status, discontinued, service_level FROM effective_products$$,
    $$VALUES ('P-active', 'Active', 2.5::float8, 4::float8, 'active', false, 0.95::float8),
             ('P-disc', 'Disc', 1, 2, 'discontinued', true, 0.95),
             ('P-null', 'No status', NULL, NULL, NULL, false, 0.95),
             ('P-kept', 'Kept', 1, 2, 'discontinued', false, 0.95),
             ('P-ui-only', NULL, NULL, NULL, NULL, true, 0.9),
             ('P-gone-ui', NULL, NULL, NULL, NULL, false, 0.8)$$,
    'effective products: UI first, then ERP status, then not discontinued; deleted ERP rows absent');
UPDATE settings SET default_service_level = 0.97;
SELECT is((SELECT service_level FROM effective_products WHERE product_id = 'P-active'), 0.97::float8,
    'service level falls back to settings.default_service_level');

-- locations
INSERT INTO erp_locations (location_id, name, kind, region, status, updated_at, deleted) VALUES
    ('L-open', 'Open', 'store', 'N', 'open', now(), false),
    ('L-closed', 'Closed', 'warehouse', 'S', 'closed', now(), false),
    ('L-null', 'No status', 'store', NULL, NULL, now(), false),
    ('L-off', 'Off', 'store', 'N', 'open', now(), false),
    ('L-on', 'On', 'store', 'N', 'closed', now(), false),
    ('L-gone', 'Gone', 'store', 'N', 'open', now(), true);
INSERT INTO ui_location_settings (location_id, enabled) VALUES
    ('L-off', false), ('L-on', true), ('L-ui-only', false), ('L-blank', NULL);
SELECT set_eq(
    $$SELECT location_id, name, kind, region, erp_status, location_enabled FROM effective_locations$$,
    $$VALUES ('L-open', 'Open', 'store', 'N', 'open', true),
             ('L-closed', 'Closed', 'warehouse', 'S', 'closed', false),
             ('L-null', 'No status', 'store', NULL, NULL, true),
             ('L-off', 'Off', 'store', 'N', 'open', false),
             ('L-on', 'On', 'store', 'N', 'closed', true),
             ('L-ui-only', NULL, NULL, NULL, NULL, false),
             ('L-blank', NULL, NULL, NULL, NULL, true)$$,
    'effective locations: UI first, then ERP open, then enabled');

-- suppliers
INSERT INTO erp_suppliers (supplier_id, name, lead_time_days, min_order_qty, order_multiple, updated_at, deleted) VALUES
    ('S-erp', 'Erp', 21, 5.5, 6, now(), false),
    ('S-blank', 'Blank', NULL, NULL, NULL, now(), false),
    ('S-over', 'Over', 21, 5, 6, now(), false),
    ('S-gone', 'Gone', 21, 5, 6, now(), true);
INSERT INTO ui_supplier_settings (supplier_id, lead_time_days, min_order_qty, order_multiple, review_period_weeks) VALUES
    ('S-over', 10, 2.5, 3, 2),
    ('S-ui-only', NULL, NULL, NULL, 4);
SELECT set_eq(
    $$SELECT supplier_id, name, lead_time_days, min_order_qty, order_multiple, review_period_weeks FROM effective_suppliers$$,
    $$VALUES ('S-erp', 'Erp', 21, 5.5::float8, 6::float8, 1),
             ('S-blank', 'Blank', 14, 1, 1, 1),
             ('S-over', 'Over', 10, 2.5, 3, 2),
             ('S-ui-only', NULL, 14, 1, 1, 4)$$,
    'effective suppliers: UI, then ERP, then the defaults');
UPDATE settings SET default_lead_time_days = 7;
SELECT is((SELECT lead_time_days FROM effective_suppliers WHERE supplier_id = 'S-blank'), 7,
    'lead time falls back to settings.default_lead_time_days');

-- assortments: only the UI speaks; a null means "no override" (assorted)
INSERT INTO ui_assortments (product_id, location_id, assorted) VALUES
    ('P-active', 'L-open', false), ('P-active', 'L-closed', NULL), ('P-disc', 'L-open', true);
SELECT set_eq(
    $$SELECT product_id, location_id, assorted FROM effective_assortments$$,
    $$VALUES ('P-active', 'L-open', false), ('P-active', 'L-closed', true), ('P-disc', 'L-open', true)$$,
    'effective assortments: the UI, else assorted');

-- conflicts: an ERP change against an override is recorded once, with both values
UPDATE erp_suppliers SET lead_time_days = 28, min_order_qty = 2.50, updated_at = now() + interval '1 day'
WHERE supplier_id = 'S-over';
SELECT set_eq(
    $$SELECT entity, entity_key, field, erp_value, ui_value FROM conflicts$$,
    $$VALUES ('supplier', 'S-over', 'lead_time_days', '28', '10'), ('supplier', 'S-over', 'order_multiple', '6', '3')$$,
    'the first ERP record after an override: each contradicted field once, an equal quantity (2.50 = 2.5) not');
UPDATE erp_suppliers SET name = 'Over & co', updated_at = now() + interval '2 days' WHERE supplier_id = 'S-over';
SELECT is((SELECT count(*)::int FROM conflicts), 2, 'a later ERP record saying the same adds nothing');
SELECT is((SELECT lead_time_days FROM effective_suppliers WHERE supplier_id = 'S-over'), 10, 'the UI value stays effective');

-- ranges are named constraints
SELECT throws_ok($$INSERT INTO ui_product_settings (product_id, service_level) VALUES ('X', 0.4999)$$, '23514',
    'new row for relation "ui_product_settings" violates check constraint "ui_product_settings_service_level_range"',
    'service level below 0.5 refused by name');
SELECT throws_ok($$INSERT INTO ui_supplier_settings (supplier_id, review_period_weeks) VALUES ('X', 0)$$, '23514',
    'new row for relation "ui_supplier_settings" violates check constraint "ui_supplier_settings_review_period_weeks_at_least_one"',
    'a review period under a week refused by name');
SELECT lives_ok($$INSERT INTO ui_product_settings (product_id, service_level) VALUES ('X', 0.999)$$,
    'service level 0.999 accepted');

-- grants: each owner writes what it owns (pipeline and UI share recommendations by column)
SELECT table_privs_are('t_pgtap', t, 't_pgtap_ui', ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE'], 't_pgtap_ui writes ' || t)
FROM unnest(ARRAY['ui_product_settings', 'ui_location_settings', 'ui_supplier_settings', 'ui_assortments']) t;
SELECT table_privs_are('t_pgtap', 'settings', 't_pgtap_ui', ARRAY['SELECT', 'UPDATE'], 't_pgtap_ui updates settings');
SELECT table_privs_are('t_pgtap', t, 't_pgtap_loader', ARRAY['SELECT'], 't_pgtap_loader only reads ' || t)
FROM unnest(ARRAY['ui_product_settings', 'ui_location_settings', 'ui_supplier_settings', 'ui_assortments',
    'settings', 'forecasts', 'recommendations', 'conflicts']) t;
SELECT table_privs_are('t_pgtap', 'forecasts', 't_pgtap_pipeline', ARRAY['SELECT'],
    't_pgtap_pipeline only reads forecasts (a view over recommendations)');
SELECT table_privs_are('t_pgtap', 'erp_products', 't_pgtap_pipeline', ARRAY['SELECT'], 't_pgtap_pipeline only reads erp_products');
SELECT table_privs_are('t_pgtap', 'erp_products', 't_pgtap_ui', ARRAY['SELECT'], 't_pgtap_ui only reads erp_products');
-- which columns each may write is a trigger's, not column grants (Citus keeps no column grant)
SELECT table_privs_are('t_pgtap', 'recommendations', 't_pgtap_ui', ARRAY['SELECT', 'UPDATE'],
    't_pgtap_ui updates recommendations (its decision columns, by guard_shared_columns)');
SELECT table_privs_are('t_pgtap', 'recommendations', 't_pgtap_pipeline', ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE'],
    't_pgtap_pipeline inserts and updates recommendations (not the decision, by guard_shared_columns), '
    'and deletes those of keys without features');
SELECT has_trigger('t_pgtap', 'recommendations', 'keep_decided_recommendations',
    'recommendations keeps a decided row, whoever deletes');
SELECT has_trigger('t_pgtap', 'recommendations', 'guard_shared_columns', 'recommendations keeps each column to its writer');
SELECT has_trigger('t_pgtap', 'conflicts', 'guard_shared_columns', 'conflicts keeps each column to its writer');

SELECT * FROM finish();
ROLLBACK;
