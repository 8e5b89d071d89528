"""attach_statement_triggers takes the events to attach: its signature
without them goes.

Revision ID: t0016
Revises: t0013

sql/tenant/015_statement_triggers.sql is re-run on every reload and only
(re)creates; dropping what an older version created is a migration's job,
done once. Nothing depends on the helper (it only runs while sql/tenant
reloads), so it goes before the reload that follows this upgrade.

The conflict and plan-marking trigger functions that one parametrised
function each replaced (record_conflicts_from_products, _locations and
_suppliers; mark_plans_from_products, _locations and _suppliers) are not
dropped here: their triggers still call them until the reload re-points
them, so they stay, unused, until a later migration drops them.
"""
from alembic import op

revision = "t0016"
down_revision = "t0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS attach_statement_triggers(text, text, text, text[])")


def downgrade() -> None:
    pass  # the reload of the older sql/tenant recreates it
