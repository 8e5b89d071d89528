"""A tenant's base: settings, loader bookkeeping, the dirty-key queue, runs.

Revision ID: t0001
Revises:
"""
from alembic import op

revision = "t0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE settings (
            singleton              boolean PRIMARY KEY DEFAULT true CHECK (singleton),
            as_of_date             date,
            default_service_level  double precision NOT NULL DEFAULT 0.95
                CONSTRAINT settings_default_service_level_range CHECK (default_service_level BETWEEN 0.5 AND 0.999),
            default_lead_time_days integer NOT NULL DEFAULT 14
                CONSTRAINT settings_default_lead_time_days_not_negative CHECK (default_lead_time_days >= 0),
            horizon_weeks          integer NOT NULL DEFAULT 13
                CONSTRAINT settings_horizon_weeks_range CHECK (horizon_weeks BETWEEN 1 AND 104),
            updated_by             text,
            updated_at             timestamptz NOT NULL DEFAULT now()
        );
        INSERT INTO settings DEFAULT VALUES;

        -- what only the loader reads: the ERP token stays out of the UI's reach
        CREATE TABLE loader_config (
            singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
            api_token text,
            lookback  interval NOT NULL DEFAULT interval '10 minutes'
                CONSTRAINT loader_config_lookback_not_negative CHECK (lookback >= interval '0')
        );
        INSERT INTO loader_config DEFAULT VALUES;

        CREATE TABLE loads (
            load_id         bigserial PRIMARY KEY,
            source          text NOT NULL,
            entity          text NOT NULL,
            started_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
            finished_at     timestamptz,
            status          text NOT NULL DEFAULT 'running'
                CHECK (status IN ('running', 'succeeded', 'failed')),
            read_count      bigint NOT NULL DEFAULT 0,
            applied_count   bigint NOT NULL DEFAULT 0,
            unchanged_count bigint NOT NULL DEFAULT 0,
            stale_count     bigint NOT NULL DEFAULT 0,
            rejected_count  bigint NOT NULL DEFAULT 0,
            message         text
        );

        CREATE TABLE rejects (
            reject_id   bigserial PRIMARY KEY,
            load_id     bigint NOT NULL REFERENCES loads,
            entity      text NOT NULL,
            raw         text NOT NULL,
            reason      text NOT NULL,
            rejected_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX rejects_load_id ON rejects (load_id);

        CREATE TABLE watermarks (
            entity     text PRIMARY KEY,
            updated_at timestamptz NOT NULL
        );

        -- Append-only queue: a mark is a new row, so marking never waits on a
        -- run that holds claimed rows; a run deletes exactly the rows it claimed.
        -- product_id/location_id null: every key (a full rebuild, e.g. after TRUNCATE).
        -- from_week null: from the key's first week. scope 'features' implies 'plan'.
        CREATE TABLE dirty_keys (
            mark_id     bigserial PRIMARY KEY,
            product_id  text,
            location_id text,
            from_week   date,
            scope       text NOT NULL CHECK (scope IN ('features', 'plan')),
            marked_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
            CHECK ((product_id IS NULL) = (location_id IS NULL))
        );
        CREATE INDEX dirty_keys_key ON dirty_keys (product_id, location_id);

        CREATE TABLE runs (
            run_id       bigserial PRIMARY KEY,
            trigger      text NOT NULL,
            started_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
            finished_at  timestamptz,
            status       text NOT NULL DEFAULT 'running'
                CHECK (status IN ('running', 'succeeded', 'failed')),
            keys_done    bigint NOT NULL DEFAULT 0,
            keys_failed  bigint NOT NULL DEFAULT 0,
            rows_written bigint NOT NULL DEFAULT 0,   -- feature_rows + plan_rows
            feature_rows bigint NOT NULL DEFAULT 0,
            plan_rows    bigint NOT NULL DEFAULT 0,
            message      text
        );
        """
    )


def downgrade() -> None:
    for table in ("runs", "dirty_keys", "watermarks", "rejects", "loads", "loader_config", "settings"):
        op.execute(f"DROP TABLE {table}")  # one object per DROP (Citus)
