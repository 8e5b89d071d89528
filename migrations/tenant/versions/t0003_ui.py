"""What the UI owns and what is derived: ui_* settings, conflicts, forecasts,
recommendations.

Revision ID: t0003
Revises: t0002

Ranges (data-contract.md, "UI entities") are named CHECK constraints, so a
refused value comes back with the rule it broke. A null field means "no
override". updated_by/updated_at default to the writer and the time; the
BEFORE UPDATE stamp lives in sql/tenant/030_ui.sql.
"""
from alembic import op

revision = "t0003"
down_revision = "t0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        -- settings predates the stamp rule: the UI may leave updated_by out too
        UPDATE settings SET updated_by = current_user WHERE updated_by IS NULL;
        ALTER TABLE settings
            ALTER COLUMN updated_by SET DEFAULT current_user,
            ALTER COLUMN updated_by SET NOT NULL;

        CREATE TABLE ui_product_settings (
            product_id    text PRIMARY KEY,
            discontinued  boolean,
            service_level double precision
                CONSTRAINT ui_product_settings_service_level_range CHECK (service_level BETWEEN 0.5 AND 0.999),
            updated_by    text NOT NULL DEFAULT current_user,
            updated_at    timestamptz NOT NULL DEFAULT now()
        );

        CREATE TABLE ui_location_settings (
            location_id text PRIMARY KEY,
            enabled     boolean,
            updated_by  text NOT NULL DEFAULT current_user,
            updated_at  timestamptz NOT NULL DEFAULT now()
        );

        -- quantities are numeric like the ERP's, so an override and an ERP value
        -- compare exactly; NaN and Infinity sort above every number, so "< 'Infinity'"
        -- keeps them out. An order multiple of 0 would divide by zero downstream.
        CREATE TABLE ui_supplier_settings (
            supplier_id         text PRIMARY KEY,
            lead_time_days      integer
                CONSTRAINT ui_supplier_settings_lead_time_days_not_negative CHECK (lead_time_days >= 0),
            min_order_qty       numeric
                CONSTRAINT ui_supplier_settings_min_order_qty_not_negative
                CHECK (min_order_qty >= 0 AND min_order_qty < 'Infinity'),
            order_multiple      numeric
                CONSTRAINT ui_supplier_settings_order_multiple_positive
                CHECK (order_multiple > 0 AND order_multiple < 'Infinity'),
            review_period_weeks integer
                CONSTRAINT ui_supplier_settings_review_period_weeks_at_least_one CHECK (review_period_weeks >= 1),
            updated_by          text NOT NULL DEFAULT current_user,
            updated_at          timestamptz NOT NULL DEFAULT now()
        );

        CREATE TABLE ui_assortments (
            product_id  text NOT NULL,
            location_id text NOT NULL,
            assorted    boolean,
            updated_by  text NOT NULL DEFAULT current_user,
            updated_at  timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (product_id, location_id)
        );
        -- "every location of this product" is the UI's usual question; the
        -- primary key answers it, this answers "every product of this location"
        CREATE INDEX ui_assortments_location_id ON ui_assortments (location_id);

        -- One row per fact and ERP change where the ERP contradicts a UI override
        -- (sql/tenant/050_conflicts.sql). Values are as each owner wrote them.
        CREATE TABLE conflicts (
            conflict_id    bigserial PRIMARY KEY,
            entity         text NOT NULL
                CONSTRAINT conflicts_entity_known CHECK (entity IN ('product', 'location', 'supplier')),
            entity_key     text NOT NULL,
            field          text NOT NULL,
            erp_value      text,
            ui_value       text,
            erp_updated_at timestamptz NOT NULL,
            detected_at    timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT conflicts_one_per_erp_change UNIQUE (entity, entity_key, field, erp_updated_at)
        );
        CREATE INDEX conflicts_detected_at ON conflicts (detected_at);

        -- forecast-and-orders.md, "Forecast per week"
        CREATE TABLE forecasts (
            product_id   text NOT NULL,
            location_id  text NOT NULL,
            as_of_week   date NOT NULL,
            target_week  date NOT NULL,
            yhat         double precision,
            method       text,
            demand_class text,
            PRIMARY KEY (product_id, location_id, target_week)
        );

        -- forecast-and-orders.md, "Recommendation": pipeline columns first, then
        -- the UI's (decision .. note); grants keep each writer to its own columns
        CREATE TABLE recommendations (
            product_id          text NOT NULL,
            location_id         text NOT NULL,
            as_of_week          date,
            demand_class        text,
            method              text,
            forecast_per_week   double precision,
            sigma               double precision,
            lead_time_weeks     double precision,
            review_period_weeks integer,
            service_level       double precision,
            z                   double precision,
            safety_stock        double precision,
            order_up_to         double precision,
            inventory_position  double precision,
            raw_qty             double precision,
            recommended_qty     double precision,
            reason              text,
            qty_changed_at      timestamptz,
            computed_at         timestamptz,
            decision            text NOT NULL DEFAULT 'pending'
                CONSTRAINT recommendations_decision_known CHECK (decision IN ('pending', 'approved', 'rejected')),
            approved_qty        double precision
                CONSTRAINT recommendations_approved_qty_not_negative
                CHECK (approved_qty >= 0 AND approved_qty < 'Infinity'),
            decided_by          text,
            decided_at          timestamptz,
            note                text,
            PRIMARY KEY (product_id, location_id)
        );
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP TABLE recommendations;
        DROP TABLE forecasts;
        DROP TABLE conflicts;
        DROP TABLE ui_assortments;
        DROP TABLE ui_supplier_settings;
        DROP TABLE ui_location_settings;
        DROP TABLE ui_product_settings;
        ALTER TABLE settings ALTER COLUMN updated_by DROP NOT NULL, ALTER COLUMN updated_by DROP DEFAULT;
        """
    )
