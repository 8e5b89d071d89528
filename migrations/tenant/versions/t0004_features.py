"""Stored features of the master file, and the pipeline's own state.

Revision ID: t0004
Revises: t0003
"""
from alembic import op

revision = "t0004"
down_revision = "t0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        -- one row per key and week: the 70 computed columns of features.md
        -- (identity, calendar and effective attributes are joined by the
        -- master_file view, so a metadata correction rewrites no row here)
        CREATE TABLE features (
            product_id                 text NOT NULL,
            location_id                text NOT NULL,
            week_start                 date NOT NULL,
            week_index                 integer NOT NULL,
            units_sold                 double precision,
            units_returned             double precision,
            revenue                    double precision,
            units_received             double precision,
            units_ordered              double precision,
            units_invoiced             double precision,
            invoiced_amount            double precision,
            sold_lag_1                 double precision,
            sold_lag_2                 double precision,
            sold_lag_3                 double precision,
            sold_lag_4                 double precision,
            sold_lag_5                 double precision,
            sold_lag_6                 double precision,
            sold_lag_7                 double precision,
            sold_lag_8                 double precision,
            sold_lag_9                 double precision,
            sold_lag_10                double precision,
            sold_lag_11                double precision,
            sold_lag_12                double precision,
            sold_lag_13                double precision,
            sold_lag_14                double precision,
            ewm_units_sold_s2          double precision,
            ewm_units_sold_s4          double precision,
            ewm_units_sold_s8          double precision,
            ewm_units_sold_s13         double precision,
            ewm_revenue_s2             double precision,
            ewm_revenue_s4             double precision,
            ewm_revenue_s8             double precision,
            ewm_revenue_s13            double precision,
            ewm_units_received_s2      double precision,
            ewm_units_received_s4      double precision,
            ewm_units_received_s8      double precision,
            ewm_units_received_s13     double precision,
            ewm_units_returned_s2      double precision,
            ewm_units_returned_s4      double precision,
            ewm_units_returned_s8      double precision,
            ewm_units_returned_s13     double precision,
            sold_mean_4                double precision,
            sold_mean_8                double precision,
            sold_mean_13               double precision,
            sold_mean_26               double precision,
            sold_mean_52               double precision,
            sold_std_4                 double precision,
            sold_std_8                 double precision,
            sold_std_13                double precision,
            sold_std_26                double precision,
            sold_std_52                double precision,
            sold_max_13                double precision,
            sold_max_52                double precision,
            sold_zero_share_13         double precision,
            revenue_mean_13            double precision,
            sold_slope_4               double precision,
            sold_slope_8               double precision,
            sold_slope_13              double precision,
            sold_slope_26              double precision,
            cum_units_sold             double precision,
            cum_units_returned         double precision,
            cum_revenue                double precision,
            cum_units_received         double precision,
            cum_units_ordered          double precision,
            cum_units_invoiced         double precision,
            ytd_units_sold             double precision,
            ytd_revenue                double precision,
            est_on_hand                double precision,
            on_order                   double precision,
            weeks_since_first_sale     integer,
            weeks_since_last_sale      integer,
            weeks_of_cover             double precision,
            avg_price_13               double precision,
            last_invoice_unit_cost     double precision,
            PRIMARY KEY (product_id, location_id, week_start)
        );

        -- every key the pipeline has seen, with the first week it computed it
        -- from (a key whose first line is after end_week is here with no rows)
        CREATE TABLE feature_keys (
            product_id  text NOT NULL,
            location_id text NOT NULL,
            first_week  date NOT NULL,
            PRIMARY KEY (product_id, location_id)
        );

        -- the end_week the stored features were computed for
        CREATE TABLE pipeline_state (
            singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
            end_week  date
        );
        INSERT INTO pipeline_state DEFAULT VALUES;

        -- keys set aside after an error, so one bad key does not stop the others
        CREATE TABLE failed_keys (
            product_id  text NOT NULL,
            location_id text NOT NULL,
            from_week   date,
            scope       text NOT NULL,
            error       text NOT NULL,
            failed_at   timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (product_id, location_id)
        );

        -- the week a line falls in must be found without reading every line of
        -- a key; these replace the (product_id, location_id) indexes of t0002
        CREATE INDEX erp_sales_lines_key_date ON erp_sales_lines (product_id, location_id, business_date);
        CREATE INDEX erp_receipt_lines_key_date ON erp_receipt_lines (product_id, location_id, received_date);
        CREATE INDEX erp_purchase_order_lines_key_date ON erp_purchase_order_lines (product_id, location_id, order_date);
        CREATE INDEX erp_invoice_lines_key_date ON erp_invoice_lines (product_id, location_id, invoice_date);
        -- one object per DROP: Citus drops one distributed object per command
        DROP INDEX erp_sales_lines_key;
        DROP INDEX erp_receipt_lines_key;
        DROP INDEX erp_purchase_order_lines_key;
        DROP INDEX erp_invoice_lines_key;
        """
    )


def downgrade() -> None:
    for table in ("failed_keys", "pipeline_state", "feature_keys", "features"):
        op.execute(f"DROP TABLE {table}")  # one object per DROP (Citus)
