"""A load can end `interrupted`: stopped by SIGTERM or SIGINT, or left
`running` by a process that died and reaped by the next load of its tenant.

Nothing half-applied remains of such a load (each batch is one
transaction); the status only says it did not finish, so it is neither a
success nor a failure of its data.

Revision ID: t0015
Revises: t0011
"""
from alembic import op

revision = "t0015"
down_revision = "t0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        ALTER TABLE loads DROP CONSTRAINT IF EXISTS loads_status_check;
        ALTER TABLE loads ADD CONSTRAINT loads_status_valid
            CHECK (status IN ('running', 'succeeded', 'failed', 'interrupted'));
    """)


def downgrade() -> None:
    op.execute("""
        UPDATE loads SET status = 'failed' WHERE status = 'interrupted';
        ALTER TABLE loads DROP CONSTRAINT loads_status_valid;
        ALTER TABLE loads ADD CONSTRAINT loads_status_check CHECK (status IN ('running', 'succeeded', 'failed'));
    """)
