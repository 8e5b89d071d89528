"""The trigger functions that one parametrised function each replaced go,
and so does the plan markers' query builder, which the one changed-rows
builder of sql/tenant/070_marking.sql replaced.

Revision ID: t0017
Revises: t0016

record_conflicts_from_products, _locations and _suppliers were replaced by
record_conflicts_from_erp; mark_plans_from_products, _locations, _suppliers
and _assortments by mark_plans_from_master_data; plan_changes_query by
changed_rows_query. A tenant that upgraded through t0016 has reloaded
sql/tenant since, so no trigger calls them. A tenant that comes from before
t0016 in this same upgrade still has triggers on them: CASCADE drops those
triggers, and the reload that follows in the same transaction attaches
every trigger again, to the new functions. One statement per call (Citus
runs a multi-statement string on no node).
"""
from alembic import op

revision = "t0017"
down_revision = "t0016"
branch_labels = None
depends_on = None

REPLACED_TRIGGER_FUNCTIONS = (
    "record_conflicts_from_products",
    "record_conflicts_from_locations",
    "record_conflicts_from_suppliers",
    "mark_plans_from_products",
    "mark_plans_from_locations",
    "mark_plans_from_suppliers",
    "mark_plans_from_assortments",
)


def upgrade() -> None:
    for name in REPLACED_TRIGGER_FUNCTIONS:
        op.execute(f"DROP FUNCTION IF EXISTS {name}() CASCADE")
    op.execute("DROP FUNCTION IF EXISTS plan_changes_query(text, text[], text[])")


def downgrade() -> None:
    pass  # the reload of the older sql/tenant recreates them
