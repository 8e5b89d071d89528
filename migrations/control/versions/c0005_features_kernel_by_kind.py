"""The features kernel's signature before it computed by kind.

Revision ID: c0005
Revises: c0004

The kernel now takes the features to compute (kind, input and parameter of
each, sql/control/015_features_declared.sql) and returns a record the caller
defines; the signature with 72 OUT columns in a fixed order goes, with the
C function it named (features_kernel, now features_kernel_by_kind in
ext/masterfile_kernel.c). sql/control/020_features_kernel.sql only
(re)creates; tenants are granted the new signature by their upgrade, whose
reload writes the new call.
"""
from alembic import op

revision = "c0005"
down_revision = "c0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "DROP FUNCTION IF EXISTS masterfile.features_kernel(date, integer, integer, integer[], double precision[],"
        " double precision[], double precision[], double precision[], double precision[], double precision[],"
        " double precision[], double precision[], boolean[], double precision[], bytea, bytea)"
    )


def downgrade() -> None:
    pass  # the old signature's body is gone with its C code; nothing to restore
