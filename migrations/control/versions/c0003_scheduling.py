"""Scheduling for many tenants: work hints and a per-tenant switch.

`work_hints` is how the scheduler knows which tenants have queued work
without visiting every tenant: the marking code (each tenant's owner role,
row-level security keeps it to its own schema) adds a row in the
transaction that queues marks; the dispatcher deletes a tenant's hints only
in a statement that also sees its queue empty. The queue stays the source of
truth: a hint is never the only copy of anything.

`tenants.code_version`: what a tenant was last upgraded to (see
pyloader/migrate.py, code_version()).

`tenants.enabled`: a disabled tenant keeps its data and its queue, and is
not dispatched (`pyloader tenant disable/enable`).

Revision ID: c0003
Revises: c0001
"""
from alembic import op

revision = "c0003"
down_revision = "c0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # its signature gains p_adopt (sql/control/010_tenant_roles.sql)
    op.execute("DROP FUNCTION IF EXISTS masterfile.ensure_tenant_roles(text)")
    op.execute("ALTER TABLE masterfile.tenants ADD COLUMN enabled boolean NOT NULL DEFAULT true")
    # the code (migrations head, sql/, kernels) a tenant was last brought to:
    # a migrate with nothing new for it touches it not at all
    op.execute("ALTER TABLE masterfile.tenants ADD COLUMN code_version text")
    op.execute(
        """
        CREATE TABLE masterfile.work_hints (
            hint_id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            schema_name text NOT NULL CHECK (schema_name ~ '^t_[a-z0-9_]{1,40}$'),
            hinted_at   timestamptz NOT NULL DEFAULT now(),
            -- a tenant whose last turn made no progress (its keys locked by
            -- another transaction) is not taken again before this
            not_before  timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    op.execute("CREATE INDEX work_hints_schema ON masterfile.work_hints (schema_name, hint_id)")
    op.execute("ALTER TABLE masterfile.work_hints ENABLE ROW LEVEL SECURITY")
    op.execute("REVOKE ALL ON masterfile.work_hints FROM PUBLIC")
    # the calendar: the week the dispatcher last queued every tenant's roll
    op.execute(
        """
        CREATE TABLE masterfile.dispatch_state (
            singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
            rolled_week date
        )
        """
    )
    op.execute("INSERT INTO masterfile.dispatch_state (rolled_week) VALUES (date_trunc('week', now())::date)")
    op.execute("REVOKE ALL ON masterfile.dispatch_state FROM PUBLIC")
    # the code the control schema was last brought to (pyloader/migrate.py)
    op.execute(
        """
        CREATE TABLE masterfile.installed (
            singleton    boolean PRIMARY KEY DEFAULT true CHECK (singleton),
            code_version text NOT NULL
        )
        """
    )
    op.execute("REVOKE ALL ON masterfile.installed FROM PUBLIC")


def downgrade() -> None:
    op.execute("DROP TABLE masterfile.installed")
    op.execute("DROP TABLE masterfile.dispatch_state")
    op.execute("DROP TABLE masterfile.work_hints")
    op.execute("ALTER TABLE masterfile.tenants DROP COLUMN code_version")
    op.execute("ALTER TABLE masterfile.tenants DROP COLUMN enabled")
