"""The features' key index carries units_sold and revenue.

Two reads go through the key index for many weeks of a key: the 51 stored
weeks before a recomputation's start (the trailing windows read units_sold
and revenue) and the 104 weeks of units_sold that the forecast reads. With
both columns in the index those are index-only scans of one or two index
pages instead of a heap page per dozen weeks: a calendar roll does them for
every key. The primary key keeps its name and columns (ON CONFLICT infers
it), so nothing else changes; a row update that leaves both columns alone
stays HOT.

Revision ID: t0007
Revises: t0006
"""
from alembic import op

revision = "t0007"
down_revision = "t0006"
branch_labels = None
depends_on = None


def _swap_key(include: str) -> None:
    op.execute(f"CREATE UNIQUE INDEX features_key_new ON features (product_id, location_id, week_start) {include}")
    op.execute("ALTER TABLE features DROP CONSTRAINT features_pkey")
    op.execute("ALTER TABLE features ADD CONSTRAINT features_pkey PRIMARY KEY USING INDEX features_key_new")


def upgrade() -> None:
    _swap_key("INCLUDE (units_sold, revenue)")


def downgrade() -> None:
    _swap_key("")
