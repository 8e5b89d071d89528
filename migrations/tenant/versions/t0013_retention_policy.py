"""How long a tenant keeps its bookkeeping: runs, loads, rejects, conflicts.

`retention_policy` is a singleton, like loader_config: the operator's (owner
only; every tenant role reads it), with defaults a tenant rarely needs to
change. apply_retention() (sql/tenant/096_retention.sql) deletes what is
older; the indexes let it find that without reading the tables whole every
time the scheduler calls it.

loads.retries: the requests a load retried (429, 5xx, broken connections),
so the operator's metrics (pyloader/metrics.py) read them from the table
like every other figure; 0 for a load that did not count them.

    runs_kept       finished runs, by finished_at              30 days
    loads_kept      finished loads (and their rejects)         90 days
    rejects_kept    rejects, by rejected_at                    30 days
    conflicts_kept  acknowledged conflicts, by acknowledged_at 90 days

Revision ID: t0013
Revises: t0012
"""
from alembic import op

revision = "t0013"
down_revision = "t0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE retention_policy (
            singleton      boolean PRIMARY KEY DEFAULT true CHECK (singleton),
            runs_kept      interval NOT NULL DEFAULT interval '30 days'
                CONSTRAINT retention_policy_runs_kept_at_least_a_day CHECK (runs_kept >= interval '1 day'),
            loads_kept     interval NOT NULL DEFAULT interval '90 days'
                CONSTRAINT retention_policy_loads_kept_at_least_a_day CHECK (loads_kept >= interval '1 day'),
            rejects_kept   interval NOT NULL DEFAULT interval '30 days'
                CONSTRAINT retention_policy_rejects_kept_at_least_a_day CHECK (rejects_kept >= interval '1 day'),
            conflicts_kept interval NOT NULL DEFAULT interval '90 days'
                CONSTRAINT retention_policy_conflicts_kept_at_least_a_day CHECK (conflicts_kept >= interval '1 day'),
            updated_at     timestamptz NOT NULL DEFAULT now()
        );
        INSERT INTO retention_policy DEFAULT VALUES;
        CREATE INDEX runs_finished_at ON runs (finished_at);
        CREATE INDEX loads_finished_at ON loads (finished_at);
        CREATE INDEX rejects_rejected_at ON rejects (rejected_at);
        ALTER TABLE loads ADD COLUMN retries bigint NOT NULL DEFAULT 0;
        """
    )


def downgrade() -> None:
    # one object per DROP (Citus)
    op.execute("DROP TABLE retention_policy; DROP INDEX runs_finished_at; DROP INDEX loads_finished_at;"
               " DROP INDEX rejects_rejected_at; ALTER TABLE loads DROP COLUMN retries")
