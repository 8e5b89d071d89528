"""The pipeline's bookkeeping is named _private_*: the queue (dirty_keys),
the keys' first weeks and tails (feature_keys), the keys set aside
(failed_keys) and the week accounted for (pipeline_state).

Revision ID: t0018
Revises: t0017

They shared the tenant's namespace with the contract's names, and the read
role could select them. The prefix says what they are (as graphile-worker's
_private_jobs does); sql/tenant/900_grants.sql keeps every _private_
relation from the read role, and the owner's-rights views (queue_status,
key_attributes, master_file) show readers what they need. Their sequence
and indexes are renamed with them. One statement per call.
"""
from alembic import op

revision = "t0018"
down_revision = "t0017"
branch_labels = None
depends_on = None

TABLES = ("dirty_keys", "feature_keys", "failed_keys", "pipeline_state")
INDEXES = ("dirty_keys_pkey", "dirty_keys_key", "feature_keys_pkey", "failed_keys_pkey", "pipeline_state_pkey")


def upgrade() -> None:
    for name in TABLES:
        op.execute(f"ALTER TABLE {name} RENAME TO _private_{name}")
    op.execute("ALTER SEQUENCE dirty_keys_mark_id_seq RENAME TO _private_dirty_keys_mark_id_seq")
    for name in INDEXES:
        op.execute(f"ALTER INDEX {name} RENAME TO _private_{name}")


def downgrade() -> None:
    for name in INDEXES:
        op.execute(f"ALTER INDEX _private_{name} RENAME TO {name}")
    op.execute("ALTER SEQUENCE _private_dirty_keys_mark_id_seq RENAME TO dirty_keys_mark_id_seq")
    for name in TABLES:
        op.execute(f"ALTER TABLE _private_{name} RENAME TO {name}")
