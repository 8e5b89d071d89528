-- The ERP tables are written by the loader alone (data-contract.md, "ERP
-- entities"): it inserts and updates them, never deletes (a tombstone is an
-- update). Reading them comes with the tenant's own role, of which the loader
-- is a member (900_grants.sql). Its staging tables are temporary ones, which
-- need the database's TEMPORARY privilege (PUBLIC has it by default).
DO $grants$
DECLARE
    v_loader text := current_schema() || '_loader';
BEGIN
    EXECUTE format(
        'GRANT INSERT, UPDATE ON erp_products, erp_locations, erp_suppliers, erp_purchase_order_lines, '
        'erp_receipt_lines, erp_sales_lines, erp_invoice_lines TO %I', v_loader);
END
$grants$;
