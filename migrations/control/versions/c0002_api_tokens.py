"""API tokens of the planner API (planner-api.md, "Tokens").

Revision ID: c0002
Revises: c0003

Only a hash is stored: sha256 of the token, whose secret part is 32 random
bytes. A token belongs to one tenant and one role (planner = the tenant's UI
role, viewer = its reader role); its name is what updated_by and decided_by
record, unique among the tenant's live tokens (a revoked name may be reused).
Nobody but the migrating superuser reads this table: the server's
authenticator only resolves one hash at a time through
masterfile.resolve_api_token() (sql/control/030_api_tokens.sql).
"""
from alembic import op

revision = "c0002"
down_revision = "c0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE masterfile.api_tokens (
            token_id     bigserial PRIMARY KEY,
            client_id    text NOT NULL REFERENCES masterfile.tenants ON DELETE CASCADE,
            name         text NOT NULL
                CONSTRAINT api_tokens_name_shape CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$'),
            role         text NOT NULL CONSTRAINT api_tokens_role_known CHECK (role IN ('planner', 'viewer')),
            token_hash   bytea NOT NULL UNIQUE CONSTRAINT api_tokens_hash_sha256 CHECK (length(token_hash) = 32),
            created_at   timestamptz NOT NULL DEFAULT now(),
            last_used_at timestamptz,
            revoked_at   timestamptz
        );
        CREATE UNIQUE INDEX api_tokens_live_name ON masterfile.api_tokens (client_id, name) WHERE revoked_at IS NULL;
        REVOKE ALL ON masterfile.api_tokens FROM PUBLIC;
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE masterfile.api_tokens")
