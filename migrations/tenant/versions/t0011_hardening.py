"""Runs can end interrupted; as_of_date stays in a sane range.

- `runs.status` gains 'interrupted': a run whose session ended without
  finishing it (killed, crashed) is marked so by the next run of the tenant,
  instead of staying 'running' for ever.
- `settings.as_of_date` between 1990-01-01 and 2100-01-01 (a CHECK must be
  immutable; the "no more than two years ahead" rule is a trigger in
  sql/tenant/030_ui.sql): 9999-12-31 would make every key compute thousands
  of weeks.

Revision ID: t0011
Revises: t0010
"""
from alembic import op

revision = "t0011"
down_revision = "t0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE runs DROP CONSTRAINT runs_status_check")
    op.execute(
        "ALTER TABLE runs ADD CONSTRAINT runs_status_check"
        " CHECK (status IN ('running', 'succeeded', 'failed', 'interrupted'))"
    )
    op.execute("UPDATE settings SET as_of_date = NULL WHERE as_of_date NOT BETWEEN '1990-01-01' AND '2100-01-01'")
    op.execute(
        "ALTER TABLE settings ADD CONSTRAINT settings_as_of_date_range"
        " CHECK (as_of_date BETWEEN '1990-01-01' AND '2100-01-01')"
    )


def downgrade() -> None:
    op.execute("ALTER TABLE settings DROP CONSTRAINT settings_as_of_date_range")
    op.execute("UPDATE runs SET status = 'failed' WHERE status = 'interrupted'")
    op.execute("ALTER TABLE runs DROP CONSTRAINT runs_status_check")
    op.execute("ALTER TABLE runs ADD CONSTRAINT runs_status_check CHECK (status IN ('running', 'succeeded', 'failed'))")
