"""Runs record how long the features and the plans of their batches took.

A pass recomputes features (where inputs changed) and then the plans of the
same keys; a run's wall time alone does not say which one a calendar roll or
a full rebuild spent its time in. process_batch returns both durations, so
its result type changes: it is dropped here and re-created by sql/.

Revision ID: t0008
Revises: t0007
"""
from alembic import op

revision = "t0008"
down_revision = "t0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE runs ADD COLUMN feature_seconds double precision NOT NULL DEFAULT 0, "
                "ADD COLUMN plan_seconds double precision NOT NULL DEFAULT 0")
    op.execute("DROP FUNCTION IF EXISTS process_batch(integer)")


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS process_batch(integer)")
    op.execute("ALTER TABLE runs DROP COLUMN feature_seconds, DROP COLUMN plan_seconds")
