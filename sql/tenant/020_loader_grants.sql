-- The ERP tables are written by the loader alone (data-contract.md, "ERP
-- entities"): it inserts and updates them, never deletes (a tombstone is an
-- update). Reading them comes with the tenant's own role, of which the loader
-- is a member (900_grants.sql). Its staging tables are temporary ones, which
-- need the database's TEMPORARY privilege (PUBLIC has it by default).
DO $grants$
DECLARE
    v_loader text := '@extschema@' || '_loader';
BEGIN
    EXECUTE format(
        'GRANT INSERT, UPDATE ON erp_products, erp_locations, erp_suppliers, erp_purchase_order_lines, '
        'erp_receipt_lines, erp_sales_lines, erp_invoice_lines TO %I', v_loader);
END
$grants$;

-- One load of the tenant at a time: a session lock that only these
-- functions take (the loader may not call the advisory-lock functions
-- itself, so no role can hold another tenant's load lock).
CREATE OR REPLACE FUNCTION @extschema@.try_load_lock()
RETURNS boolean
LANGUAGE sql
VOLATILE PARALLEL UNSAFE
SECURITY DEFINER
SET search_path = pg_catalog, @extschema@, pg_temp
AS $$
    SELECT pg_try_advisory_lock(masterfile.lock_key('@extschema@', 'load'))
$$;

CREATE OR REPLACE FUNCTION @extschema@.release_load_lock()
RETURNS boolean
LANGUAGE sql
VOLATILE PARALLEL UNSAFE
SECURITY DEFINER
SET search_path = pg_catalog, @extschema@, pg_temp
AS $$
    SELECT pg_advisory_unlock(masterfile.lock_key('@extschema@', 'load'))
$$;
