-- The forecast and order recommendation of many keys at once
-- (forecast-and-orders.md), in PL/Python: pyloader/kernels/forecast.py,
-- batch(), whose docstring says what each argument holds and what each
-- result is. One element per key in every array, keys in the same order;
-- p_y_flat is every key's weekly units_sold, key after key, as
-- docs/weekly-series.md lays them out. Called by refresh_plans
-- (tenant/090_plans.sql).
--
-- The arguments are batch()'s parameters with p_ in front and the OUT
-- arrays its BATCH_COLUMNS (PL/Python maps the returned dict onto them by
-- name); tests/test_kernel_declarations.py holds the two to each other.
-- `pyloader migrate` puts the loader of pyloader/kernels/forecast.py in
-- place of the line `@kernel forecast@` (pyloader/plpython.py): the source
-- is embedded as read at migrate time, so no path is configured on the server.
-- Pure computation: reads nothing, so every tenant's pipeline may call it
-- (ensure_tenant_roles grants it).

CREATE OR REPLACE FUNCTION masterfile.forecast_batch(
    p_y_flat bytea,
    p_lengths integer[],
    p_sigma double precision[],
    p_est_on_hand double precision[],
    p_on_order double precision[],
    p_lead_time_days double precision[],
    p_review_period_weeks double precision[],
    p_service_level double precision[],
    p_min_order_qty double precision[],
    p_order_multiple double precision[],
    p_discontinued boolean[],
    p_assorted boolean[],
    p_location_enabled boolean[],
    OUT demand_class text[],
    OUT method text[],
    OUT forecast_per_week double precision[],
    OUT sigma double precision[],
    OUT lead_time_weeks double precision[],
    OUT review_period_weeks double precision[],
    OUT service_level double precision[],
    OUT z double precision[],
    OUT safety_stock double precision[],
    OUT order_up_to double precision[],
    OUT inventory_position double precision[],
    OUT raw_qty double precision[],
    OUT recommended_qty double precision[],
    OUT reason text[])
LANGUAGE plpython3u
IMMUTABLE PARALLEL SAFE CALLED ON NULL INPUT SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $kernel$
@kernel forecast@
return module.batch(p_y_flat, p_lengths, p_sigma, p_est_on_hand, p_on_order, p_lead_time_days,
                    p_review_period_weeks, p_service_level, p_min_order_qty, p_order_multiple, p_discontinued,
                    p_assorted, p_location_enabled)
$kernel$;

REVOKE ALL ON FUNCTION masterfile.forecast_batch FROM PUBLIC;

-- The weeks of units_sold a key's forecast reads, ending at end_week: the
-- kernel uses only the last MAX_WEEKS of a longer series
-- (pyloader/kernels/forecast.py; tests/test_kernel_declarations.py holds
-- the two equal). refresh_plans reads that many, and every key's sold tail
-- keeps that many (tenant/060_features.sql, tenant/090_plans.sql).
CREATE OR REPLACE FUNCTION masterfile.forecast_weeks()
RETURNS integer
LANGUAGE sql
IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, masterfile, pg_temp
AS $$
    SELECT 104
$$;
