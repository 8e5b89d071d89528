"""The features kernel's signature before the prior series goes.

Revision ID: c0004
Revises: c0002

sql/control/020_features_kernel.sql is re-run on every reload and only
(re)creates; dropping what an older version created is a migration's job,
done once. Tenants were granted the new signature by their upgrade.
"""
from alembic import op

revision = "c0004"
down_revision = "c0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "DROP FUNCTION IF EXISTS masterfile.features_kernel(date, integer, integer, integer[], double precision[],"
        " double precision[], double precision[], double precision[], double precision[], double precision[],"
        " double precision[], double precision[], boolean[], double precision[])"
    )


def downgrade() -> None:
    pass  # the old signature's body is gone with its C code; nothing to restore
