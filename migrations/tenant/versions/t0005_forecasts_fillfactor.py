"""Forecasts keep room on each page for the next version of their rows.

Every week end (and every as_of_date move) rewrites every forecast row: the
new as_of_week, usually a new yhat. With full pages each new version goes to
another page and adds a primary-key entry; with half of each page free the
update stays on its page (HOT) and the index is not touched. Rows written
before this revision keep their pages until they are rewritten.

Revision ID: t0005
Revises: t0004
"""
from alembic import op

revision = "t0005"
down_revision = "t0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE forecasts SET (fillfactor = 50)")


def downgrade() -> None:
    op.execute("ALTER TABLE forecasts RESET (fillfactor)")
