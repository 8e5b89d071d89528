"""The line tables' key indexes carry what the features read of a line.

Revision ID: t0021
Revises: t0020

A batch reads each key's lines through its (key, date) index and sums them
by week (write_feature_rows), and finds the key's first line the same way
(stage_feature_batch). With the index holding only the key and the date,
every line was a fetch from the table's heap: the lines of a key are spread
over the whole table (they arrive by date), so a full rebuild visited the
heap's pages at random, one or more per line. With the columns the
features read INCLUDEd, those reads are index-only scans (on pages the
visibility map marks all-visible: after autovacuum has seen a load), and a
rebuild, whose keys come in key order, walks each index nearly in order.

Measured on a 1x bench tenant (docs/benchmarks.md, "Issue 17: the line
indexes cover the weeks"): full rebuild 26.4-30.8 s against 28.8-31.6 s;
the indexes 408 MB against 294 MB; an insert of lines ~5% slower.

The four new indexes are built beside the old ones, then each old one is
dropped and its new one takes its name: readers keep their index while the
new ones build and wait only for the swaps (a DROP holds its table until
the commit); writers of the line tables (a load) wait for the builds
(CREATE INDEX takes a SHARE lock), and the migration gives up rather than
queue behind a load that holds a table (migrate names the tenant; run it
again).
"""
from alembic import op

revision = "t0021"
down_revision = "t0020"
branch_labels = None
depends_on = None

# table: (date column, the columns the features and the first-week lookup read)
COVERED = {
    "erp_sales_lines": ("business_date", "qty, net_amount, deleted"),
    "erp_receipt_lines": ("received_date", "qty_received, deleted"),
    "erp_purchase_order_lines": ("order_date", "qty_ordered, status, deleted"),
    "erp_invoice_lines": ("invoice_date", "invoice_id, line_no, qty_invoiced, line_amount, deleted"),
}


def _replace(include: bool) -> None:
    op.execute("SET LOCAL lock_timeout = '10s'")
    # every new index first (a SHARE lock: readers go on, writers wait),
    # then the swaps, whose DROP holds its table until the commit
    for table, (date_column, columns) in COVERED.items():
        op.execute(f"CREATE INDEX {table}_key_date_new ON {table} (product_id, location_id, {date_column})"
                   + (f" INCLUDE ({columns})" if include else ""))
    for table in COVERED:
        # one object per DROP: Citus drops one distributed object per command
        op.execute(f"DROP INDEX {table}_key_date")
        op.execute(f"ALTER INDEX {table}_key_date_new RENAME TO {table}_key_date")


def upgrade() -> None:
    _replace(include=True)


def downgrade() -> None:
    _replace(include=False)
