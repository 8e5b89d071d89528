-- The foundation's invariants, seen from inside one tenant (t_pgtap).
BEGIN;
SET search_path = t_pgtap, public, pg_catalog;
SELECT plan(9);

SELECT has_schema('t_pgtap');
SELECT schema_owner_is('t_pgtap', 't_pgtap_owner');
SELECT has_table('t_pgtap', 'settings', 'settings table');
SELECT has_table('t_pgtap', '_private_dirty_keys', 'dirty-key queue');
SELECT is((SELECT count(*)::int FROM t_pgtap.settings), 1, 'settings holds one row');
SELECT is((SELECT default_service_level FROM t_pgtap.settings), 0.95::float8, 'default service level 0.95');
SELECT throws_ok(
    $$INSERT INTO t_pgtap.settings (singleton) VALUES (false)$$,
    '23514', NULL, 'a second settings row is refused');
SELECT ok(NOT has_schema_privilege('public', 't_pgtap', 'USAGE'), 'PUBLIC cannot use the tenant schema');
SELECT is_member_of('t_pgtap', ARRAY['t_pgtap_loader', 't_pgtap_ui', 't_pgtap_pipeline']);

SELECT * FROM finish();
ROLLBACK;
