-- The master file's per-key computation, in C (ext/masterfile_kernel.c,
-- installed into PostgreSQL's $libdir by scripts/install-kernel.sh). One call
-- per key: its weekly facts as arrays of (week, facts) entries, with up to
-- features_lookback_weeks() stored weeks before the first week computed (or
-- those weeks as p_prior_sold and p_prior_revenue, laid out as
-- docs/weekly-series.md says), and the running state of the stored row
-- before it; one row per week computed, in the column order of the features
-- table.
-- Pure computation: reads nothing, so every tenant may call it
-- (ensure_tenant_roles grants it).

CREATE OR REPLACE FUNCTION masterfile.features_kernel(
    p_first_week date,
    p_start_index integer,
    p_stop_index integer,
    p_i integer[],
    p_sold double precision[],
    p_returned double precision[],
    p_revenue double precision[],
    p_received double precision[],
    p_ordered double precision[],
    p_invoiced double precision[],
    p_invoiced_amount double precision[],
    p_unit_cost double precision[],
    p_has_cost boolean[],
    p_seed double precision[],
    -- or the stored weeks before the start as series (docs/weekly-series.md):
    -- the sold and revenue tails _private_feature_keys keeps
    p_prior_sold bytea DEFAULT NULL,
    p_prior_revenue bytea DEFAULT NULL,
    OUT week_start date,
    OUT week_index integer,
    OUT units_sold double precision,
    OUT units_returned double precision,
    OUT revenue double precision,
    OUT units_received double precision,
    OUT units_ordered double precision,
    OUT units_invoiced double precision,
    OUT invoiced_amount double precision,
    OUT sold_lag_1 double precision,
    OUT sold_lag_2 double precision,
    OUT sold_lag_3 double precision,
    OUT sold_lag_4 double precision,
    OUT sold_lag_5 double precision,
    OUT sold_lag_6 double precision,
    OUT sold_lag_7 double precision,
    OUT sold_lag_8 double precision,
    OUT sold_lag_9 double precision,
    OUT sold_lag_10 double precision,
    OUT sold_lag_11 double precision,
    OUT sold_lag_12 double precision,
    OUT sold_lag_13 double precision,
    OUT sold_lag_14 double precision,
    OUT ewm_units_sold_s2 double precision,
    OUT ewm_units_sold_s4 double precision,
    OUT ewm_units_sold_s8 double precision,
    OUT ewm_units_sold_s13 double precision,
    OUT ewm_revenue_s2 double precision,
    OUT ewm_revenue_s4 double precision,
    OUT ewm_revenue_s8 double precision,
    OUT ewm_revenue_s13 double precision,
    OUT ewm_units_received_s2 double precision,
    OUT ewm_units_received_s4 double precision,
    OUT ewm_units_received_s8 double precision,
    OUT ewm_units_received_s13 double precision,
    OUT ewm_units_returned_s2 double precision,
    OUT ewm_units_returned_s4 double precision,
    OUT ewm_units_returned_s8 double precision,
    OUT ewm_units_returned_s13 double precision,
    OUT sold_mean_4 double precision,
    OUT sold_mean_8 double precision,
    OUT sold_mean_13 double precision,
    OUT sold_mean_26 double precision,
    OUT sold_mean_52 double precision,
    OUT sold_std_4 double precision,
    OUT sold_std_8 double precision,
    OUT sold_std_13 double precision,
    OUT sold_std_26 double precision,
    OUT sold_std_52 double precision,
    OUT sold_max_13 double precision,
    OUT sold_max_52 double precision,
    OUT sold_zero_share_13 double precision,
    OUT revenue_mean_13 double precision,
    OUT sold_slope_4 double precision,
    OUT sold_slope_8 double precision,
    OUT sold_slope_13 double precision,
    OUT sold_slope_26 double precision,
    OUT cum_units_sold double precision,
    OUT cum_units_returned double precision,
    OUT cum_revenue double precision,
    OUT cum_units_received double precision,
    OUT cum_units_ordered double precision,
    OUT cum_units_invoiced double precision,
    OUT ytd_units_sold double precision,
    OUT ytd_revenue double precision,
    OUT est_on_hand double precision,
    OUT on_order double precision,
    OUT weeks_since_first_sale integer,
    OUT weeks_since_last_sale integer,
    OUT weeks_of_cover double precision,
    OUT avg_price_13 double precision,
    OUT last_invoice_unit_cost double precision)
RETURNS SETOF record
LANGUAGE c
IMMUTABLE PARALLEL SAFE CALLED ON NULL INPUT SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS 'masterfile_kernel', 'features_kernel';

REVOKE ALL ON FUNCTION masterfile.features_kernel FROM PUBLIC;

-- The stored weeks before the first week computed that the kernel reads:
-- its widest window (52 weeks) reaches 51 back. MAX_LOOKBACK of
-- ext/masterfile_kernel.c, which SQL cannot read (tests/test_kernel_declarations.py
-- holds the two equal); refresh_features reads that many, and every key's
-- revenue tail keeps that many (tenant/060_features.sql).
CREATE OR REPLACE FUNCTION masterfile.features_lookback_weeks()
RETURNS integer
LANGUAGE sql
IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, masterfile, pg_temp
AS $$
    SELECT 51
$$;
