"""Each key's tails keep the running state of its last week too.

Revision ID: t0022
Revises: t0021

A calendar roll computes one new week per key from the tails (t0010) and
the running state of the stored row of the week before: its ewms,
cumulative sums, years to date, weeks since and last unit cost. That row was
read from the features table, one heap page per key at random: at 10x the
table is 13 GiB and a roll's pages of it come from outside shared buffers
(docs/benchmarks.md, "where the 10x roll's time goes"). _private_feature_keys
now keeps that state beside the tails, written by the same transaction
that writes the key's rows (sql/tenant/060_features.sql):

    tail_seed    the stored row of tail_week as the kernel's seed: one
                 element per stored feature in the declaration's order,
                 the value of each kind that carries a state, null for
                 the others
    tail_layout  which declaration's order tail_seed follows (a hash of
                 the stored features' names in order, written into the
                 functions at reload); a seed of another order is not read

Null until a key's features are next computed, as the tails were: a
roll then reads the stored row, as before. Adding nullable columns without
a default changes the catalog only.
"""
from alembic import op

revision = "t0022"
down_revision = "t0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # the ALTER waits for a batch writing the table: give up rather than
    # queue the pipeline behind it (migrate names the tenant; run it again)
    op.execute("SET LOCAL lock_timeout = '10s'")
    op.execute("ALTER TABLE _private_feature_keys ADD COLUMN tail_seed double precision[], "
               "ADD COLUMN tail_layout integer")


def downgrade() -> None:
    op.execute("ALTER TABLE _private_feature_keys DROP COLUMN tail_seed, DROP COLUMN tail_layout")
