"""Every table, view and column the UI reads carries a COMMENT
(sql/tenant/950_comments.sql), as docs/sql-interface.md describes them."""
from __future__ import annotations

from tests.conftest import row_set

# what docs/sql-interface.md lists as the UI's interface
UI_RELATIONS = [
    "erp_products", "erp_locations", "erp_suppliers", "erp_purchase_order_lines", "erp_receipt_lines",
    "erp_sales_lines", "erp_invoice_lines",
    "ui_product_settings", "ui_location_settings", "ui_supplier_settings", "ui_assortments", "settings",
    "effective_products", "effective_locations", "effective_suppliers", "effective_assortments",
    "master_file", "forecasts", "recommendations", "conflicts", "runs", "loads", "rejects", "retention_policy",
]


def test_every_relation_and_column_the_ui_reads_has_a_comment(tenant):
    with tenant.connect() as conn:
        relations = row_set(conn, "SELECT c.relname, obj_description(c.oid, 'pg_class') IS NOT NULL FROM pg_class c"
                                  " WHERE c.relnamespace = current_schema()::regnamespace AND c.relname = ANY(%s)",
                            (UI_RELATIONS,))
        missing_columns = row_set(
            conn,
            "SELECT c.relname, a.attname FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid"
            " WHERE c.relnamespace = current_schema()::regnamespace AND c.relname = ANY(%s)"
            "   AND a.attnum > 0 AND NOT a.attisdropped AND col_description(c.oid, a.attnum) IS NULL",
            (UI_RELATIONS,))
        n_columns = conn.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid"
            " WHERE c.relnamespace = current_schema()::regnamespace AND c.relname = ANY(%s)"
            "   AND a.attnum > 0 AND NOT a.attisdropped", (UI_RELATIONS,)).fetchone()[0]
    assert relations == {(name, True) for name in UI_RELATIONS}
    assert missing_columns == set()
    assert n_columns > 250  # the master file's 90 among them


def test_comments_survive_a_second_migration(tenant):
    from pyloader import migrate

    migrate.migrate_all(tenant.url)
    with tenant.connect() as conn:
        (text,) = conn.execute("SELECT col_description('recommendations'::regclass,"
                               " (SELECT attnum FROM pg_attribute WHERE attrelid = 'recommendations'::regclass"
                               "  AND attname = 'approved_qty'))").fetchone()
    assert text == "The quantity the UI approved (owner: the UI)."
