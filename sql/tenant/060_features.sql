-- The master file's stored features: recomputed per key from its earliest
-- dirty week onward, seeded from the stored row of the week before.

CREATE OR REPLACE FUNCTION end_week()
RETURNS date
LANGUAGE sql
STABLE PARALLEL SAFE
SET search_path FROM CURRENT
AS $$
    -- the Monday of the week before as_of_date (the last complete week);
    -- as_of_date null rolls with the calendar
    SELECT (date_trunc('week', coalesce(s.as_of_date, current_date)) - interval '7 days')::date
    FROM settings s
$$;

-- A float sum with an inverse transition, so a trailing window slides in
-- O(1) per row instead of re-adding its whole frame (the built-in float sums
-- have no inverse). Both functions are PostgreSQL's own, in C. Drift over a
-- key's <= 311 rows stays far below the 1e-9 tolerance (tests compare).
CREATE OR REPLACE AGGREGATE moving_sum(double precision) (
    SFUNC = float8pl, STYPE = double precision,
    MSFUNC = float8pl, MINVFUNC = float8mi, MSTYPE = double precision
);

-- Session-lived work tables, emptied at every commit. Created here once per
-- session rather than per call so plans stay cached and the catalog is not
-- churned by every batch.
CREATE OR REPLACE FUNCTION ensure_work_tables()
RETURNS void
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE
SET search_path FROM CURRENT
AS $$
BEGIN
    -- guarantees: pg_temp.mf_batch, mf_claim and mf_new exist, empty at commit
    IF to_regclass('pg_temp.mf_batch') IS NULL THEN
        CREATE TEMP TABLE mf_batch (
            product_id  text NOT NULL,
            location_id text NOT NULL,
            from_week   date,
            new_first   date,
            old_first   date,
            last_stored date,
            start_week  date,
            stop_week   date,
            PRIMARY KEY (product_id, location_id)
        ) ON COMMIT DELETE ROWS;
    END IF;
    IF to_regclass('pg_temp.mf_claim') IS NULL THEN
        CREATE TEMP TABLE mf_claim (
            mark_id     bigint PRIMARY KEY,
            product_id  text NOT NULL,
            location_id text NOT NULL,
            from_week   date,
            scope       text NOT NULL
        ) ON COMMIT DELETE ROWS;
    END IF;
    IF to_regclass('pg_temp.mf_new') IS NULL THEN
        EXECUTE format('CREATE TEMP TABLE mf_new (LIKE %I.features) ON COMMIT DELETE ROWS', current_schema());
    END IF;
END;
$$;

-- Recompute the features of the given keys, each from its week onward
-- (null: from its first week). Writes only rows whose values changed and
-- returns how many feature rows it wrote (inserted, replaced or deleted).
CREATE OR REPLACE FUNCTION refresh_features(p_product_ids text[], p_location_ids text[], p_from_weeks date[])
RETURNS bigint
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE
SET search_path FROM CURRENT
AS $$
DECLARE
    -- the EWM closed form below multiplies by (1-a)^-k; 260 weeks keep that
    -- far from overflow at span 2 (3^260 ~ 1e124) and longer ranges are
    -- finished by a continuation mark, seeded from the rows just written
    c_max_weeks constant integer := 260;
    v_end     date := end_week();
    v_written bigint := 0;
    v_n       bigint;
BEGIN
    -- guarantees: for every given key, stored rows equal a from-scratch
    -- computation over weeks first_week..end_week (up to c_max_weeks past the
    -- start, the rest re-queued), and feature_keys holds its first week
    PERFORM ensure_work_tables();
    DELETE FROM mf_batch;
    DELETE FROM mf_new;
    -- one entry per key; a null from_week anywhere means "from the first week"
    INSERT INTO mf_batch (product_id, location_id, from_week)
    SELECT k.p, k.l, CASE WHEN bool_or(k.w IS NULL) THEN NULL ELSE min(k.w) END
    FROM unnest(p_product_ids, p_location_ids, p_from_weeks) AS k(p, l, w)
    GROUP BY k.p, k.l;

    UPDATE mf_batch b
    SET new_first = date_trunc('week', least(
            (SELECT min(s.business_date) FROM erp_sales_lines s
              WHERE s.product_id = b.product_id AND s.location_id = b.location_id AND NOT s.deleted),
            (SELECT min(r.received_date) FROM erp_receipt_lines r
              WHERE r.product_id = b.product_id AND r.location_id = b.location_id AND NOT r.deleted),
            (SELECT min(o.order_date) FROM erp_purchase_order_lines o
              WHERE o.product_id = b.product_id AND o.location_id = b.location_id AND NOT o.deleted),
            (SELECT min(i.invoice_date) FROM erp_invoice_lines i
              WHERE i.product_id = b.product_id AND i.location_id = b.location_id AND NOT i.deleted)))::date,
        old_first = (SELECT k.first_week FROM feature_keys k
                      WHERE k.product_id = b.product_id AND k.location_id = b.location_id),
        last_stored = (SELECT max(f.week_start) FROM features f
                        WHERE f.product_id = b.product_id AND f.location_id = b.location_id);

    -- where to start: the first week when the key is new, its first week
    -- moved (every week number shifts) or nothing is stored; else the dirty
    -- week, but never past the week after the last stored row
    UPDATE mf_batch
    SET start_week = CASE
            WHEN new_first IS NULL THEN NULL
            WHEN old_first IS DISTINCT FROM new_first OR last_stored IS NULL OR from_week IS NULL
                THEN new_first
            ELSE greatest(new_first, least(from_week, last_stored + 7))
        END;
    UPDATE mf_batch SET stop_week = least(v_end, start_week + 7 * (c_max_weeks - 1));
    -- the planner must know how many keys and weeks this is: few reach lines
    -- and stored rows through their indexes, many are better joined by hash
    ANALYZE mf_batch;

    -- rows that no longer belong: the key lost its lines, its first week
    -- moved later, or end_week moved back
    DELETE FROM features f
    USING mf_batch b
    WHERE f.product_id = b.product_id AND f.location_id = b.location_id
      AND (b.new_first IS NULL OR f.week_start < b.new_first OR f.week_start > v_end);
    GET DIAGNOSTICS v_n = ROW_COUNT;
    v_written := v_written + v_n;

    INSERT INTO mf_new
    WITH todo AS (
        SELECT * FROM mf_batch WHERE start_week IS NOT NULL AND start_week <= stop_week
    ),
    sales AS (
        SELECT s.product_id, s.location_id, date_trunc('week', s.business_date)::date AS week_start,
               coalesce(sum(s.qty) FILTER (WHERE s.qty > 0), 0)::float8 AS units_sold,
               coalesce(-sum(s.qty) FILTER (WHERE s.qty < 0), 0)::float8 AS units_returned,
               coalesce(sum(s.net_amount), 0)::float8 AS revenue
        FROM todo t JOIN erp_sales_lines s USING (product_id, location_id)
        WHERE NOT s.deleted AND s.business_date >= t.start_week AND s.business_date < t.stop_week + 7
        GROUP BY 1, 2, 3
    ),
    receipts AS (
        SELECT r.product_id, r.location_id, date_trunc('week', r.received_date)::date AS week_start,
               coalesce(sum(r.qty_received), 0)::float8 AS units_received
        FROM todo t JOIN erp_receipt_lines r USING (product_id, location_id)
        WHERE NOT r.deleted AND r.received_date >= t.start_week AND r.received_date < t.stop_week + 7
        GROUP BY 1, 2, 3
    ),
    orders AS (
        SELECT o.product_id, o.location_id, date_trunc('week', o.order_date)::date AS week_start,
               coalesce(sum(o.qty_ordered) FILTER (WHERE o.status IS DISTINCT FROM 'cancelled'), 0)::float8
                   AS units_ordered
        FROM todo t JOIN erp_purchase_order_lines o USING (product_id, location_id)
        WHERE NOT o.deleted AND o.order_date >= t.start_week AND o.order_date < t.stop_week + 7
        GROUP BY 1, 2, 3
    ),
    invoices AS (
        SELECT i.product_id, i.location_id, date_trunc('week', i.invoice_date)::date AS week_start,
               coalesce(sum(i.qty_invoiced), 0)::float8 AS units_invoiced,
               coalesce(sum(i.line_amount), 0)::float8 AS invoiced_amount,
               -- the week's latest line with a quantity: by date, invoice id as bytes, line
               (array_agg(i.line_amount::float8 / i.qty_invoiced::float8
                          ORDER BY i.invoice_date DESC, i.invoice_id COLLATE "C" DESC, i.line_no DESC)
                    FILTER (WHERE i.qty_invoiced > 0))[1] AS week_unit_cost,
               bool_or(i.qty_invoiced > 0) AS has_cost_line
        FROM todo t JOIN erp_invoice_lines i USING (product_id, location_id)
        WHERE NOT i.deleted AND i.invoice_date >= t.start_week AND i.invoice_date < t.stop_week + 7
        GROUP BY 1, 2, 3
    ),
    fresh AS (
        SELECT t.product_id, t.location_id, w.week_start, false AS is_prior,
               coalesce(sa.units_sold, 0) AS units_sold,
               coalesce(sa.units_returned, 0) AS units_returned,
               coalesce(sa.revenue, 0) AS revenue,
               coalesce(re.units_received, 0) AS units_received,
               coalesce(o.units_ordered, 0) AS units_ordered,
               coalesce(iv.units_invoiced, 0) AS units_invoiced,
               coalesce(iv.invoiced_amount, 0) AS invoiced_amount,
               iv.week_unit_cost, coalesce(iv.has_cost_line, false) AS has_cost_line
        FROM todo t
        CROSS JOIN LATERAL generate_series(t.start_week, t.stop_week, interval '7 days') AS g(d)
        CROSS JOIN LATERAL (SELECT g.d::date AS week_start) AS w
        LEFT JOIN sales sa ON sa.product_id = t.product_id AND sa.location_id = t.location_id AND sa.week_start = w.week_start
        LEFT JOIN receipts re ON re.product_id = t.product_id AND re.location_id = t.location_id AND re.week_start = w.week_start
        LEFT JOIN orders o ON o.product_id = t.product_id AND o.location_id = t.location_id AND o.week_start = w.week_start
        LEFT JOIN invoices iv ON iv.product_id = t.product_id AND iv.location_id = t.location_id AND iv.week_start = w.week_start
    ),
    -- the 51 stored weeks before the start feed the trailing windows and lags
    prior AS (
        SELECT f.product_id, f.location_id, f.week_start, true AS is_prior,
               f.units_sold, f.units_returned, f.revenue, f.units_received, f.units_ordered,
               f.units_invoiced, f.invoiced_amount, NULL::float8 AS week_unit_cost,
               false AS has_cost_line
        FROM todo t JOIN features f USING (product_id, location_id)
        WHERE f.week_start >= t.start_week - 7 * 51 AND f.week_start < t.start_week
    ),
    -- running state carried over from the stored row of the week before the start
    seed AS (
        SELECT t.product_id, t.location_id, t.start_week, t.new_first,
               f.ewm_units_sold_s2, f.ewm_units_sold_s4, f.ewm_units_sold_s8, f.ewm_units_sold_s13,
               f.ewm_revenue_s2, f.ewm_revenue_s4, f.ewm_revenue_s8, f.ewm_revenue_s13,
               f.ewm_units_received_s2, f.ewm_units_received_s4, f.ewm_units_received_s8, f.ewm_units_received_s13,
               f.ewm_units_returned_s2, f.ewm_units_returned_s4, f.ewm_units_returned_s8, f.ewm_units_returned_s13,
               coalesce(f.cum_units_sold, 0) AS cum_units_sold,
               coalesce(f.cum_units_returned, 0) AS cum_units_returned,
               coalesce(f.cum_revenue, 0) AS cum_revenue,
               coalesce(f.cum_units_received, 0) AS cum_units_received,
               coalesce(f.cum_units_ordered, 0) AS cum_units_ordered,
               coalesce(f.cum_units_invoiced, 0) AS cum_units_invoiced,
               CASE WHEN extract(year FROM f.week_start) = extract(year FROM t.start_week)
                    THEN f.ytd_units_sold ELSE 0 END AS ytd_units_sold,
               CASE WHEN extract(year FROM f.week_start) = extract(year FROM t.start_week)
                    THEN f.ytd_revenue ELSE 0 END AS ytd_revenue,
               f.week_index - f.weeks_since_first_sale AS first_sale_index,
               f.week_index - f.weeks_since_last_sale AS last_sale_index,
               f.last_invoice_unit_cost
        FROM todo t
        LEFT JOIN features f ON f.product_id = t.product_id AND f.location_id = t.location_id
                            AND f.week_start = t.start_week - 7
    ),
    -- kept narrow: every column carried through the window nodes costs time
    series AS (
        SELECT u.*, ((u.week_start - s.new_first) / 7)::int AS i,
               ((u.week_start - s.start_week) / 7)::int AS t,
               s.start_week,
               u.units_sold::numeric AS sold_n
        FROM (SELECT * FROM prior UNION ALL SELECT * FROM fresh) u
        JOIN seed s USING (product_id, location_id)
    ),
    -- Trailing windows, each O(1) per row: sums and the standard deviation
    -- slide with inverse transitions (numeric ones are exact, so sliding adds
    -- no drift), slopes come from exact sums of y and i*y, and maxima are
    -- composed from lags. Rows before the start only feed these windows, so
    -- their cost must not grow with the window (a one-week roll reads 52
    -- weeks per key). A window never reaches before first_week: it holds
    -- least(w, i + 1) weeks.
    rolled AS (
        SELECT x.*,
               moving_sum(x.units_sold) OVER w4 / least(4, x.i + 1) AS sold_mean_4,
               moving_sum(x.units_sold) OVER w8 / least(8, x.i + 1) AS sold_mean_8,
               moving_sum(x.units_sold) OVER w13 / least(13, x.i + 1) AS sold_mean_13,
               moving_sum(x.units_sold) OVER w26 / least(26, x.i + 1) AS sold_mean_26,
               moving_sum(x.units_sold) OVER w52 / least(52, x.i + 1) AS sold_mean_52,
               stddev_samp(x.sold_n) OVER w4 AS std_4,
               stddev_samp(x.sold_n) OVER w8 AS std_8,
               stddev_samp(x.sold_n) OVER w13 AS std_13,
               stddev_samp(x.sold_n) OVER w26 AS std_26,
               stddev_samp(x.sold_n) OVER w52 AS std_52,
               sum(x.sold_n) OVER w4 AS sy_4, sum(x.sold_n * x.i) OVER w4 AS siy_4,
               sum(x.sold_n) OVER w8 AS sy_8, sum(x.sold_n * x.i) OVER w8 AS siy_8,
               sum(x.sold_n) OVER w13 AS sy_13, sum(x.sold_n * x.i) OVER w13 AS siy_13,
               sum(x.sold_n) OVER w26 AS sy_26, sum(x.sold_n * x.i) OVER w26 AS siy_26,
               greatest(x.units_sold, lag(x.units_sold, 1) OVER key_w, lag(x.units_sold, 2) OVER key_w,
                        lag(x.units_sold, 3) OVER key_w, lag(x.units_sold, 4) OVER key_w,
                        lag(x.units_sold, 5) OVER key_w, lag(x.units_sold, 6) OVER key_w,
                        lag(x.units_sold, 7) OVER key_w, lag(x.units_sold, 8) OVER key_w,
                        lag(x.units_sold, 9) OVER key_w, lag(x.units_sold, 10) OVER key_w,
                        lag(x.units_sold, 11) OVER key_w, lag(x.units_sold, 12) OVER key_w) AS sold_max_13,
               sum((x.units_sold = 0)::int) OVER w13 / least(13, x.i + 1)::float8 AS sold_zero_share_13,
               moving_sum(x.revenue) OVER w13 AS revenue_13
        FROM series x
        WINDOW key_w AS (PARTITION BY x.product_id, x.location_id ORDER BY x.week_start),
               w4 AS (key_w ROWS BETWEEN 3 PRECEDING AND CURRENT ROW),
               w8 AS (key_w ROWS BETWEEN 7 PRECEDING AND CURRENT ROW),
               w13 AS (key_w ROWS BETWEEN 12 PRECEDING AND CURRENT ROW),
               w26 AS (key_w ROWS BETWEEN 25 PRECEDING AND CURRENT ROW),
               w52 AS (key_w ROWS BETWEEN 51 PRECEDING AND CURRENT ROW)
    ),
    -- lags and the 52-week maximum still need the stored weeks before the start
    lagged AS (
        SELECT x.*,
               lag(x.units_sold, 1) OVER key_w AS sold_lag_1,
               lag(x.units_sold, 2) OVER key_w AS sold_lag_2,
               lag(x.units_sold, 3) OVER key_w AS sold_lag_3,
               lag(x.units_sold, 4) OVER key_w AS sold_lag_4,
               lag(x.units_sold, 5) OVER key_w AS sold_lag_5,
               lag(x.units_sold, 6) OVER key_w AS sold_lag_6,
               lag(x.units_sold, 7) OVER key_w AS sold_lag_7,
               lag(x.units_sold, 8) OVER key_w AS sold_lag_8,
               lag(x.units_sold, 9) OVER key_w AS sold_lag_9,
               lag(x.units_sold, 10) OVER key_w AS sold_lag_10,
               lag(x.units_sold, 11) OVER key_w AS sold_lag_11,
               lag(x.units_sold, 12) OVER key_w AS sold_lag_12,
               lag(x.units_sold, 13) OVER key_w AS sold_lag_13,
               lag(x.units_sold, 14) OVER key_w AS sold_lag_14,
               greatest(x.sold_max_13, lag(x.sold_max_13, 13) OVER key_w, lag(x.sold_max_13, 26) OVER key_w,
                        lag(x.sold_max_13, 39) OVER key_w) AS sold_max_52
        FROM rolled x
        WINDOW key_w AS (PARTITION BY x.product_id, x.location_id ORDER BY x.week_start)
    ),
    -- running values over the weeks being computed only: the stored weeks
    -- before the start have done their part (a one-week roll reads 52 weeks
    -- per key, and would pay every running window for all of them)
    w1 AS (
        SELECT x.*,
               -- a week whose latest costed line has no amount resets the cost to null
               count(*) FILTER (WHERE x.has_cost_line) OVER run AS cost_grp,
               -- x_start stands in for the seed when the key starts here (e_0 = x_0)
               min(x.units_sold) FILTER (WHERE x.t = 0) OVER key AS sold_0,
               min(x.revenue) FILTER (WHERE x.t = 0) OVER key AS revenue_0,
               min(x.units_received) FILTER (WHERE x.t = 0) OVER key AS received_0,
               min(x.units_returned) FILTER (WHERE x.t = 0) OVER key AS returned_0,
               sum(x.units_sold) OVER run AS run_sold,
               sum(x.units_returned) OVER run AS run_returned,
               sum(x.revenue) OVER run AS run_revenue,
               sum(x.units_received) OVER run AS run_received,
               sum(x.units_ordered) OVER run AS run_ordered,
               sum(x.units_invoiced) OVER run AS run_invoiced,
               sum(x.units_sold) OVER run_year AS run_year_sold,
               sum(x.revenue) OVER run_year AS run_year_revenue,
               min(x.i) FILTER (WHERE x.units_sold > 0) OVER run AS run_first_sale,
               max(x.i) FILTER (WHERE x.units_sold > 0) OVER run AS run_last_sale,
               -- EWM closed form from the start: e_t = q^t (q e_seed + a sum_k x_k q^-k)
               sum(x.units_sold * power(1.0::float8 / 3, -x.t)) OVER run AS zs2,
               sum(x.units_sold * power(0.6::float8, -x.t)) OVER run AS zs4,
               sum(x.units_sold * power(7.0::float8 / 9, -x.t)) OVER run AS zs8,
               sum(x.units_sold * power(6.0::float8 / 7, -x.t)) OVER run AS zs13,
               sum(x.revenue * power(1.0::float8 / 3, -x.t)) OVER run AS zr2,
               sum(x.revenue * power(0.6::float8, -x.t)) OVER run AS zr4,
               sum(x.revenue * power(7.0::float8 / 9, -x.t)) OVER run AS zr8,
               sum(x.revenue * power(6.0::float8 / 7, -x.t)) OVER run AS zr13,
               sum(x.units_received * power(1.0::float8 / 3, -x.t)) OVER run AS zc2,
               sum(x.units_received * power(0.6::float8, -x.t)) OVER run AS zc4,
               sum(x.units_received * power(7.0::float8 / 9, -x.t)) OVER run AS zc8,
               sum(x.units_received * power(6.0::float8 / 7, -x.t)) OVER run AS zc13,
               sum(x.units_returned * power(1.0::float8 / 3, -x.t)) OVER run AS zt2,
               sum(x.units_returned * power(0.6::float8, -x.t)) OVER run AS zt4,
               sum(x.units_returned * power(7.0::float8 / 9, -x.t)) OVER run AS zt8,
               sum(x.units_returned * power(6.0::float8 / 7, -x.t)) OVER run AS zt13
        FROM lagged x
        WHERE NOT x.is_prior
        WINDOW key AS (PARTITION BY x.product_id, x.location_id),
               key_w AS (PARTITION BY x.product_id, x.location_id ORDER BY x.week_start),
               run AS (key_w ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW),
               run_year AS (PARTITION BY x.product_id, x.location_id, extract(year FROM x.week_start)
                            ORDER BY x.week_start ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
    ),
    -- last, what needs the running values (carried invoice cost, EWM)
    w2 AS (
        SELECT y.*,
               first_value(y.week_unit_cost) OVER (PARTITION BY y.product_id, y.location_id, y.cost_grp
                                                   ORDER BY y.week_start) AS carried_cost,
               power(1.0::float8 / 3, y.t) AS q2, power(0.6::float8, y.t) AS q4,
               power(7.0::float8 / 9, y.t) AS q8, power(6.0::float8 / 7, y.t) AS q13
        FROM w1 y
    )
    SELECT
        z.product_id, z.location_id, z.week_start, z.i,
        z.units_sold, z.units_returned, z.revenue, z.units_received, z.units_ordered,
        z.units_invoiced, z.invoiced_amount,
        z.sold_lag_1, z.sold_lag_2, z.sold_lag_3, z.sold_lag_4, z.sold_lag_5, z.sold_lag_6, z.sold_lag_7,
        z.sold_lag_8, z.sold_lag_9, z.sold_lag_10, z.sold_lag_11, z.sold_lag_12, z.sold_lag_13, z.sold_lag_14,
        z.q2 * (1.0 / 3 * coalesce(s.ewm_units_sold_s2, z.sold_0) + 2.0 / 3 * z.zs2),
        z.q4 * (0.6 * coalesce(s.ewm_units_sold_s4, z.sold_0) + 0.4 * z.zs4),
        z.q8 * (7.0 / 9 * coalesce(s.ewm_units_sold_s8, z.sold_0) + 2.0 / 9 * z.zs8),
        z.q13 * (6.0 / 7 * coalesce(s.ewm_units_sold_s13, z.sold_0) + 1.0 / 7 * z.zs13),
        z.q2 * (1.0 / 3 * coalesce(s.ewm_revenue_s2, z.revenue_0) + 2.0 / 3 * z.zr2),
        z.q4 * (0.6 * coalesce(s.ewm_revenue_s4, z.revenue_0) + 0.4 * z.zr4),
        z.q8 * (7.0 / 9 * coalesce(s.ewm_revenue_s8, z.revenue_0) + 2.0 / 9 * z.zr8),
        z.q13 * (6.0 / 7 * coalesce(s.ewm_revenue_s13, z.revenue_0) + 1.0 / 7 * z.zr13),
        z.q2 * (1.0 / 3 * coalesce(s.ewm_units_received_s2, z.received_0) + 2.0 / 3 * z.zc2),
        z.q4 * (0.6 * coalesce(s.ewm_units_received_s4, z.received_0) + 0.4 * z.zc4),
        z.q8 * (7.0 / 9 * coalesce(s.ewm_units_received_s8, z.received_0) + 2.0 / 9 * z.zc8),
        z.q13 * (6.0 / 7 * coalesce(s.ewm_units_received_s13, z.received_0) + 1.0 / 7 * z.zc13),
        z.q2 * (1.0 / 3 * coalesce(s.ewm_units_returned_s2, z.returned_0) + 2.0 / 3 * z.zt2),
        z.q4 * (0.6 * coalesce(s.ewm_units_returned_s4, z.returned_0) + 0.4 * z.zt4),
        z.q8 * (7.0 / 9 * coalesce(s.ewm_units_returned_s8, z.returned_0) + 2.0 / 9 * z.zt8),
        z.q13 * (6.0 / 7 * coalesce(s.ewm_units_returned_s13, z.returned_0) + 1.0 / 7 * z.zt13),
        z.sold_mean_4, z.sold_mean_8, z.sold_mean_13, z.sold_mean_26, z.sold_mean_52,
        z.std_4::float8, z.std_8::float8, z.std_13::float8, z.std_26::float8, z.std_52::float8,
        z.sold_max_13, z.sold_max_52, z.sold_zero_share_13, z.revenue_13 / least(13, z.i + 1),
        -- OLS slope over the window's n = least(w, i + 1) weeks i-n+1 .. i, from
        -- exact sums: (n sum(iy) - sum(i) sum(y)) / (n^2 (n^2 - 1) / 12)
        CASE WHEN z.i > 0 THEN ((least(4, z.i + 1) * z.siy_4 - (least(4, z.i + 1) * z.i - least(4, z.i + 1) * (least(4, z.i + 1) - 1) / 2) * z.sy_4)
              / (least(4, z.i + 1) * least(4, z.i + 1) * (least(4, z.i + 1) * least(4, z.i + 1) - 1) / 12.0))::float8 END,
        CASE WHEN z.i > 0 THEN ((least(8, z.i + 1) * z.siy_8 - (least(8, z.i + 1) * z.i - least(8, z.i + 1) * (least(8, z.i + 1) - 1) / 2) * z.sy_8)
              / (least(8, z.i + 1) * least(8, z.i + 1) * (least(8, z.i + 1) * least(8, z.i + 1) - 1) / 12.0))::float8 END,
        CASE WHEN z.i > 0 THEN ((least(13, z.i + 1) * z.siy_13 - (least(13, z.i + 1) * z.i - least(13, z.i + 1) * (least(13, z.i + 1) - 1) / 2) * z.sy_13)
              / (least(13, z.i + 1) * least(13, z.i + 1) * (least(13, z.i + 1) * least(13, z.i + 1) - 1) / 12.0))::float8 END,
        CASE WHEN z.i > 0 THEN ((least(26, z.i + 1) * z.siy_26 - (least(26, z.i + 1) * z.i - least(26, z.i + 1) * (least(26, z.i + 1) - 1) / 2) * z.sy_26)
              / (least(26, z.i + 1) * least(26, z.i + 1) * (least(26, z.i + 1) * least(26, z.i + 1) - 1) / 12.0))::float8 END,
        s.cum_units_sold + z.run_sold,
        s.cum_units_returned + z.run_returned,
        s.cum_revenue + z.run_revenue,
        s.cum_units_received + z.run_received,
        s.cum_units_ordered + z.run_ordered,
        s.cum_units_invoiced + z.run_invoiced,
        CASE WHEN extract(year FROM z.week_start) = extract(year FROM z.start_week)
             THEN s.ytd_units_sold ELSE 0 END + z.run_year_sold,
        CASE WHEN extract(year FROM z.week_start) = extract(year FROM z.start_week)
             THEN s.ytd_revenue ELSE 0 END + z.run_year_revenue,
        (s.cum_units_received + z.run_received) - (s.cum_units_sold + z.run_sold)
            + (s.cum_units_returned + z.run_returned),
        greatest(0, (s.cum_units_ordered + z.run_ordered) - (s.cum_units_received + z.run_received)),
        z.i - coalesce(s.first_sale_index, z.run_first_sale),
        z.i - coalesce(z.run_last_sale, s.last_sale_index),
        NULL::float8,  -- weeks_of_cover, from est_on_hand and ewm_units_sold_s4 below
        -- the zero test is exact (numeric): a float residue must not divide
        z.revenue_13 / nullif(z.sy_13, 0)::float8,
        CASE WHEN z.cost_grp = 0 THEN s.last_invoice_unit_cost ELSE z.carried_cost END
    FROM w2 z
    JOIN seed s USING (product_id, location_id);

    UPDATE mf_new SET weeks_of_cover = est_on_hand / ewm_units_sold_s4 WHERE ewm_units_sold_s4 > 0;

    -- write only what changed: the key's unique index decides insert or
    -- update row by row (no join for the planner to misjudge while the
    -- table grows), and a row equal to the stored one is not touched
    INSERT INTO features AS f
    SELECT n.* FROM mf_new n
    ON CONFLICT (product_id, location_id, week_start) DO UPDATE SET (
        week_index, units_sold, units_returned, revenue, units_received, units_ordered,
        units_invoiced, invoiced_amount, sold_lag_1, sold_lag_2, sold_lag_3, sold_lag_4,
        sold_lag_5, sold_lag_6, sold_lag_7, sold_lag_8, sold_lag_9, sold_lag_10, sold_lag_11,
        sold_lag_12, sold_lag_13, sold_lag_14, ewm_units_sold_s2, ewm_units_sold_s4,
        ewm_units_sold_s8, ewm_units_sold_s13, ewm_revenue_s2, ewm_revenue_s4, ewm_revenue_s8,
        ewm_revenue_s13, ewm_units_received_s2, ewm_units_received_s4, ewm_units_received_s8,
        ewm_units_received_s13, ewm_units_returned_s2, ewm_units_returned_s4,
        ewm_units_returned_s8, ewm_units_returned_s13, sold_mean_4, sold_mean_8, sold_mean_13,
        sold_mean_26, sold_mean_52, sold_std_4, sold_std_8, sold_std_13, sold_std_26, sold_std_52,
        sold_max_13, sold_max_52, sold_zero_share_13, revenue_mean_13, sold_slope_4, sold_slope_8,
        sold_slope_13, sold_slope_26, cum_units_sold, cum_units_returned, cum_revenue,
        cum_units_received, cum_units_ordered, cum_units_invoiced, ytd_units_sold, ytd_revenue,
        est_on_hand, on_order, weeks_since_first_sale, weeks_since_last_sale, weeks_of_cover,
        avg_price_13, last_invoice_unit_cost
    ) = ROW(
        excluded.week_index, excluded.units_sold, excluded.units_returned, excluded.revenue,
        excluded.units_received, excluded.units_ordered, excluded.units_invoiced,
        excluded.invoiced_amount, excluded.sold_lag_1, excluded.sold_lag_2, excluded.sold_lag_3,
        excluded.sold_lag_4, excluded.sold_lag_5, excluded.sold_lag_6, excluded.sold_lag_7,
        excluded.sold_lag_8, excluded.sold_lag_9, excluded.sold_lag_10, excluded.sold_lag_11,
        excluded.sold_lag_12, excluded.sold_lag_13, excluded.sold_lag_14,
        excluded.ewm_units_sold_s2, excluded.ewm_units_sold_s4, excluded.ewm_units_sold_s8,
        excluded.ewm_units_sold_s13, excluded.ewm_revenue_s2, excluded.ewm_revenue_s4,
        excluded.ewm_revenue_s8, excluded.ewm_revenue_s13, excluded.ewm_units_received_s2,
        excluded.ewm_units_received_s4, excluded.ewm_units_received_s8,
        excluded.ewm_units_received_s13, excluded.ewm_units_returned_s2,
        excluded.ewm_units_returned_s4, excluded.ewm_units_returned_s8,
        excluded.ewm_units_returned_s13, excluded.sold_mean_4, excluded.sold_mean_8,
        excluded.sold_mean_13, excluded.sold_mean_26, excluded.sold_mean_52, excluded.sold_std_4,
        excluded.sold_std_8, excluded.sold_std_13, excluded.sold_std_26, excluded.sold_std_52,
        excluded.sold_max_13, excluded.sold_max_52, excluded.sold_zero_share_13,
        excluded.revenue_mean_13, excluded.sold_slope_4, excluded.sold_slope_8,
        excluded.sold_slope_13, excluded.sold_slope_26, excluded.cum_units_sold,
        excluded.cum_units_returned, excluded.cum_revenue, excluded.cum_units_received,
        excluded.cum_units_ordered, excluded.cum_units_invoiced, excluded.ytd_units_sold,
        excluded.ytd_revenue, excluded.est_on_hand, excluded.on_order,
        excluded.weeks_since_first_sale, excluded.weeks_since_last_sale, excluded.weeks_of_cover,
        excluded.avg_price_13, excluded.last_invoice_unit_cost
    )
    WHERE f IS DISTINCT FROM excluded;
    GET DIAGNOSTICS v_n = ROW_COUNT;
    v_written := v_written + v_n;

    DELETE FROM feature_keys k USING mf_batch b
    WHERE k.product_id = b.product_id AND k.location_id = b.location_id AND b.new_first IS NULL;
    INSERT INTO feature_keys (product_id, location_id, first_week)
    SELECT product_id, location_id, new_first FROM mf_batch WHERE new_first IS NOT NULL
    ON CONFLICT (product_id, location_id) DO UPDATE SET first_week = excluded.first_week
    WHERE feature_keys.first_week IS DISTINCT FROM excluded.first_week;

    -- a range longer than c_max_weeks goes on in a later batch
    INSERT INTO dirty_keys (product_id, location_id, from_week, scope)
    SELECT product_id, location_id, stop_week + 7, 'features'
    FROM mf_batch WHERE stop_week < v_end;

    RETURN v_written;
END;
$$;
