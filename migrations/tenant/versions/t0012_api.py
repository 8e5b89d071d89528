"""What the planner API adds to a tenant: acknowledged conflicts, and two
indexes of recommendations (the rows changed since a moment; the API's
default order).

Revision ID: t0012
Revises: t0015

- conflicts.acknowledged_by / acknowledged_at are the UI's (the UI role may
  UPDATE only these two columns, sql/tenant/900_grants.sql); null = open.
- recommendations (computed_at): the API's event poller asks every ~200 ms
  which rows the pipeline wrote since the last look; computed_at moves exactly
  when the pipeline changes a row (sql/tenant/090_plans.sql).
- recommendations in the API's default order (largest recommended quantity
  first, then the key): a page of 100 reads 100 index entries instead of
  sorting every key (21.7 ms -> 0.8 ms on 20,000 keys).
"""
from alembic import op

revision = "t0012"
down_revision = "t0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE conflicts ADD COLUMN acknowledged_by text, ADD COLUMN acknowledged_at timestamptz;
        -- a constraint added alone: Citus takes no ADD CONSTRAINT beside other subcommands
        ALTER TABLE conflicts ADD CONSTRAINT conflicts_acknowledged_together
            CHECK ((acknowledged_by IS NULL) = (acknowledged_at IS NULL));
        CREATE INDEX conflicts_open ON conflicts (conflict_id) WHERE acknowledged_at IS NULL;
        CREATE INDEX recommendations_computed_at ON recommendations (computed_at);
        CREATE INDEX recommendations_by_recommended_qty
            ON recommendations ((coalesce(recommended_qty, '-Infinity'::float8)) DESC, product_id, location_id);
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP INDEX recommendations_by_recommended_qty;
        DROP INDEX recommendations_computed_at;
        DROP INDEX conflicts_open;
        ALTER TABLE conflicts DROP CONSTRAINT conflicts_acknowledged_together,
            DROP COLUMN acknowledged_by, DROP COLUMN acknowledged_at;
        """
    )
