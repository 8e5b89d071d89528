-- The master file's stored features: recomputed per key from its earliest
-- dirty week onward, seeded from the stored row of the week before.

CREATE OR REPLACE FUNCTION @extschema@.end_week()
RETURNS date
LANGUAGE sql
STABLE PARALLEL SAFE
SET search_path = pg_catalog, @extschema@, pg_temp
AS $$
    -- the Monday of the week before as_of_date (the last complete week);
    -- as_of_date null rolls with the calendar
    SELECT (date_trunc('week', coalesce(s.as_of_date, current_date)) - interval '7 days')::date
    FROM settings s
$$;

-- Session-lived work tables of the claim (080_processing.sql), emptied at
-- every commit. Created here once per session rather than per call so plans
-- stay cached and the catalog is not churned by every batch. They are read
-- alone, never joined with a tenant's table (on Citus those sit on the
-- tenant's worker); the batch itself is staged in a table of the tenant's
-- schema, _private_feature_batch (migration t0019).
CREATE OR REPLACE FUNCTION @extschema@.ensure_work_tables()
RETURNS void
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, @extschema@, pg_temp
AS $$
DECLARE
    -- bump when a definition below changes: a session that outlived the
    -- upgrade (the worker keeps its own) then drops and recreates them
    c_version constant text := '11';
BEGIN
    -- guarantees: pg_temp.mf_claim exists as defined here, empty at commit,
    -- and mf_retry (kept across commits) (an older session's mf_batch,
    -- mf_series and mf_new are dropped)
    IF current_setting('masterfile.work_tables', true) IS NOT DISTINCT FROM c_version
       AND to_regclass('pg_temp.mf_claim') IS NOT NULL THEN
        RETURN;
    END IF;
    DROP TABLE IF EXISTS pg_temp.mf_batch, pg_temp.mf_claim, pg_temp.mf_series, pg_temp.mf_new, pg_temp.mf_retry,
                         pg_temp.mf_plan;
    CREATE TEMP TABLE mf_claim (
        mark_id     bigint PRIMARY KEY,
        product_id  text NOT NULL,
        location_id text NOT NULL,
        from_week   date,
        scope       text NOT NULL
    ) ON COMMIT DELETE ROWS;
    -- keys set aside after a passing failure (deadlock, lock timeout): they
    -- keep their marks, and this session does not claim them again before
    -- retry_after (a backoff, not a spin on a row another transaction holds)
    CREATE TEMP TABLE mf_retry (
        product_id  text NOT NULL,
        location_id text NOT NULL,
        error       text,
        retry_after timestamptz NOT NULL,
        PRIMARY KEY (product_id, location_id)
    );
    PERFORM set_config('masterfile.work_tables', c_version, false);
END;
$$;

-- The features of a batch of keys are computed in four steps of one concern
-- each, on the work table _private_feature_batch (one row per key of the
-- batch, its runner the transaction's: masterfile.work_runner(), migration t0019),
-- by refresh_features below: where each key starts and stops
-- (stage_feature_batch), the rows that no longer belong
-- (delete_stale_features), the rows computed and written
-- (write_feature_rows), the key's first week and tails (store_feature_tails).

-- One row per key of the batch in _private_feature_batch: where its computation starts
-- and stops, and the stored row of the week before the start (the seed).
-- Returns the keys.
CREATE OR REPLACE FUNCTION @extschema@.stage_feature_batch(p_product_ids text[], p_location_ids text[],
                                                           p_from_weeks date[], p_end date)
RETURNS bigint
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, @extschema@, pg_temp
AS $$
DECLARE
    -- a batch computes at most this many weeks of a key (five years), so its
    -- work stays bounded; a longer range is finished by a continuation mark,
    -- seeded from the rows just written
    c_max_weeks constant integer := 260;
    c_lookback  constant integer := masterfile.features_lookback_weeks();
    v_end    date := p_end;
    v_runner integer := masterfile.work_runner();
    v_n      bigint;
BEGIN
    -- guarantees: the transaction's rows of _private_feature_batch are exactly
    -- the given keys (a key given twice once, from its earliest week),
    -- start_week null or after stop_week when nothing is to be computed, in
    -- key order
    DELETE FROM _private_feature_batch WHERE runner = v_runner;
    -- one row per key: where it starts and stops, and the running state of
    -- the stored row of the week before the start (one statement: the table
    -- is wide, and each UPDATE of it rewrote every row). The lookups are
    -- MATERIALIZED: inlined, a value is computed again (lookups included)
    -- wherever a later step names it; the arithmetic after them is not (each
    -- step copied every row again).
    INSERT INTO _private_feature_batch (runner, product_id, location_id, from_week, new_first, old_first,
                                        last_stored, start_week, stop_week, tail_week, prior_sold, prior_revenue,
                                        seed)
    WITH k AS (
        -- a null from_week anywhere means "from the first week"
        SELECT k.p AS product_id, k.l AS location_id,
               CASE WHEN bool_or(k.w IS NULL) THEN NULL ELSE min(k.w) END AS from_week
        FROM unnest(p_product_ids, p_location_ids, p_from_weeks) AS k(p, l, w)
        GROUP BY k.p, k.l
    ),
    stored AS MATERIALIZED (
        SELECT k.*, fk.first_week AS old_first, fk.tail_week, fk.tail_sold, fk.tail_revenue,
               -- the last stored week: where the tails end, unless a row
               -- lies beyond (a forward probe that normally finds nothing;
               -- the backward scan for the maximum costs 4x more)
               CASE WHEN fk.tail_week IS NOT NULL
                         AND NOT EXISTS (SELECT FROM features f
                                         WHERE f.product_id = k.product_id AND f.location_id = k.location_id
                                           AND f.week_start > fk.tail_week)
                    THEN fk.tail_week
                    ELSE (SELECT max(f.week_start) FROM features f
                          WHERE f.product_id = k.product_id AND f.location_id = k.location_id) END AS last_stored
        FROM k
        -- the key's first week and tails (one probe per key: OFFSET 0 keeps
        -- it from becoming a join that reads every key's tails); of the
        -- tails, the weeks a computation starting the week after them reads
        -- (up to 51)
        LEFT JOIN LATERAL (
            SELECT fk.first_week, fk.tail_week,
                   substring(fk.sold_tail FROM octet_length(fk.sold_tail)
                                               - 8 * least(c_lookback, (fk.tail_week - fk.first_week) / 7 + 1) + 1)
                       AS tail_sold,
                   fk.revenue_tail AS tail_revenue
            FROM _private_feature_keys fk
            WHERE fk.product_id = k.product_id AND fk.location_id = k.location_id
            OFFSET 0) fk ON true
    ),
    -- the key's first week now: a change after its first week leaves that
    -- week's lines alone (a calendar roll looks up nothing)
    firsts AS MATERIALIZED (
        SELECT s.*,
               -- (on timestamp, not timestamptz: the date_trunc and the cast of
               -- timestamptz depend on the session's time zone, and such a
               -- function makes Citus 13 rebuild the statement for the worker
               -- wrongly: docs/scale-out.md)
               CASE WHEN s.from_week > s.old_first THEN s.old_first ELSE date_trunc('week', least(
                   (SELECT min(l.business_date) FROM erp_sales_lines l
                     WHERE l.product_id = s.product_id AND l.location_id = s.location_id AND NOT l.deleted),
                   (SELECT min(r.received_date) FROM erp_receipt_lines r
                     WHERE r.product_id = s.product_id AND r.location_id = s.location_id AND NOT r.deleted),
                   (SELECT min(o.order_date) FROM erp_purchase_order_lines o
                     WHERE o.product_id = s.product_id AND o.location_id = s.location_id AND NOT o.deleted),
                   (SELECT min(i.invoice_date) FROM erp_invoice_lines i
                     WHERE i.product_id = s.product_id AND i.location_id = s.location_id AND NOT i.deleted)
               )::timestamp)::date END AS new_first
        FROM stored s
    )
    SELECT v_runner, b.product_id, b.location_id, b.from_week, b.new_first, b.old_first, b.last_stored,
           s.start_week, e.stop_week, b.tail_week,
           -- the tails end the week before the start (a calendar roll, a
           -- continuation) and hold every stored week the windows and lags
           -- need: no stored row is read
           CASE WHEN p.from_tails THEN b.tail_sold END, CASE WHEN p.from_tails THEN b.tail_revenue END,
           -- the declared features of that row (the kernel takes from it
           -- what carries from week to week); a key computed from its first
           -- week has none
           CASE WHEN f.week_start IS NOT NULL THEN ARRAY[
               @features f.{name}@
           ]::float8[] END
    FROM firsts b
    -- where to start: the first week when the key is new, its first week
    -- moved (every week number shifts) or nothing is stored; else the dirty
    -- week, but never past the week after the last stored row
    CROSS JOIN LATERAL (
        SELECT CASE WHEN b.new_first IS NULL THEN NULL
                    WHEN b.old_first IS DISTINCT FROM b.new_first OR b.last_stored IS NULL OR b.from_week IS NULL
                        THEN b.new_first
                    ELSE greatest(b.new_first, least(b.from_week, b.last_stored + 7))
               END AS start_week
    ) c
    -- the running state carried over from the stored row of the week before the start
    LEFT JOIN LATERAL (
        SELECT f.* FROM features f
        WHERE f.product_id = b.product_id AND f.location_id = b.location_id AND f.week_start = c.start_week - 7
          AND c.start_week > b.new_first
    ) f ON true
    -- without that row (stored rows that do not run from the first week to
    -- the tails: not written by the pipeline), from the first week
    CROSS JOIN LATERAL (
        SELECT CASE WHEN c.start_week > b.new_first AND f.week_start IS NULL THEN b.new_first ELSE c.start_week END
                   AS start_week
    ) s
    CROSS JOIN LATERAL (SELECT least(v_end, s.start_week + 7 * (c_max_weeks - 1)) AS stop_week) e
    CROSS JOIN LATERAL (
        SELECT coalesce(s.start_week = b.tail_week + 7 AND b.new_first = b.old_first AND s.start_week <= e.stop_week
                        AND octet_length(b.tail_sold) = 8 * least(c_lookback, (s.start_week - b.new_first) / 7)
                        AND octet_length(b.tail_revenue) = 8 * least(c_lookback, (s.start_week - b.new_first) / 7),
                        false) AS from_tails
    ) p
    -- in key order, the order of the features' key index: the kernel's rows
    -- are inserted as the keys come, and keys in another order (the claims
    -- and the grouping above give none) make every insertion a descent from
    -- the root to a page anywhere, and split pages in half
    ORDER BY b.product_id, b.location_id;
    GET DIAGNOSTICS v_n = ROW_COUNT;
    RETURN v_n;
END;
$$;

-- Rows that no longer belong: the key lost its lines, its first week moved
-- later, or end_week moved back. Returns the rows deleted.
CREATE OR REPLACE FUNCTION @extschema@.delete_stale_features(p_end date)
RETURNS bigint
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, @extschema@, pg_temp
AS $$
DECLARE
    v_end    date := p_end;
    v_runner integer := masterfile.work_runner();
    v_n      bigint;
BEGIN
    -- guarantees: no key of the session's batch keeps a row before its first week or after p_end
    -- (only keys that can have such rows: a join of every key in the batch
    -- with features would read the whole table for nothing)
    IF EXISTS (SELECT 1 FROM _private_feature_batch b
               WHERE b.runner = v_runner AND b.last_stored IS NOT NULL
                 AND (b.new_first IS DISTINCT FROM b.old_first OR b.last_stored > v_end)) THEN
        DELETE FROM features f
        USING _private_feature_batch b
        WHERE b.runner = v_runner AND f.product_id = b.product_id AND f.location_id = b.location_id
          AND b.last_stored IS NOT NULL
          AND (b.new_first IS DISTINCT FROM b.old_first OR b.last_stored > v_end)
          AND (b.new_first IS NULL OR f.week_start < b.new_first OR f.week_start > v_end);
        GET DIAGNOSTICS v_n = ROW_COUNT;
        RETURN v_n;
    END IF;
    RETURN 0;
END;
$$;

-- Every week each key of the session's batch computes, from the C kernel, written:
-- inserted, or replaced where a value changed. Returns the rows written and,
-- after a plain insert, per key the weeks its tails keep (new_*).
CREATE OR REPLACE FUNCTION @extschema@.write_feature_rows(OUT rows_written bigint, OUT new_p text[], OUT new_l text[],
                                                          OUT new_lo date[], OUT new_n integer[],
                                                          OUT new_sold bytea[], OUT new_revenue bytea[])
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, @extschema@, pg_temp
AS $$
DECLARE
    -- the stored weeks before the start the kernel reads, and how many weeks
    -- of each series the key's tails keep (migration t0010; their bytes:
    -- docs/weekly-series.md): units_sold over the forecast's weeks, revenue
    -- over the lookback
    c_lookback  constant integer := masterfile.features_lookback_weeks();
    c_sold_tail constant integer := masterfile.forecast_weeks();
    v_runner    integer := masterfile.work_runner();
    v_rows text;
BEGIN
    -- guarantees: every week start_week..stop_week of each key of the
    -- session's batch is stored as the kernel computes it from the key's lines and seed

    -- Each key's weeks in one call of the C kernel
    -- (sql/control/020_features_kernel.sql): its lines aggregated by week
    -- from the start (a week without lines is zero), the stored weeks before
    -- the start that trailing windows and lags still need, and the running
    -- state of the stored row before the start. The kernel adds up a week's
    -- entries (one per table), so the tables are not joined with each other.
    -- A line's week number is (date - first_week) / 7: first_week is a Monday
    -- and no line read is dated before it.
    -- Each key's lines are read through its (key, date) index (LATERAL): a
    -- join would be planned for a guess at how much of the range condition
    -- passes, and hash the whole table for one week.
    v_rows := $rows$
    SELECT t.product_id, t.location_id, k.*
    FROM _private_feature_batch t
    CROSS JOIN LATERAL (
        SELECT array_agg(w.i) AS i,
               array_agg(w.sold) AS sold, array_agg(w.returned) AS returned,
               array_agg(w.revenue) AS revenue, array_agg(w.received) AS received,
               array_agg(w.ordered) AS ordered, array_agg(w.invoiced) AS invoiced,
               array_agg(w.invoiced_amount) AS invoiced_amount,
               array_agg(w.unit_cost) AS unit_cost, array_agg(w.has_cost) AS has_cost
        FROM (
            SELECT (s.business_date - t.new_first) / 7 AS i,
                   coalesce(sum(s.qty) FILTER (WHERE s.qty > 0), 0)::float8 AS sold,
                   coalesce(-sum(s.qty) FILTER (WHERE s.qty < 0), 0)::float8 AS returned,
                   coalesce(sum(s.net_amount), 0)::float8 AS revenue,
                   0::float8 AS received, 0::float8 AS ordered, 0::float8 AS invoiced,
                   0::float8 AS invoiced_amount, NULL::float8 AS unit_cost, false AS has_cost
            FROM erp_sales_lines s
            WHERE s.product_id = t.product_id AND s.location_id = t.location_id AND NOT s.deleted
              AND s.business_date >= t.start_week AND s.business_date < t.stop_week + 7
            GROUP BY 1
            UNION ALL
            SELECT (r.received_date - t.new_first) / 7,
                   0, 0, 0, coalesce(sum(r.qty_received), 0)::float8, 0, 0, 0, NULL, false
            FROM erp_receipt_lines r
            WHERE r.product_id = t.product_id AND r.location_id = t.location_id AND NOT r.deleted
              AND r.received_date >= t.start_week AND r.received_date < t.stop_week + 7
            GROUP BY 1
            UNION ALL
            SELECT (o.order_date - t.new_first) / 7,
                   0, 0, 0, 0,
                   coalesce(sum(o.qty_ordered) FILTER (WHERE o.status IS DISTINCT FROM 'cancelled'), 0)::float8,
                   0, 0, NULL, false
            FROM erp_purchase_order_lines o
            WHERE o.product_id = t.product_id AND o.location_id = t.location_id AND NOT o.deleted
              AND o.order_date >= t.start_week AND o.order_date < t.stop_week + 7
            GROUP BY 1
            UNION ALL
            SELECT (i.invoice_date - t.new_first) / 7,
                   0, 0, 0, 0, 0,
                   coalesce(sum(i.qty_invoiced), 0)::float8, coalesce(sum(i.line_amount), 0)::float8,
                   -- the week's latest line with a quantity: by date, invoice id as bytes, line
                   (array_agg(i.line_amount::float8 / i.qty_invoiced::float8
                              ORDER BY i.invoice_date DESC, i.invoice_id COLLATE "C" DESC, i.line_no DESC)
                        FILTER (WHERE i.qty_invoiced > 0))[1],
                   coalesce(bool_or(i.qty_invoiced > 0), false)
            FROM erp_invoice_lines i
            WHERE i.product_id = t.product_id AND i.location_id = t.location_id AND NOT i.deleted
              AND i.invoice_date >= t.start_week AND i.invoice_date < t.stop_week + 7
            GROUP BY 1
            UNION ALL
            -- the stored weeks before the start, unless the tails gave
            -- them (the kernel checks each is there): their windows read
            -- units_sold and revenue only, which the key index carries (an
            -- index-only scan; $1 is c_lookback)
            SELECT (f.week_start - t.new_first) / 7, f.units_sold, 0, f.revenue, 0, 0, 0, 0, NULL, false
            FROM features f
            WHERE t.start_week > t.new_first AND t.prior_sold IS NULL
              AND f.product_id = t.product_id AND f.location_id = t.location_id
              AND f.week_start >= t.start_week - 7 * $1 AND f.week_start < t.start_week
        ) w
    ) s
    -- the declaration (sql/control/015_features_declared.sql): each stored
    -- feature's kind, input and parameter, and its column in the result
    CROSS JOIN LATERAL masterfile.features_kernel(
        ARRAY[@features {kind}@],
        ARRAY[@features {input}@]::text[],
        ARRAY[@features {param}@]::integer[],
        t.new_first, (t.start_week - t.new_first) / 7, (t.stop_week - t.new_first) / 7, s.i,
        s.sold, s.returned, s.revenue, s.received, s.ordered, s.invoiced, s.invoiced_amount,
        s.unit_cost, s.has_cost, t.seed, t.prior_sold, t.prior_revenue)
        AS k(week_start date, week_index integer,
             @features {name} {type}@
        )
    WHERE t.runner = $3 AND t.start_week IS NOT NULL AND t.start_week <= t.stop_week
    $rows$;
    -- When no key of the batch computes a week it has stored (a full
    -- rebuild, a calendar roll: last_stored is the key's last row), a plain
    -- insert: the upsert below costs ~70% more per row (a probe of the index,
    -- then a speculative insertion). Else written only where a value changed:
    -- the key's unique index decides insert or update row by row (no join for
    -- the planner to misjudge while the table grows), and a row equal to the
    -- stored one is not touched. (Built here rather than written twice; it is
    -- planned in under a millisecond.)
    IF NOT EXISTS (SELECT FROM _private_feature_batch
                   WHERE runner = v_runner AND start_week <= stop_week AND last_stored >= start_week) THEN
        -- every row it computes is written: what the key's tails keep of
        -- them comes back from the insert (a read of the rows just written
        -- fetched each from its page, not yet all-visible: 2.3 s of a full
        -- rebuild)
        EXECUTE 'WITH ins AS (INSERT INTO features (product_id, location_id, week_start, week_index, '
            || '@features {name}@) ' || v_rows
            || ' RETURNING product_id, location_id, week_start, units_sold, revenue)' || $tails$
    SELECT coalesce(sum(w.total), 0), array_agg(w.product_id), array_agg(w.location_id), array_agg(w.lo),
           array_agg(w.n), array_agg(w.sold), array_agg(w.revenue)
    FROM (SELECT i.product_id, i.location_id, count(*) AS total,
                 min(i.week_start) FILTER (WHERE i.week_start > b.stop_week - 7 * $2) AS lo,
                 count(*) FILTER (WHERE i.week_start > b.stop_week - 7 * $2)::integer AS n,
                 string_agg(float8send(i.units_sold), ''::bytea ORDER BY i.week_start)
                     FILTER (WHERE i.week_start > b.stop_week - 7 * $2) AS sold,
                 coalesce(string_agg(float8send(i.revenue), ''::bytea ORDER BY i.week_start)
                              FILTER (WHERE i.week_start > b.stop_week - 7 * $1), ''::bytea) AS revenue
          -- $1, $2, $3: c_lookback, c_sold_tail, the runner
          FROM ins i
          JOIN _private_feature_batch b
            ON b.runner = $3 AND b.product_id = i.product_id AND b.location_id = i.location_id
          GROUP BY i.product_id, i.location_id) w
    $tails$
        INTO rows_written, new_p, new_l, new_lo, new_n, new_sold, new_revenue
        USING c_lookback, c_sold_tail, v_runner;
    ELSE
        EXECUTE 'INSERT INTO features AS f (product_id, location_id, week_start, week_index, '
            || '@features {name}@) ' || v_rows || $upsert$
    ON CONFLICT (product_id, location_id, week_start) DO UPDATE SET (
        week_index,
        @features {name}@
    ) = ROW(
        excluded.week_index,
        @features excluded.{name}@
    )
    WHERE f IS DISTINCT FROM excluded
    $upsert$ USING c_lookback, c_sold_tail, v_runner;
        GET DIAGNOSTICS rows_written = ROW_COUNT;
    END IF;
END;
$$;

-- Each key's first week and tails (migration t0010) as its rows now stand,
-- in _private_feature_keys; a key without lines leaves it. p_new_*: what
-- write_feature_rows returned.
CREATE OR REPLACE FUNCTION @extschema@.store_feature_tails(p_end date, p_new_p text[], p_new_l text[],
                                                           p_new_lo date[], p_new_n integer[],
                                                           p_new_sold bytea[], p_new_revenue bytea[])
RETURNS void
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, @extschema@, pg_temp
AS $$
DECLARE
    c_lookback  constant integer := masterfile.features_lookback_weeks();
    c_sold_tail constant integer := masterfile.forecast_weeks();
    v_end    date := p_end;
    v_runner integer := masterfile.work_runner();
BEGIN
    -- guarantees: each key of the session's batch with lines has its row, with tails
    -- that are its stored weeks' (or null, and readers use the rows)
    DELETE FROM _private_feature_keys k USING _private_feature_batch b
    WHERE b.runner = v_runner AND k.product_id = b.product_id AND k.location_id = b.location_id
      AND b.new_first IS NULL;
    -- each key's first week and tails (migration t0010) as its rows now
    -- stand. The tails end at the last week computed (or, when nothing was,
    -- at the last stored week up to end_week). A computation that started
    -- the week after the old tails appends its weeks to them; otherwise the
    -- tails are taken again, from the weeks a plain insert just wrote when
    -- they cover them, else from the stored rows. Weeks missing leave the
    -- tails null, and readers then use the rows.
    INSERT INTO _private_feature_keys AS fk (product_id, location_id, first_week, tail_week, sold_tail, revenue_tail)
    SELECT b.product_id, b.location_id, b.new_first, t.tail_week,
           CASE WHEN t.keep THEN o.sold_tail
                WHEN coalesce(nw.n, r.n) = t.weeks_read THEN
                    CASE WHEN t.append
                         THEN substring(o.sold_tail FROM greatest(1, octet_length(o.sold_tail) - 8 * (c_sold_tail - t.weeks_read) + 1))
                         ELSE ''::bytea END || coalesce(nw.sold, r.sold) END,
           CASE WHEN t.keep THEN o.revenue_tail
                WHEN coalesce(nw.n, r.n) = t.weeks_read THEN
                    CASE WHEN t.append
                         THEN substring(o.revenue_tail FROM greatest(1, octet_length(o.revenue_tail) - 8 * (c_lookback - t.weeks_read) + 1))
                         ELSE ''::bytea END || coalesce(nw.revenue, r.revenue) END
    FROM _private_feature_batch b
    CROSS JOIN LATERAL (
        SELECT e.tail_week, e.append, e.keep, rf.read_from, (e.tail_week - rf.read_from) / 7 + 1 AS weeks_read
        FROM (SELECT CASE WHEN w.tail_week >= b.new_first THEN w.tail_week END AS tail_week,
                     b.prior_sold IS NOT NULL AND b.stop_week - b.start_week < 7 * c_sold_tail AS append,
                     coalesce(b.start_week > b.stop_week AND b.new_first = b.old_first
                              AND b.tail_week = w.tail_week, false) AS keep
              FROM (SELECT CASE WHEN b.start_week <= b.stop_week THEN b.stop_week
                                ELSE least(coalesce(b.tail_week, b.last_stored), v_end) END AS tail_week) w) e
        -- the first week to take: the start when appending, else the
        -- oldest week the tails keep
        CROSS JOIN LATERAL (
            SELECT CASE WHEN e.append THEN b.start_week
                        ELSE greatest(b.new_first, e.tail_week - 7 * (c_sold_tail - 1)) END AS read_from) rf
    ) t
    -- the old tails, when they are kept or appended to
    LEFT JOIN LATERAL (SELECT x.sold_tail, x.revenue_tail FROM _private_feature_keys x
                       WHERE (t.append OR t.keep) AND x.product_id = b.product_id AND x.location_id = b.location_id
                       OFFSET 0) o ON true
    -- the weeks the insert wrote, when they are all the tails need
    LEFT JOIN unnest(p_new_p, p_new_l, p_new_lo, p_new_n, p_new_sold, p_new_revenue) AS nw(p, l, lo, n, sold, revenue)
        ON nw.p = b.product_id AND nw.l = b.location_id AND nw.lo = t.read_from
    -- else read from the stored rows
    LEFT JOIN LATERAL (
        SELECT count(*)::integer AS n, string_agg(float8send(w.units_sold), ''::bytea) AS sold,
               coalesce(string_agg(float8send(w.revenue), ''::bytea) FILTER (WHERE w.week_start > t.tail_week - 7 * c_lookback),
                        ''::bytea) AS revenue
        FROM (SELECT f.week_start, f.units_sold, f.revenue FROM features f
              WHERE f.product_id = b.product_id AND f.location_id = b.location_id
                AND f.week_start >= t.read_from AND f.week_start <= t.tail_week
              ORDER BY f.week_start) w
        WHERE NOT t.keep AND nw.p IS NULL
    ) r ON true
    WHERE b.runner = v_runner AND b.new_first IS NOT NULL
    ON CONFLICT (product_id, location_id) DO UPDATE
    SET first_week = excluded.first_week, tail_week = excluded.tail_week, sold_tail = excluded.sold_tail,
        revenue_tail = excluded.revenue_tail
    WHERE (fk.first_week, fk.tail_week, fk.sold_tail, fk.revenue_tail)
          IS DISTINCT FROM (excluded.first_week, excluded.tail_week, excluded.sold_tail, excluded.revenue_tail);
END;
$$;

-- Recompute the features of the given keys, each from its week onward
-- (null: from its first week). Writes only rows whose values changed and
-- returns how many feature rows it wrote (inserted, replaced or deleted).
CREATE OR REPLACE FUNCTION @extschema@.refresh_features(p_product_ids text[], p_location_ids text[], p_from_weeks date[])
RETURNS bigint
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, @extschema@, pg_temp
-- the estimates run to a million rows per batch (a set-returning function
-- is taken for 1,000 rows per key), and JIT then spends ~200 ms compiling
-- each statement of a batch that takes less
SET jit = off
-- a full rebuild's batch returns ~100,000 rows from its insert for the
-- tails and sorts them by key: at the default 4MB they went to disk, 4-9 s
-- of a 45 s rebuild (peak backend memory is reported by the benchmark)
SET work_mem = '64MB'
AS $$
DECLARE
    v_end     date := end_week();
    v_runner  integer := masterfile.work_runner();
    v_written bigint;
    v_w       record;
    v_p       text[];
    v_l       text[];
    v_from    date[];
BEGIN
    -- guarantees: for every given key, stored rows equal a from-scratch
    -- computation over weeks first_week..end_week (up to 260 weeks past the
    -- start, the rest re-queued), and _private_feature_keys holds its first week
    PERFORM ensure_work_tables();
    PERFORM stage_feature_batch(p_product_ids, p_location_ids, p_from_weeks, v_end);
    v_written := delete_stale_features(v_end);
    SELECT * INTO v_w FROM write_feature_rows();
    PERFORM store_feature_tails(v_end, v_w.new_p, v_w.new_l, v_w.new_lo, v_w.new_n, v_w.new_sold, v_w.new_revenue);
    -- a range longer than a batch computes goes on in a later batch (read
    -- first, then marked: on Citus a function called in a statement on the
    -- batch would run on the tenant's worker)
    SELECT array_agg(product_id), array_agg(location_id), array_agg(stop_week + 7) INTO v_p, v_l, v_from
    FROM _private_feature_batch WHERE runner = v_runner AND stop_week < v_end;
    IF v_p IS NOT NULL THEN
        PERFORM mark_continuations(v_p, v_l, v_from);
    END IF;
    -- the batch leaves nothing behind at commit
    DELETE FROM _private_feature_batch WHERE runner = v_runner;
    RETURN v_written + v_w.rows_written;
END;
$$;
