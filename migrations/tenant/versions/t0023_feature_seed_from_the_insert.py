"""A plain insert of features returns each key's seed with its tails.

Revision ID: t0023
Revises: t0022

store_feature_tails took every key's seed (t0022) from the stored row of
its tail week: one lookup of features a key in every batch, full
rebuilds included. The plain insert of write_feature_rows now returns the
seed of each key's row of the end week beside the tails it already
returned, and store_feature_tails looks up only what it did not return
(the upsert's keys, a key that stops before the end week). Both functions
take one argument more (write_feature_rows the end week,
store_feature_tails the seeds), so their old signatures go; the reload
that follows in the same transaction creates the new ones. Nothing calls
them but refresh_features, which the same reload replaces. One statement
per call (Citus runs a multi-statement string on no node).
"""
from alembic import op

revision = "t0023"
down_revision = "t0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS write_feature_rows()")
    op.execute("DROP FUNCTION IF EXISTS store_feature_tails(date, text[], text[], date[], integer[], bytea[], bytea[])")


def downgrade() -> None:
    # the reload of the older sql/tenant creates the old signatures
    op.execute("DROP FUNCTION IF EXISTS write_feature_rows(date)")
    op.execute("DROP FUNCTION IF EXISTS store_feature_tails(date, text[], text[], date[], integer[], bytea[], bytea[], "
               "text[])")
