"""The seven ERP tables of data-contract.md, written only by the loader.

Key columns are the contract's keys; `updated_at` is the ERP's last change
(the merge compares it), `deleted` a soft delete, `load_id` the load that
wrote the row. Lines need their product, location and date (contract), and
carry an index on (product_id, location_id) for the key-wise pipeline.

Revision ID: t0002
Revises: t0001
"""
from alembic import op

revision = "t0002"
down_revision = "t0001"
branch_labels = None
depends_on = None

_BOOKKEEPING = """
    updated_at timestamptz NOT NULL,
    deleted    boolean NOT NULL DEFAULT false,
    load_id    bigint
"""

TABLES = {
    "erp_products": f"""
        product_id  text NOT NULL PRIMARY KEY,
        name        text,
        category    text,
        brand       text,
        supplier_id text,
        unit_cost   numeric,
        unit_price  numeric,
        status      text CONSTRAINT erp_products_status_valid CHECK (status IN ('active', 'discontinued')),
        {_BOOKKEEPING}
    """,
    "erp_locations": f"""
        location_id text NOT NULL PRIMARY KEY,
        name        text,
        kind        text CONSTRAINT erp_locations_kind_valid CHECK (kind IN ('store', 'warehouse')),
        region      text,
        status      text CONSTRAINT erp_locations_status_valid CHECK (status IN ('open', 'closed')),
        {_BOOKKEEPING}
    """,
    "erp_suppliers": f"""
        supplier_id    text NOT NULL PRIMARY KEY,
        name           text,
        lead_time_days integer,
        min_order_qty  numeric,
        order_multiple numeric,
        {_BOOKKEEPING}
    """,
    "erp_purchase_order_lines": f"""
        po_id         text NOT NULL,
        line_no       integer NOT NULL,
        supplier_id   text,
        product_id    text NOT NULL,
        location_id   text NOT NULL,
        order_date    date NOT NULL,
        expected_date date,
        qty_ordered   numeric,
        unit_cost     numeric,
        status        text CONSTRAINT erp_purchase_order_lines_status_valid
                          CHECK (status IN ('open', 'closed', 'cancelled')),
        {_BOOKKEEPING},
        PRIMARY KEY (po_id, line_no)
    """,
    "erp_receipt_lines": f"""
        receipt_id    text NOT NULL,
        line_no       integer NOT NULL,
        po_id         text,
        product_id    text NOT NULL,
        location_id   text NOT NULL,
        received_date date NOT NULL,
        qty_received  numeric,
        {_BOOKKEEPING},
        PRIMARY KEY (receipt_id, line_no)
    """,
    "erp_sales_lines": f"""
        txn_id        text NOT NULL,
        line_no       integer NOT NULL,
        product_id    text NOT NULL,
        location_id   text NOT NULL,
        business_date date NOT NULL,
        qty           numeric,
        net_amount    numeric,
        {_BOOKKEEPING},
        PRIMARY KEY (txn_id, line_no)
    """,
    "erp_invoice_lines": f"""
        invoice_id   text NOT NULL,
        line_no      integer NOT NULL,
        po_id        text,
        product_id   text NOT NULL,
        location_id  text NOT NULL,
        invoice_date date NOT NULL,
        qty_invoiced numeric,
        line_amount  numeric,
        {_BOOKKEEPING},
        PRIMARY KEY (invoice_id, line_no)
    """,
}

LINE_TABLES = ("erp_purchase_order_lines", "erp_receipt_lines", "erp_sales_lines", "erp_invoice_lines")


def upgrade() -> None:
    for table, body in TABLES.items():
        op.execute(f"CREATE TABLE {table} ({body})")
    for table in LINE_TABLES:
        op.execute(f"CREATE INDEX {table}_key ON {table} (product_id, location_id)")


def downgrade() -> None:
    for table in reversed(list(TABLES)):
        op.execute(f"DROP TABLE {table}")  # one object per DROP (Citus)
