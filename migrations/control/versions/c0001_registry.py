"""The control schema: tenant registry.

Revision ID: c0001
Revises:
"""
from alembic import op

revision = "c0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plpython3u is untrusted: only a superuser creates it, so it is created
    # here once per database, never by a tenant.
    op.execute("CREATE EXTENSION IF NOT EXISTS plpython3u")
    op.execute(
        """
        CREATE TABLE masterfile.tenants (
            client_id   text PRIMARY KEY CHECK (client_id ~ '^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$'),
            schema_name text NOT NULL UNIQUE CHECK (schema_name ~ '^t_[a-z0-9_]{1,40}$'),
            created_at  timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    op.execute("REVOKE ALL ON masterfile.tenants FROM PUBLIC")


def downgrade() -> None:
    op.execute("DROP TABLE masterfile.tenants")
