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
DECLARE
    -- bump when a definition below changes: a session that outlived the
    -- upgrade (the worker keeps its own) then drops and recreates them
    c_version constant text := '4';
BEGIN
    -- guarantees: pg_temp.mf_batch, mf_claim, mf_series and mf_new exist as
    -- defined here, empty at commit
    IF current_setting('masterfile.work_tables', true) IS NOT DISTINCT FROM c_version
       AND to_regclass('pg_temp.mf_new') IS NOT NULL THEN
        RETURN;
    END IF;
    DROP TABLE IF EXISTS pg_temp.mf_batch, pg_temp.mf_claim, pg_temp.mf_series, pg_temp.mf_new;
    -- one row per key: where its computation starts and stops, and the
    -- running state of the stored row of the week before the start
    CREATE TEMP TABLE mf_batch (
        product_id  text NOT NULL,
        location_id text NOT NULL,
        -- the key within the batch: the work below sorts and joins on it
        -- rather than on two text columns (compared by the locale)
        key_no      integer NOT NULL UNIQUE,
        from_week   date,
        new_first   date,
        old_first   date,
        last_stored date,
        start_week  date,
        stop_week   date,
        short_path  boolean,
        ewm_units_sold_s2 double precision, ewm_units_sold_s4 double precision,
        ewm_units_sold_s8 double precision, ewm_units_sold_s13 double precision,
        ewm_revenue_s2 double precision, ewm_revenue_s4 double precision,
        ewm_revenue_s8 double precision, ewm_revenue_s13 double precision,
        ewm_units_received_s2 double precision, ewm_units_received_s4 double precision,
        ewm_units_received_s8 double precision, ewm_units_received_s13 double precision,
        ewm_units_returned_s2 double precision, ewm_units_returned_s4 double precision,
        ewm_units_returned_s8 double precision, ewm_units_returned_s13 double precision,
        cum_units_sold double precision, cum_units_returned double precision,
        cum_revenue double precision, cum_units_received double precision,
        cum_units_ordered double precision, cum_units_invoiced double precision,
        ytd_units_sold double precision, ytd_revenue double precision,
        first_sale_index integer, last_sale_index integer,
        last_invoice_unit_cost double precision,
        PRIMARY KEY (product_id, location_id)
    ) ON COMMIT DELETE ROWS;
    CREATE TEMP TABLE mf_claim (
        mark_id     bigint PRIMARY KEY,
        product_id  text NOT NULL,
        location_id text NOT NULL,
        from_week   date,
        scope       text NOT NULL
    ) ON COMMIT DELETE ROWS;
    -- each key's weekly facts: the weeks being computed, then the stored
    -- weeks before them that the trailing windows and lags still need
    CREATE TEMP TABLE mf_series (
        key_no          integer NOT NULL,
        week_start      date NOT NULL,
        is_prior        boolean NOT NULL,
        short_path      boolean NOT NULL,
        i               integer NOT NULL,
        t               integer NOT NULL,
        units_sold      double precision NOT NULL,
        units_returned  double precision NOT NULL,
        revenue         double precision NOT NULL,
        units_received  double precision NOT NULL,
        units_ordered   double precision NOT NULL,
        units_invoiced  double precision NOT NULL,
        invoiced_amount double precision NOT NULL,
        week_unit_cost  double precision,
        has_cost_line   boolean NOT NULL
    ) ON COMMIT DELETE ROWS;
    -- the short path reads its new weeks by key and week; the long path's
    -- rows (a full rebuild's millions) stay out of the index
    CREATE INDEX ON mf_series (key_no, i) WHERE short_path;
    EXECUTE format('CREATE TEMP TABLE mf_new (LIKE %I.features) ON COMMIT DELETE ROWS', current_schema());
    PERFORM set_config('masterfile.work_tables', c_version, false);
    -- new tables have no statistics
    PERFORM set_config('masterfile.analyzed_mf_batch', '', false);
    PERFORM set_config('masterfile.analyzed_mf_series', '', false);
END;
$$;

-- The planner must know how many rows a work table holds (one key reaches
-- lines and stored rows through their indexes, thousands are joined by hash;
-- a guess once ran the window functions again for every row). But an
-- ANALYZE makes every statement reading the table be planned again, which
-- costs more than a one-key pass itself; so analyze only when the row count
-- moved to another power of two since this session last did.
CREATE OR REPLACE FUNCTION analyze_work_table(p_table text, p_rows bigint)
RETURNS void
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE
SET search_path FROM CURRENT
AS $$
DECLARE
    v_setting text := 'masterfile.analyzed_' || p_table;
    v_class   text := ceil(log(2, greatest(p_rows, 1)))::integer::text;
BEGIN
    -- guarantees: statistics of pg_temp.<p_table> match its size within 2x
    IF current_setting(v_setting, true) IS DISTINCT FROM v_class THEN
        EXECUTE format('ANALYZE pg_temp.%I', p_table);
        PERFORM set_config(v_setting, v_class, false);
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
-- the estimates run to a million rows per batch (generate_series is taken
-- for 1,000 weeks per key), and JIT then spends ~200 ms compiling each
-- statement of a batch that takes less
SET jit = off
AS $$
DECLARE
    -- the EWM closed form below multiplies by (1-a)^-k; 260 weeks keep that
    -- far from overflow at span 2 (3^260 ~ 1e124) and longer ranges are
    -- finished by a continuation mark, seeded from the rows just written
    c_max_weeks constant integer := 260;
    -- a range of up to this many weeks after stored ones takes the short
    -- path below (see there; beyond it the long path is cheaper)
    c_short_weeks constant integer := 13;
    v_end     date := end_week();
    v_written bigint := 0;
    v_n       bigint;
BEGIN
    -- guarantees: for every given key, stored rows equal a from-scratch
    -- computation over weeks first_week..end_week (up to c_max_weeks past the
    -- start, the rest re-queued), and feature_keys holds its first week
    PERFORM ensure_work_tables();
    DELETE FROM mf_batch;
    DELETE FROM mf_series;
    DELETE FROM mf_new;
    -- one row per key: where it starts and stops, and the running state of
    -- the stored row of the week before the start (one statement: the table
    -- is wide, and each UPDATE of it rewrote every row). Each step is
    -- MATERIALIZED: inlined, a value is computed again (lookups included)
    -- wherever a later step names it.
    INSERT INTO mf_batch
    WITH k AS (
        -- a null from_week anywhere means "from the first week"
        SELECT k.p AS product_id, k.l AS location_id,
               row_number() OVER (ORDER BY k.p COLLATE "C", k.l COLLATE "C") AS key_no,
               CASE WHEN bool_or(k.w IS NULL) THEN NULL ELSE min(k.w) END AS from_week
        FROM unnest(p_product_ids, p_location_ids, p_from_weeks) AS k(p, l, w)
        GROUP BY k.p, k.l
    ),
    stored AS MATERIALIZED (
        SELECT k.*,
               (SELECT fk.first_week FROM feature_keys fk
                 WHERE fk.product_id = k.product_id AND fk.location_id = k.location_id) AS old_first,
               (SELECT max(f.week_start) FROM features f
                 WHERE f.product_id = k.product_id AND f.location_id = k.location_id) AS last_stored
        FROM k
    ),
    -- the key's first week now: a change after its first week leaves that
    -- week's lines alone (a calendar roll looks up nothing)
    firsts AS MATERIALIZED (
        SELECT s.*,
               CASE WHEN s.from_week > s.old_first THEN s.old_first ELSE date_trunc('week', least(
                   (SELECT min(l.business_date) FROM erp_sales_lines l
                     WHERE l.product_id = s.product_id AND l.location_id = s.location_id AND NOT l.deleted),
                   (SELECT min(r.received_date) FROM erp_receipt_lines r
                     WHERE r.product_id = s.product_id AND r.location_id = s.location_id AND NOT r.deleted),
                   (SELECT min(o.order_date) FROM erp_purchase_order_lines o
                     WHERE o.product_id = s.product_id AND o.location_id = s.location_id AND NOT o.deleted),
                   (SELECT min(i.invoice_date) FROM erp_invoice_lines i
                     WHERE i.product_id = s.product_id AND i.location_id = s.location_id AND NOT i.deleted)
               ))::date END AS new_first
        FROM stored s
    ),
    -- where to start: the first week when the key is new, its first week
    -- moved (every week number shifts) or nothing is stored; else the dirty
    -- week, but never past the week after the last stored row
    starts AS MATERIALIZED (
        SELECT f.*,
               CASE WHEN f.new_first IS NULL THEN NULL
                    WHEN f.old_first IS DISTINCT FROM f.new_first OR f.last_stored IS NULL OR f.from_week IS NULL
                        THEN f.new_first
                    ELSE greatest(f.new_first, least(f.from_week, f.last_stored + 7))
               END AS start_week
        FROM firsts f
    ),
    bounds AS MATERIALIZED (
        SELECT s.*, least(v_end, s.start_week + 7 * (c_max_weeks - 1)) AS stop_week
        FROM starts s
    )
    SELECT b.product_id, b.location_id, b.key_no, b.from_week, b.new_first, b.old_first, b.last_stored,
           b.start_week, b.stop_week, b.start_week > b.new_first AND b.stop_week < b.start_week + 7 * c_short_weeks,
           f.ewm_units_sold_s2, f.ewm_units_sold_s4, f.ewm_units_sold_s8, f.ewm_units_sold_s13,
           f.ewm_revenue_s2, f.ewm_revenue_s4, f.ewm_revenue_s8, f.ewm_revenue_s13,
           f.ewm_units_received_s2, f.ewm_units_received_s4, f.ewm_units_received_s8, f.ewm_units_received_s13,
           f.ewm_units_returned_s2, f.ewm_units_returned_s4, f.ewm_units_returned_s8, f.ewm_units_returned_s13,
           -- a key computed from its first week starts from zero
           coalesce(f.cum_units_sold, 0), coalesce(f.cum_units_returned, 0), coalesce(f.cum_revenue, 0),
           coalesce(f.cum_units_received, 0), coalesce(f.cum_units_ordered, 0), coalesce(f.cum_units_invoiced, 0),
           CASE WHEN extract(year FROM f.week_start) = extract(year FROM b.start_week) THEN f.ytd_units_sold ELSE 0 END,
           CASE WHEN extract(year FROM f.week_start) = extract(year FROM b.start_week) THEN f.ytd_revenue ELSE 0 END,
           f.week_index - f.weeks_since_first_sale, f.week_index - f.weeks_since_last_sale,
           f.last_invoice_unit_cost
    FROM bounds b
    -- the running state carried over from the stored row of the week before the start
    LEFT JOIN LATERAL (
        SELECT f.* FROM features f
        WHERE f.product_id = b.product_id AND f.location_id = b.location_id AND f.week_start = b.start_week - 7
          AND b.start_week > b.new_first
    ) f ON true;
    GET DIAGNOSTICS v_n = ROW_COUNT;
    PERFORM analyze_work_table('mf_batch', v_n);

    -- rows that no longer belong: the key lost its lines, its first week
    -- moved later, or end_week moved back
    -- (only keys that can have such rows: a join of every key in the batch
    -- with features would read the whole table for nothing)
    IF EXISTS (SELECT 1 FROM mf_batch b
               WHERE b.last_stored IS NOT NULL
                 AND (b.new_first IS DISTINCT FROM b.old_first OR b.last_stored > v_end)) THEN
        DELETE FROM features f
        USING mf_batch b
        WHERE f.product_id = b.product_id AND f.location_id = b.location_id
          AND b.last_stored IS NOT NULL
          AND (b.new_first IS DISTINCT FROM b.old_first OR b.last_stored > v_end)
          AND (b.new_first IS NULL OR f.week_start < b.new_first OR f.week_start > v_end);
        GET DIAGNOSTICS v_n = ROW_COUNT;
        v_written := v_written + v_n;
    END IF;

    -- stage 1: each key's weekly facts from the start, and for a key on the
    -- long path the stored weeks before the start that its trailing windows
    -- and lags still need
    INSERT INTO mf_series
    WITH todo AS (
        SELECT * FROM mf_batch WHERE start_week IS NOT NULL AND start_week <= stop_week
    ),
    -- Each key's lines are read through its (key, date) index, one key at a
    -- time (LATERAL): a join would be planned for a guess at how much of
    -- the range condition passes, and hash the whole table for one week.
    sales AS (
        SELECT t.key_no, x.*
        FROM todo t CROSS JOIN LATERAL (
            SELECT date_trunc('week', s.business_date)::date AS week_start,
                   coalesce(sum(s.qty) FILTER (WHERE s.qty > 0), 0)::float8 AS units_sold,
                   coalesce(-sum(s.qty) FILTER (WHERE s.qty < 0), 0)::float8 AS units_returned,
                   coalesce(sum(s.net_amount), 0)::float8 AS revenue
            FROM erp_sales_lines s
            WHERE s.product_id = t.product_id AND s.location_id = t.location_id AND NOT s.deleted
              AND s.business_date >= t.start_week AND s.business_date < t.stop_week + 7
            GROUP BY 1) x
    ),
    receipts AS (
        SELECT t.key_no, x.*
        FROM todo t CROSS JOIN LATERAL (
            SELECT date_trunc('week', r.received_date)::date AS week_start,
                   coalesce(sum(r.qty_received), 0)::float8 AS units_received
            FROM erp_receipt_lines r
            WHERE r.product_id = t.product_id AND r.location_id = t.location_id AND NOT r.deleted
              AND r.received_date >= t.start_week AND r.received_date < t.stop_week + 7
            GROUP BY 1) x
    ),
    orders AS (
        SELECT t.key_no, x.*
        FROM todo t CROSS JOIN LATERAL (
            SELECT date_trunc('week', o.order_date)::date AS week_start,
                   coalesce(sum(o.qty_ordered) FILTER (WHERE o.status IS DISTINCT FROM 'cancelled'), 0)::float8
                       AS units_ordered
            FROM erp_purchase_order_lines o
            WHERE o.product_id = t.product_id AND o.location_id = t.location_id AND NOT o.deleted
              AND o.order_date >= t.start_week AND o.order_date < t.stop_week + 7
            GROUP BY 1) x
    ),
    invoices AS (
        SELECT t.key_no, x.*
        FROM todo t CROSS JOIN LATERAL (
            SELECT date_trunc('week', i.invoice_date)::date AS week_start,
                   coalesce(sum(i.qty_invoiced), 0)::float8 AS units_invoiced,
                   coalesce(sum(i.line_amount), 0)::float8 AS invoiced_amount,
                   -- the week's latest line with a quantity: by date, invoice id as bytes, line
                   (array_agg(i.line_amount::float8 / i.qty_invoiced::float8
                              ORDER BY i.invoice_date DESC, i.invoice_id COLLATE "C" DESC, i.line_no DESC)
                        FILTER (WHERE i.qty_invoiced > 0))[1] AS week_unit_cost,
                   bool_or(i.qty_invoiced > 0) AS has_cost_line
            FROM erp_invoice_lines i
            WHERE i.product_id = t.product_id AND i.location_id = t.location_id AND NOT i.deleted
              AND i.invoice_date >= t.start_week AND i.invoice_date < t.stop_week + 7
            GROUP BY 1) x
    )
    SELECT t.key_no, w.week_start, false, t.short_path,
           (w.week_start - t.new_first) / 7, (w.week_start - t.start_week) / 7,
           coalesce(sa.units_sold, 0), coalesce(sa.units_returned, 0), coalesce(sa.revenue, 0),
           coalesce(re.units_received, 0), coalesce(o.units_ordered, 0),
           coalesce(iv.units_invoiced, 0), coalesce(iv.invoiced_amount, 0),
           iv.week_unit_cost, coalesce(iv.has_cost_line, false)
    FROM todo t
    CROSS JOIN LATERAL generate_series(t.start_week, t.stop_week, interval '7 days') AS g(d)
    CROSS JOIN LATERAL (SELECT g.d::date AS week_start) AS w
    LEFT JOIN sales sa ON sa.key_no = t.key_no AND sa.week_start = w.week_start
    LEFT JOIN receipts re ON re.key_no = t.key_no AND re.week_start = w.week_start
    LEFT JOIN orders o ON o.key_no = t.key_no AND o.week_start = w.week_start
    LEFT JOIN invoices iv ON iv.key_no = t.key_no AND iv.week_start = w.week_start
    UNION ALL
    SELECT t.key_no, f.week_start, true, t.short_path,
           f.week_index, (f.week_start - t.start_week) / 7,
           f.units_sold, f.units_returned, f.revenue, f.units_received, f.units_ordered,
           f.units_invoiced, f.invoiced_amount, NULL, false
    FROM todo t CROSS JOIN LATERAL (
        SELECT f.* FROM features f
        WHERE f.product_id = t.product_id AND f.location_id = t.location_id
          AND f.week_start >= t.start_week - 7 * 51 AND f.week_start < t.start_week) f
    -- (the short path reads them where they are stored)
    WHERE NOT t.short_path;
    GET DIAGNOSTICS v_n = ROW_COUNT;
    PERFORM analyze_work_table('mf_series', v_n);

    -- stage 2: one chain of window functions over each key's weeks, then the
    -- row
    INSERT INTO mf_new
    WITH
    -- One level of window functions over each key's weeks, on narrow rows,
    -- all but one sharing the key's week order.
    -- Trailing windows, each O(1) per row: sums and the standard deviation
    -- slide with inverse transitions (numeric ones are exact, so sliding adds
    -- no drift), slopes come from exact sums of y and i*y, and maxima are
    -- composed from lags. The series never reaches before first_week, so a
    -- window holds least(w, i + 1) weeks. (For a key on the short path they
    -- see only its new weeks; their values are replaced below.)
    -- Running values count the weeks being computed only (FILTER): the
    -- stored weeks before the start are in the seed.
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
               sum((x.units_sold = 0)::int) OVER w13 / least(13, x.i + 1)::float8 AS sold_zero_share_13,
               moving_sum(x.revenue) OVER w13 AS revenue_13,
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
               -- the latest week (by i) whose latest costed line set the cost;
               -- its cost may be null (a line without an amount)
               max(ARRAY[x.i::float8, x.week_unit_cost])
                   FILTER (WHERE x.has_cost_line AND NOT x.is_prior) OVER run AS cost_week,
               -- x_start stands in for the seed when the key starts here (e_0 = x_0)
               min(x.units_sold) FILTER (WHERE x.t = 0) OVER key AS sold_0,
               min(x.revenue) FILTER (WHERE x.t = 0) OVER key AS revenue_0,
               min(x.units_received) FILTER (WHERE x.t = 0) OVER key AS received_0,
               min(x.units_returned) FILTER (WHERE x.t = 0) OVER key AS returned_0,
               sum(x.units_sold) FILTER (WHERE NOT x.is_prior) OVER run AS run_sold,
               sum(x.units_returned) FILTER (WHERE NOT x.is_prior) OVER run AS run_returned,
               sum(x.revenue) FILTER (WHERE NOT x.is_prior) OVER run AS run_revenue,
               sum(x.units_received) FILTER (WHERE NOT x.is_prior) OVER run AS run_received,
               sum(x.units_ordered) FILTER (WHERE NOT x.is_prior) OVER run AS run_ordered,
               sum(x.units_invoiced) FILTER (WHERE NOT x.is_prior) OVER run AS run_invoiced,
               sum(x.units_sold) FILTER (WHERE NOT x.is_prior) OVER run_year AS run_year_sold,
               sum(x.revenue) FILTER (WHERE NOT x.is_prior) OVER run_year AS run_year_revenue,
               min(x.i) FILTER (WHERE x.units_sold > 0 AND NOT x.is_prior) OVER run AS run_first_sale,
               max(x.i) FILTER (WHERE x.units_sold > 0 AND NOT x.is_prior) OVER run AS run_last_sale,
               -- EWM closed form from the start: e_t = q^t (q e_seed + a sum_k x_k q^-k)
               sum(x.units_sold * power(1.0::float8 / 3, -x.t)) FILTER (WHERE NOT x.is_prior) OVER run AS zs2,
               sum(x.units_sold * power(0.6::float8, -x.t)) FILTER (WHERE NOT x.is_prior) OVER run AS zs4,
               sum(x.units_sold * power(7.0::float8 / 9, -x.t)) FILTER (WHERE NOT x.is_prior) OVER run AS zs8,
               sum(x.units_sold * power(6.0::float8 / 7, -x.t)) FILTER (WHERE NOT x.is_prior) OVER run AS zs13,
               sum(x.revenue * power(1.0::float8 / 3, -x.t)) FILTER (WHERE NOT x.is_prior) OVER run AS zr2,
               sum(x.revenue * power(0.6::float8, -x.t)) FILTER (WHERE NOT x.is_prior) OVER run AS zr4,
               sum(x.revenue * power(7.0::float8 / 9, -x.t)) FILTER (WHERE NOT x.is_prior) OVER run AS zr8,
               sum(x.revenue * power(6.0::float8 / 7, -x.t)) FILTER (WHERE NOT x.is_prior) OVER run AS zr13,
               sum(x.units_received * power(1.0::float8 / 3, -x.t)) FILTER (WHERE NOT x.is_prior) OVER run AS zc2,
               sum(x.units_received * power(0.6::float8, -x.t)) FILTER (WHERE NOT x.is_prior) OVER run AS zc4,
               sum(x.units_received * power(7.0::float8 / 9, -x.t)) FILTER (WHERE NOT x.is_prior) OVER run AS zc8,
               sum(x.units_received * power(6.0::float8 / 7, -x.t)) FILTER (WHERE NOT x.is_prior) OVER run AS zc13,
               sum(x.units_returned * power(1.0::float8 / 3, -x.t)) FILTER (WHERE NOT x.is_prior) OVER run AS zt2,
               sum(x.units_returned * power(0.6::float8, -x.t)) FILTER (WHERE NOT x.is_prior) OVER run AS zt4,
               sum(x.units_returned * power(7.0::float8 / 9, -x.t)) FILTER (WHERE NOT x.is_prior) OVER run AS zt8,
               sum(x.units_returned * power(6.0::float8 / 7, -x.t)) FILTER (WHERE NOT x.is_prior) OVER run AS zt13
        FROM (SELECT m.*, m.units_sold::numeric AS sold_n FROM mf_series m) x
        WINDOW key AS (PARTITION BY x.key_no),
               key_w AS (PARTITION BY x.key_no ORDER BY x.week_start),
               w4 AS (key_w ROWS BETWEEN 3 PRECEDING AND CURRENT ROW),
               w8 AS (key_w ROWS BETWEEN 7 PRECEDING AND CURRENT ROW),
               w13 AS (key_w ROWS BETWEEN 12 PRECEDING AND CURRENT ROW),
               w26 AS (key_w ROWS BETWEEN 25 PRECEDING AND CURRENT ROW),
               w52 AS (key_w ROWS BETWEEN 51 PRECEDING AND CURRENT ROW),
               run AS (key_w ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW),
               run_year AS (PARTITION BY x.key_no, date_part('year', x.week_start)
                            ORDER BY x.week_start ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
    ),
    -- the maxima (from lags of the 13-week maximum, which needs the stored
    -- weeks before the start); and for a key on the short path, its trailing
    -- windows: each new week aggregates its own window, stored weeks read
    -- through the features' key and new ones through the work table's,
    -- where the chain above would have read the 51 stored weeks before the
    -- start through every window function (a calendar roll computes one
    -- week per key). Plain aggregates over one window, not sliding ones, so
    -- float sums and deviations carry no drift here; the values agree with
    -- the long path's to far below the 1e-9 tolerance (tests compare both).
    lagged AS (
        SELECT y.*,
               greatest(y.sold_max_13, lag(y.sold_max_13, 13) OVER key_w, lag(y.sold_max_13, 26) OVER key_w,
                        lag(y.sold_max_13, 39) OVER key_w) AS sold_max_52,
               power(1.0::float8 / 3, y.t) AS q2, power(0.6::float8, y.t) AS q4,
               power(7.0::float8 / 9, y.t) AS q8, power(6.0::float8 / 7, y.t) AS q13,
               CASE WHEN y.short_path THEN (
                   SELECT ARRAY[
                       max(w.units_sold) FILTER (WHERE w.i = y.i - 1),
                       max(w.units_sold) FILTER (WHERE w.i = y.i - 2),
                       max(w.units_sold) FILTER (WHERE w.i = y.i - 3),
                       max(w.units_sold) FILTER (WHERE w.i = y.i - 4),
                       max(w.units_sold) FILTER (WHERE w.i = y.i - 5),
                       max(w.units_sold) FILTER (WHERE w.i = y.i - 6),
                       max(w.units_sold) FILTER (WHERE w.i = y.i - 7),
                       max(w.units_sold) FILTER (WHERE w.i = y.i - 8),
                       max(w.units_sold) FILTER (WHERE w.i = y.i - 9),
                       max(w.units_sold) FILTER (WHERE w.i = y.i - 10),
                       max(w.units_sold) FILTER (WHERE w.i = y.i - 11),
                       max(w.units_sold) FILTER (WHERE w.i = y.i - 12),
                       max(w.units_sold) FILTER (WHERE w.i = y.i - 13),
                       max(w.units_sold) FILTER (WHERE w.i = y.i - 14),
                       sum(w.units_sold) FILTER (WHERE w.i > y.i - 4) / least(4, y.i + 1),
                       sum(w.units_sold) FILTER (WHERE w.i > y.i - 8) / least(8, y.i + 1),
                       sum(w.units_sold) FILTER (WHERE w.i > y.i - 13) / least(13, y.i + 1),
                       sum(w.units_sold) FILTER (WHERE w.i > y.i - 26) / least(26, y.i + 1),
                       sum(w.units_sold) / least(52, y.i + 1),
                       stddev_samp(w.units_sold) FILTER (WHERE w.i > y.i - 4),
                       stddev_samp(w.units_sold) FILTER (WHERE w.i > y.i - 8),
                       -- sigma of the plans: exact, as on the long path, so a rebuild
                       -- reproduces it to the bit and rewrites no plan row
                       stddev_samp(w.units_sold::numeric) FILTER (WHERE w.i > y.i - 13),
                       stddev_samp(w.units_sold) FILTER (WHERE w.i > y.i - 26),
                       stddev_samp(w.units_sold),
                       max(w.units_sold) FILTER (WHERE w.i > y.i - 13),
                       max(w.units_sold),
                       count(*) FILTER (WHERE w.i > y.i - 13 AND w.units_sold = 0) / least(13, y.i + 1)::float8,
                       sum(w.revenue) FILTER (WHERE w.i > y.i - 13) / least(13, y.i + 1),
                       regr_slope(w.units_sold, w.i) FILTER (WHERE w.i > y.i - 4),
                       regr_slope(w.units_sold, w.i) FILTER (WHERE w.i > y.i - 8),
                       regr_slope(w.units_sold, w.i) FILTER (WHERE w.i > y.i - 13),
                       regr_slope(w.units_sold, w.i) FILTER (WHERE w.i > y.i - 26),
                       -- units_sold >= 0 and summed afresh: zero only when every week is
                       sum(w.revenue) FILTER (WHERE w.i > y.i - 13)
                           / nullif(sum(w.units_sold) FILTER (WHERE w.i > y.i - 13), 0)
                   ]::float8[]
                   FROM (SELECT f.week_index AS i, f.units_sold, f.revenue
                         FROM mf_batch b
                         JOIN features f ON f.product_id = b.product_id AND f.location_id = b.location_id
                         WHERE b.key_no = y.key_no
                           AND f.week_start >= y.week_start - 7 * 51 AND f.week_start < b.start_week
                         UNION ALL
                         SELECT m.i, m.units_sold, m.revenue
                         FROM mf_series m
                         WHERE m.short_path AND m.key_no = y.key_no AND m.i BETWEEN y.i - 51 AND y.i) w
                   ) END AS st
        FROM (SELECT r.*,
                     greatest(r.units_sold, r.sold_lag_1, r.sold_lag_2, r.sold_lag_3, r.sold_lag_4,
                              r.sold_lag_5, r.sold_lag_6, r.sold_lag_7, r.sold_lag_8, r.sold_lag_9,
                              r.sold_lag_10, r.sold_lag_11, r.sold_lag_12) AS sold_max_13
              FROM rolled r) y
        WINDOW key_w AS (PARTITION BY y.key_no ORDER BY y.week_start)
    )
    SELECT
        s.product_id, s.location_id, z.week_start, z.i,
        z.units_sold, z.units_returned, z.revenue, z.units_received, z.units_ordered,
        z.units_invoiced, z.invoiced_amount,
        CASE WHEN z.short_path THEN z.st[1] ELSE z.sold_lag_1 END,
        CASE WHEN z.short_path THEN z.st[2] ELSE z.sold_lag_2 END,
        CASE WHEN z.short_path THEN z.st[3] ELSE z.sold_lag_3 END,
        CASE WHEN z.short_path THEN z.st[4] ELSE z.sold_lag_4 END,
        CASE WHEN z.short_path THEN z.st[5] ELSE z.sold_lag_5 END,
        CASE WHEN z.short_path THEN z.st[6] ELSE z.sold_lag_6 END,
        CASE WHEN z.short_path THEN z.st[7] ELSE z.sold_lag_7 END,
        CASE WHEN z.short_path THEN z.st[8] ELSE z.sold_lag_8 END,
        CASE WHEN z.short_path THEN z.st[9] ELSE z.sold_lag_9 END,
        CASE WHEN z.short_path THEN z.st[10] ELSE z.sold_lag_10 END,
        CASE WHEN z.short_path THEN z.st[11] ELSE z.sold_lag_11 END,
        CASE WHEN z.short_path THEN z.st[12] ELSE z.sold_lag_12 END,
        CASE WHEN z.short_path THEN z.st[13] ELSE z.sold_lag_13 END,
        CASE WHEN z.short_path THEN z.st[14] ELSE z.sold_lag_14 END,
        z.q2 * (1.0 / 3 * coalesce(s.ewm_units_sold_s2, z.sold_0) + 2.0 / 3 * z.zs2),
        v.ewm_units_sold_s4,
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
        CASE WHEN z.short_path THEN z.st[15] ELSE z.sold_mean_4 END,
        CASE WHEN z.short_path THEN z.st[16] ELSE z.sold_mean_8 END,
        CASE WHEN z.short_path THEN z.st[17] ELSE z.sold_mean_13 END,
        CASE WHEN z.short_path THEN z.st[18] ELSE z.sold_mean_26 END,
        CASE WHEN z.short_path THEN z.st[19] ELSE z.sold_mean_52 END,
        CASE WHEN z.short_path THEN z.st[20] ELSE z.std_4::float8 END,
        CASE WHEN z.short_path THEN z.st[21] ELSE z.std_8::float8 END,
        CASE WHEN z.short_path THEN z.st[22] ELSE z.std_13::float8 END,
        CASE WHEN z.short_path THEN z.st[23] ELSE z.std_26::float8 END,
        CASE WHEN z.short_path THEN z.st[24] ELSE z.std_52::float8 END,
        CASE WHEN z.short_path THEN z.st[25] ELSE z.sold_max_13 END,
        CASE WHEN z.short_path THEN z.st[26] ELSE z.sold_max_52 END,
        CASE WHEN z.short_path THEN z.st[27] ELSE z.sold_zero_share_13 END,
        CASE WHEN z.short_path THEN z.st[28] ELSE z.revenue_13 / least(13, z.i + 1) END,
        -- OLS slope over the window's n = least(w, i + 1) weeks i-n+1 .. i, from
        -- exact sums: (n sum(iy) - sum(i) sum(y)) / (n^2 (n^2 - 1) / 12)
        CASE WHEN z.short_path THEN z.st[29] ELSE CASE WHEN z.i > 0 THEN ((least(4, z.i + 1) * z.siy_4 - (least(4, z.i + 1) * z.i - least(4, z.i + 1) * (least(4, z.i + 1) - 1) / 2) * z.sy_4)
                  / (least(4, z.i + 1) * least(4, z.i + 1) * (least(4, z.i + 1) * least(4, z.i + 1) - 1) / 12.0))::float8 END END,
        CASE WHEN z.short_path THEN z.st[30] ELSE CASE WHEN z.i > 0 THEN ((least(8, z.i + 1) * z.siy_8 - (least(8, z.i + 1) * z.i - least(8, z.i + 1) * (least(8, z.i + 1) - 1) / 2) * z.sy_8)
                  / (least(8, z.i + 1) * least(8, z.i + 1) * (least(8, z.i + 1) * least(8, z.i + 1) - 1) / 12.0))::float8 END END,
        CASE WHEN z.short_path THEN z.st[31] ELSE CASE WHEN z.i > 0 THEN ((least(13, z.i + 1) * z.siy_13 - (least(13, z.i + 1) * z.i - least(13, z.i + 1) * (least(13, z.i + 1) - 1) / 2) * z.sy_13)
                  / (least(13, z.i + 1) * least(13, z.i + 1) * (least(13, z.i + 1) * least(13, z.i + 1) - 1) / 12.0))::float8 END END,
        CASE WHEN z.short_path THEN z.st[32] ELSE CASE WHEN z.i > 0 THEN ((least(26, z.i + 1) * z.siy_26 - (least(26, z.i + 1) * z.i - least(26, z.i + 1) * (least(26, z.i + 1) - 1) / 2) * z.sy_26)
                  / (least(26, z.i + 1) * least(26, z.i + 1) * (least(26, z.i + 1) * least(26, z.i + 1) - 1) / 12.0))::float8 END END,
        s.cum_units_sold + z.run_sold,
        s.cum_units_returned + z.run_returned,
        s.cum_revenue + z.run_revenue,
        s.cum_units_received + z.run_received,
        s.cum_units_ordered + z.run_ordered,
        s.cum_units_invoiced + z.run_invoiced,
        CASE WHEN extract(year FROM z.week_start) = extract(year FROM s.start_week)
             THEN s.ytd_units_sold ELSE 0 END + z.run_year_sold,
        CASE WHEN extract(year FROM z.week_start) = extract(year FROM s.start_week)
             THEN s.ytd_revenue ELSE 0 END + z.run_year_revenue,
        v.est_on_hand,
        greatest(0, (s.cum_units_ordered + z.run_ordered) - (s.cum_units_received + z.run_received)),
        z.i - coalesce(s.first_sale_index, z.run_first_sale),
        z.i - coalesce(z.run_last_sale, s.last_sale_index),
        CASE WHEN v.ewm_units_sold_s4 > 0 THEN v.est_on_hand / v.ewm_units_sold_s4 END,
        -- the zero test is exact (numeric): a float residue must not divide
        CASE WHEN z.short_path THEN z.st[33] ELSE z.revenue_13 / nullif(z.sy_13, 0)::float8 END,
        CASE WHEN z.cost_week IS NULL THEN s.last_invoice_unit_cost ELSE z.cost_week[2] END
    -- each row finds its key and seed by the key's number (the chain, planned
    -- as the inner side of a loop, would be computed again for every key)
    FROM lagged z
    JOIN mf_batch s ON s.key_no = z.key_no
    -- two values that weeks_of_cover divides
    CROSS JOIN LATERAL (
        SELECT z.q4 * (0.6 * coalesce(s.ewm_units_sold_s4, z.sold_0) + 0.4 * z.zs4) AS ewm_units_sold_s4,
               (s.cum_units_received + z.run_received) - (s.cum_units_sold + z.run_sold)
                   + (s.cum_units_returned + z.run_returned) AS est_on_hand
    ) v
    WHERE NOT z.is_prior;

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
