"""Forecasts become a view over recommendations.

A key's forecast per week, method and demand class are the same for every
target week, and recommendations already hold them (forecast_per_week,
method, demand_class, as_of_week) for every key that has forecasts. Storing
them again as horizon_weeks rows per key cost most of a calendar roll's
plans: every roll rewrote all of them (280,000 rows for 20,000 keys) for a
new as_of_week. The view (sql/tenant/090_plans.sql) gives the same rows:
one per key and target week h = 1 .. horizon_weeks, for every key whose
recommendation is not `inactive`.

Revision ID: t0009
Revises: t0008
"""
from alembic import op

revision = "t0009"
down_revision = "t0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DROP TABLE forecasts")


def downgrade() -> None:
    # the table as t0003 and t0005 left it, holding what the view showed
    op.execute("ALTER VIEW forecasts RENAME TO forecasts_t0009")
    op.execute(
        """
        CREATE TABLE forecasts (
            product_id   text NOT NULL,
            location_id  text NOT NULL,
            as_of_week   date NOT NULL,
            target_week  date NOT NULL,
            yhat         double precision,
            method       text,
            demand_class text,
            PRIMARY KEY (product_id, location_id, target_week)
        ) WITH (fillfactor = 50);
        INSERT INTO forecasts SELECT * FROM forecasts_t0009;
        DROP VIEW forecasts_t0009;
        """
    )
