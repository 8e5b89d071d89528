"""The pipeline's work tables of a batch are tables of the tenant's schema.

Revision ID: t0019
Revises: t0018

A batch of keys was staged in the session's temporary tables (mf_batch for
the features, mf_plan for the plans), joined in every statement with the
tenant's tables. On a Citus coordinator those sit on the coordinator and
the tenant's tables on its worker: no such statement can run on the worker
whole, and Citus refuses or mis-plans them (docs/scale-out.md). As tables
of the tenant's schema they are placed with the tenant, and every
statement of a batch runs where its data is. They hold only a batch in
flight: a batch writes its rows, keyed by its session (`runner`, the
coordinator's backend pid), and deletes them before it commits; an aborted
one leaves nothing. They are logged tables although nothing in them
outlives a transaction: Citus moves a tenant (citus_schema_move, the
rebalancer) by logical replication, which takes no unlogged table ("cannot
add relation to publication"); their WAL is a few percent of the feature
rows a batch writes. The pipeline writes them; the reader does not see them
(sql/tenant/900_grants.sql, _private_*).

Their statistics are the autovacuum's (the pipeline cannot ANALYZE a table
it does not own): a batch is planned as a handful of keys, which is how
its statements read the tenant's tables anyway (per key, through the keys'
indexes). analyze_work_table and ensure_plan_work_table, which served the
temporary tables, go. One statement per call.
"""
from alembic import op

revision = "t0019"
down_revision = "t0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # one row per key: where its computation starts and stops, and the
    # running state of the stored row of the week before the start
    # (sql/tenant/060_features.sql, stage_feature_batch)
    op.execute("""
        CREATE TABLE _private_feature_batch (
            runner        integer NOT NULL,
            product_id    text NOT NULL,
            location_id   text NOT NULL,
            from_week     date,
            new_first     date,
            old_first     date,
            last_stored   date,
            start_week    date,
            stop_week     date,
            tail_week     date,
            prior_sold    bytea,
            prior_revenue bytea,
            seed          double precision[],
            PRIMARY KEY (runner, product_id, location_id)
        )""")
    # one row per key of a plan batch: its master-file row at end_week and
    # its attributes (sql/tenant/090_plans.sql, refresh_plans)
    op.execute("""
        CREATE TABLE _private_plan_batch (
            runner              integer NOT NULL,
            product_id          text NOT NULL,
            location_id         text NOT NULL,
            ord                 integer,
            sigma               double precision,
            est_on_hand         double precision,
            on_order            double precision,
            lead_time_days      double precision,
            review_period_weeks double precision,
            service_level       double precision,
            min_order_qty       double precision,
            order_multiple      double precision,
            discontinued        boolean,
            assorted            boolean,
            location_enabled    boolean,
            PRIMARY KEY (runner, product_id, location_id)
        )""")
    op.execute("DROP FUNCTION IF EXISTS ensure_plan_work_table()")
    op.execute("DROP FUNCTION IF EXISTS analyze_work_table(text, bigint)")


def downgrade() -> None:
    op.execute("DROP TABLE _private_plan_batch")
    op.execute("DROP TABLE _private_feature_batch")
