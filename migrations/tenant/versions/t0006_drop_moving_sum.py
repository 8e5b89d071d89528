"""The features no longer slide window sums in SQL: drop moving_sum.

The master file's trailing windows are computed by the C kernel
(masterfile.features_kernel, ext/masterfile_kernel.c); the aggregate that the
window functions used has no caller left. sql/ re-creates functions but
never drops one, so the drop is a migration.

Revision ID: t0006
Revises: t0005
"""
from alembic import op

revision = "t0006"
down_revision = "t0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DROP AGGREGATE IF EXISTS moving_sum(double precision)")


def downgrade() -> None:
    op.execute(
        "CREATE AGGREGATE moving_sum(double precision) ("
        " SFUNC = float8pl, STYPE = double precision,"
        " MSFUNC = float8pl, MINVFUNC = float8mi, MSTYPE = double precision)"
    )
