-- The master file's per-key computation, in C (ext/masterfile_kernel.c,
-- installed into PostgreSQL's $libdir by scripts/install-kernel.sh). One call
-- per key: the features to compute (the kind, input and parameter of each,
-- as masterfile.declared_features lists them; refresh_features passes its
-- tenant's), the key's weekly facts as arrays of (week, facts) entries,
-- with up to features_lookback_weeks() stored weeks before the first week
-- computed (or those weeks as p_prior_sold and p_prior_revenue, laid out as
-- docs/weekly-series.md says), and the stored row before it, one element
-- per feature (p_seed); one row per week computed: week_start, week_index,
-- then one column per feature, which the caller names and types in its
-- column definition list (the kernel checks the types against the kinds).
-- Pure computation: reads nothing, so every tenant may call it
-- (ensure_tenant_roles grants it).

CREATE OR REPLACE FUNCTION masterfile.features_kernel(
    p_kinds text[],
    p_inputs text[],
    p_params integer[],
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
    p_prior_revenue bytea DEFAULT NULL)
RETURNS SETOF record
LANGUAGE c
IMMUTABLE PARALLEL SAFE CALLED ON NULL INPUT SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS 'masterfile_kernel', 'features_kernel_by_kind';

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
