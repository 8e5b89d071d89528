"""The four features derived from others of the same week are computed when
the master file is read, not stored.

Revision ID: t0020
Revises: t0019

est_on_hand, on_order and weeks_of_cover are sums, a difference and a
ratio of the cumulative and ewm columns of the same row, and avg_price_13
the ratio of revenue_mean_13 to sold_mean_13 (the sums of one 13-week
window, over the same count of weeks): the master_file view computes them
from those columns (pyloader/features.py, the kinds' `read`), as the
plans read them (sql/tenant/090_plans.sql). Not stored, the features row
is 32 bytes narrower and the kernel writes four values fewer per key-week
(docs/benchmarks.md, issue 17).

Dropping a column changes the catalog only: the rows stored before keep
the bytes until they are written again (the next rebuild of a key, or a
VACUUM FULL of features by its owner); rows written after have none. The
view names the columns, so it goes first and the reload makes it again.
"""
from alembic import op

revision = "t0020"
down_revision = "t0019"
branch_labels = None
depends_on = None

DERIVED = ("est_on_hand", "on_order", "weeks_of_cover", "avg_price_13")


def upgrade() -> None:
    # the ALTER waits for a batch writing the table: give up rather than
    # queue every reader behind it (migrate names the tenant; run it again)
    op.execute("SET LOCAL lock_timeout = '10s'")
    op.execute("DROP VIEW IF EXISTS master_file")
    op.execute("ALTER TABLE features " + ", ".join(f"DROP COLUMN {c}" for c in DERIVED))


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS master_file")
    op.execute("ALTER TABLE features " + ", ".join(f"ADD COLUMN {c} double precision" for c in DERIVED))
    # the earlier code computes them in the kernel: every key through the queue
    op.execute("INSERT INTO _private_dirty_keys (product_id, location_id, from_week, scope)"
               " VALUES (NULL, NULL, NULL, 'features')")
