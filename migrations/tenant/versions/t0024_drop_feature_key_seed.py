"""The keys' tails no longer keep the running state of their week (t0022 undone).

Revision ID: t0024
Revises: t0022

t0022 kept, beside each key's tails, the running state of its tail week's
row (tail_seed, and tail_layout, the declaration's order it followed), so
that a calendar roll would seed a key without reading that row from the
features table. But the seed was itself read from that row when the tails
were written, so a roll read one row a key either way: measured on one 1x
tenant each (docs/benchmarks.md, "t0022's seed undone"), a roll touches the
same blocks of features with and without it and takes the same time, at
10x too ("the seed at 10x"). The state cost about 1,370 bytes a key (13 a
key-week: the pages of _private_feature_keys hold two keys instead of
three) and a second source for what the row already holds; a roll seeds
from the stored row again (sql/tenant/060_features.sql), and the columns and
the function that hashed the layout go.

Not t0023: that ID named another migration in 57a37bb (the seed returned
by the insert), reverted the same day. A database migrated at that commit
then stops at an unknown revision instead of skipping this one.

Dropping columns changes the catalog only; the space is reclaimed as rows
are rewritten. Downgrade adds the columns back empty: t0022's code reads a
null seed as "read the stored row".
"""
from alembic import op

revision = "t0024"
down_revision = "t0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # the ALTER waits for a batch writing the table: give up rather than
    # queue the pipeline behind it (migrate names the tenant; run it again)
    op.execute("SET LOCAL lock_timeout = '10s'")
    op.execute("ALTER TABLE _private_feature_keys DROP COLUMN IF EXISTS tail_seed, DROP COLUMN IF EXISTS tail_layout")
    # written by t0022's sql/tenant at reload; nothing of this one calls it
    op.execute("DROP FUNCTION IF EXISTS feature_seed_layout()")


def downgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '10s'")
    op.execute("ALTER TABLE _private_feature_keys ADD COLUMN tail_seed double precision[], "
               "ADD COLUMN tail_layout integer")
