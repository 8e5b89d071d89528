"""Each key keeps the tails of its units_sold and revenue series.

A calendar roll adds one week to every key: its features read the 51 stored
weeks before it (trailing windows, lags) and its forecast the 104 weeks up
to end_week, about 155 index entries per key for one new row. feature_keys
now holds them, written by the same transaction that writes the key's
features (sql/tenant/060_features.sql):

    tail_week     the week the tails end at (the last week computed)
    sold_tail     units_sold of the weeks max(first_week, tail_week - 103
                  weeks) .. tail_week, oldest first, as float8send() values
    revenue_tail  revenue of the weeks max(first_week, tail_week - 50 weeks)
                  .. tail_week, the same way

so a roll reads one row per key instead. Null until a key's features are
next computed (each reader falls back to the stored rows). Half of each page
is left free: a roll rewrites every row, and with room on its page the new
version stays there (HOT) and the key index is not touched.

Revision ID: t0010
Revises: t0009
"""
from alembic import op

revision = "t0010"
down_revision = "t0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE feature_keys ADD COLUMN tail_week date, ADD COLUMN sold_tail bytea, "
               "ADD COLUMN revenue_tail bytea, SET (fillfactor = 50)")


def downgrade() -> None:
    op.execute("ALTER TABLE feature_keys DROP COLUMN tail_week, DROP COLUMN sold_tail, DROP COLUMN revenue_tail, "
               "RESET (fillfactor)")
