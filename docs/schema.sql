--
-- PostgreSQL database dump
--

--
-- Name: masterfile; Type: SCHEMA; Schema: -; Owner: postgres
--

CREATE SCHEMA masterfile;

ALTER SCHEMA masterfile OWNER TO postgres;

--
-- Name: t_schema_dump; Type: SCHEMA; Schema: -; Owner: t_schema_dump_owner
--

CREATE SCHEMA t_schema_dump;

ALTER SCHEMA t_schema_dump OWNER TO t_schema_dump_owner;

--
-- Name: dispatch(double precision, double precision, integer, text, text, integer, bigint, bigint); Type: PROCEDURE; Schema: masterfile; Owner: postgres
--

CREATE PROCEDURE masterfile.dispatch(IN p_max_seconds double precision DEFAULT 50, IN p_slice_seconds double precision DEFAULT 5, IN p_batch_size integer DEFAULT 500, IN p_trigger text DEFAULT 'cron'::text, IN p_only text DEFAULT NULL::text, INOUT turns integer DEFAULT 0, INOUT keys_done bigint DEFAULT 0, INOUT rows_written bigint DEFAULT 0)
    LANGUAGE plpgsql
    AS $_$
DECLARE
    v_start   timestamptz := pg_catalog.clock_timestamp();
    v_week    date := pg_catalog.date_trunc('week', pg_catalog.now())::pg_catalog.date;
    v_schema  text;
    v_run     bigint;
    v_max     bigint;
    v_pending boolean;
    v_done    bigint;
    v_rows    bigint;
    v_cand    record;
BEGIN
    -- guarantees: a tenant's hints are deleted only by a statement that
    -- sees its queue empty (p_only: only that tenant schema's); returns
    -- the turns taken, keys processed and rows written (or replaced by a newer one while it is not), so
    -- a crash between any two steps leaves every queued tenant hinted
    IF (SELECT rolled_week FROM masterfile.dispatch_state) IS DISTINCT FROM v_week THEN
        -- a new week: every enabled tenant's calendar may roll (end_week()
        -- with as_of_date unset); its run's prepare_queue() decides
        UPDATE masterfile.dispatch_state SET rolled_week = v_week WHERE rolled_week IS DISTINCT FROM v_week;
        IF FOUND THEN
            INSERT INTO masterfile.work_hints (schema_name)
            SELECT schema_name FROM masterfile.tenants WHERE enabled;
        END IF;
        COMMIT;
    END IF;
    -- on Citus, a mark made by a statement outside pyloader (SQL as the UI
    -- role) has no hint: its trigger ran on the tenant's worker. A cron
    -- dispatcher sweeps unhinted tenants for queued work, one at a time
    -- (plain PostgreSQL hints in the marking transaction: no sweep)
    IF p_trigger = 'cron' AND masterfile.on_citus() THEN
        IF pg_catalog.pg_try_advisory_lock(masterfile.lock_key('', 'sweep')) THEN
            FOR v_schema IN
                SELECT t.schema_name FROM masterfile.tenants t
                WHERE t.enabled
                  AND NOT EXISTS (SELECT 1 FROM masterfile.work_hints h WHERE h.schema_name = t.schema_name)
            LOOP
                EXECUTE pg_catalog.format('SET ROLE %I', v_schema || '_pipeline');
                EXECUTE pg_catalog.format('SELECT EXISTS (SELECT 1 FROM %I._private_dirty_keys)', v_schema)
                    INTO v_pending;
                IF v_pending THEN
                    EXECUTE pg_catalog.format('SELECT %I.hint_work()', v_schema);
                END IF;
                RESET ROLE;
            END LOOP;
            COMMIT;
            PERFORM pg_catalog.pg_advisory_unlock(masterfile.lock_key('', 'sweep'));
        END IF;
    END IF;
    LOOP
        EXIT WHEN pg_catalog.clock_timestamp() - v_start > pg_catalog.make_interval(secs => p_max_seconds);
        -- the tenant waiting longest whose turn no other dispatcher holds
        v_schema := NULL;
        FOR v_cand IN
            SELECT d.schema_name, d.max_hint FROM masterfile.due_work d
            WHERE p_only IS NULL OR d.schema_name = p_only
            ORDER BY d.first_hint
        LOOP
            IF pg_catalog.pg_try_advisory_lock(masterfile.lock_key(v_cand.schema_name, 'dispatch')) THEN
                v_schema := v_cand.schema_name;
                v_max := v_cand.max_hint;
                EXIT;
            END IF;
        END LOOP;
        EXIT WHEN v_schema IS NULL;
        EXECUTE pg_catalog.format('SET ROLE %I', v_schema || '_pipeline');
        EXECUTE pg_catalog.format(
            'SELECT EXISTS (SELECT 1 FROM %1$I._private_dirty_keys)'
            ' OR %1$I.end_week_moved()', v_schema)
            INTO v_pending;
        v_done := NULL;
        IF v_pending THEN
            CALL masterfile.process_tenant(v_schema, p_batch_size, p_slice_seconds, p_trigger);
            -- the run's id first, in this session: a statement on the tenant's
            -- table may run on another node (Citus), where currval is unset
            v_run := pg_catalog.currval(pg_catalog.pg_get_serial_sequence(
                pg_catalog.quote_ident(v_schema) || '.runs', 'run_id'));
            EXECUTE pg_catalog.format('SELECT keys_done, rows_written FROM %I.runs WHERE run_id = $1', v_schema)
                INTO v_done, v_rows USING v_run;
            turns := turns + 1;
            keys_done := keys_done + v_done;
            rows_written := rows_written + v_rows;
            -- the tenant's bookkeeping past its retention_policy goes, on the
            -- turns that did work (an idle tick deletes, so writes, nothing)
            EXECUTE pg_catalog.format('SELECT %I.apply_retention()', v_schema);
        END IF;
        EXECUTE pg_catalog.format('SELECT %I.settle_work_hints($1, $2)', v_schema) USING v_max, v_done = 0;
        -- the work tables are the tenant role's own temporary tables: the
        -- next tenant's role could not use them, and must not see them
        DISCARD TEMP;
        RESET ROLE;
        COMMIT;
        PERFORM pg_catalog.pg_advisory_unlock(masterfile.lock_key(v_schema, 'dispatch'));
    END LOOP;
END;
$_$;

ALTER PROCEDURE masterfile.dispatch(IN p_max_seconds double precision, IN p_slice_seconds double precision, IN p_batch_size integer, IN p_trigger text, IN p_only text, INOUT turns integer, INOUT keys_done bigint, INOUT rows_written bigint) OWNER TO postgres;

--
-- Name: ensure_tenant_roles(text, boolean); Type: FUNCTION; Schema: masterfile; Owner: postgres
--

CREATE FUNCTION masterfile.ensure_tenant_roles(p_schema text, p_adopt boolean DEFAULT false) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'masterfile', 'pg_temp'
    AS $_$
DECLARE
    v_role   record;
    v_kernel regprocedure;
    -- on a Citus coordinator the roles must log in: Citus reaches a tenant's
    -- worker over a connection of the current role (docs/scale-out.md: only
    -- the nodes may, by pg_hba.conf); elsewhere nobody logs in as them
    v_login  text := CASE WHEN masterfile.on_citus()
                          THEN 'LOGIN' ELSE 'NOLOGIN' END;
BEGIN
    -- guarantees: the five roles of the tenant exist, none can log in but
    -- on Citus (only the authenticator does, and switches to them), each carries the marker
    -- that says whose it is; the authenticator may SET ROLE to every one but
    -- the owner; only the pipeline (and the owner, whose definer functions
    -- mark work) may call the kernels. `p_adopt`: mark roles of a registered
    -- tenant made before markers existed (migrate); a new tenant never adopts.
    IF p_schema !~ '^t_[a-z0-9_]{1,40}$' THEN
        RAISE EXCEPTION 'not a tenant schema name: %', p_schema USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF NOT p_adopt AND EXISTS (SELECT 1 FROM masterfile.tenant_role_collisions(p_schema)) THEN
        RAISE EXCEPTION 'roles % exist and belong to something else than tenant schema %',
            (SELECT string_agg(c, ', ') FROM masterfile.tenant_role_collisions(p_schema) c), p_schema
            USING ERRCODE = 'duplicate_object';
    END IF;
    FOR v_role IN SELECT * FROM masterfile.tenant_role_names(p_schema) LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = v_role.rolname) THEN
            EXECUTE format('CREATE ROLE %I %s', v_role.rolname, v_login);
        ELSE
            EXECUTE format('ALTER ROLE %I %s NOSUPERUSER NOCREATEDB NOCREATEROLE', v_role.rolname, v_login);
        END IF;
        EXECUTE format('COMMENT ON ROLE %I IS %L', v_role.rolname,
                       masterfile.tenant_role_marker(p_schema, v_role.kind));
        IF v_role.kind IN ('loader', 'ui', 'pipeline') THEN
            EXECUTE format('GRANT %I TO %I', p_schema, v_role.rolname);
        END IF;
        IF v_role.kind <> 'owner' THEN
            EXECUTE format('GRANT %I TO masterfile_app', v_role.rolname);
        END IF;
    END LOOP;
    -- the shared code schema: usable for calling kernels, nothing else
    EXECUTE format('GRANT USAGE ON SCHEMA masterfile TO %I, %I', p_schema, p_schema || '_owner');
    -- kernels are the PL/Python (pyloader/plpython.py) and C (ext/) functions
    -- of masterfile: pure code, but unbounded work for whoever calls them,
    -- so only the pipeline may; grants made to every role before are taken back
    FOR v_kernel IN
        SELECT p.oid::pg_catalog.regprocedure FROM pg_proc p
        WHERE p.pronamespace = 'masterfile'::pg_catalog.regnamespace
          AND p.prolang IN (SELECT l.oid FROM pg_language l WHERE l.lanname IN ('plpython3u', 'c'))
    LOOP
        EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM %I, %I', v_kernel, p_schema, p_schema || '_owner');
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %I', v_kernel, p_schema || '_pipeline');
    END LOOP;
    -- advisory locks are the owner's (definer functions: the load lock) and
    -- the pipeline's (key claims) only; 030_locks.sql revokes them from PUBLIC
    EXECUTE format('GRANT EXECUTE ON FUNCTION pg_catalog.pg_try_advisory_lock(bigint),'
                   ' pg_catalog.pg_advisory_unlock(bigint) TO %I, %I', p_schema || '_owner', p_schema || '_pipeline');
    EXECUTE format('GRANT EXECUTE ON FUNCTION pg_catalog.pg_try_advisory_xact_lock(bigint) TO %I',
                   p_schema || '_pipeline');
    -- work hints: the owner's definer functions add them, for its own schema only
    EXECUTE format('GRANT SELECT, INSERT, DELETE ON masterfile.work_hints TO %I', p_schema || '_owner');
    -- temporary tables: the loader stages in them, the pipeline works in them;
    -- nobody else (a database made from a template does not inherit its ACL,
    -- so 030_hardening.sql's revoke is repeated here, where tenants arrive)
    EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
    EXECUTE format('GRANT TEMPORARY ON DATABASE %I TO %I, %I', current_database(), p_schema || '_loader',
                   p_schema || '_pipeline');
    EXECUTE format('GRANT EXECUTE ON PROCEDURE masterfile.process_tenant(text, integer, double precision, text)'
                   ' TO %I', p_schema || '_pipeline');
END;
$_$;

ALTER FUNCTION masterfile.ensure_tenant_roles(p_schema text, p_adopt boolean) OWNER TO postgres;

--
-- Name: features_kernel(text[], text[], integer[], date, integer, integer, integer[], double precision[], double precision[], double precision[], double precision[], double precision[], double precision[], double precision[], double precision[], boolean[], double precision[], bytea, bytea); Type: FUNCTION; Schema: masterfile; Owner: postgres
--

CREATE FUNCTION masterfile.features_kernel(p_kinds text[], p_inputs text[], p_params integer[], p_first_week date, p_start_index integer, p_stop_index integer, p_i integer[], p_sold double precision[], p_returned double precision[], p_revenue double precision[], p_received double precision[], p_ordered double precision[], p_invoiced double precision[], p_invoiced_amount double precision[], p_unit_cost double precision[], p_has_cost boolean[], p_seed double precision[], p_prior_sold bytea DEFAULT NULL::bytea, p_prior_revenue bytea DEFAULT NULL::bytea) RETURNS SETOF record
    LANGUAGE c IMMUTABLE PARALLEL SAFE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS 'masterfile_kernel', 'features_kernel_by_kind';

ALTER FUNCTION masterfile.features_kernel(p_kinds text[], p_inputs text[], p_params integer[], p_first_week date, p_start_index integer, p_stop_index integer, p_i integer[], p_sold double precision[], p_returned double precision[], p_revenue double precision[], p_received double precision[], p_ordered double precision[], p_invoiced double precision[], p_invoiced_amount double precision[], p_unit_cost double precision[], p_has_cost boolean[], p_seed double precision[], p_prior_sold bytea, p_prior_revenue bytea) OWNER TO postgres;

--
-- Name: features_lookback_weeks(); Type: FUNCTION; Schema: masterfile; Owner: postgres
--

CREATE FUNCTION masterfile.features_lookback_weeks() RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path TO 'pg_catalog', 'masterfile', 'pg_temp'
    AS $$
    SELECT 51
$$;

ALTER FUNCTION masterfile.features_lookback_weeks() OWNER TO postgres;

--
-- Name: forecast_batch(bytea, integer[], double precision[], double precision[], double precision[], double precision[], double precision[], double precision[], double precision[], double precision[], boolean[], boolean[], boolean[]); Type: FUNCTION; Schema: masterfile; Owner: postgres
--

CREATE FUNCTION masterfile.forecast_batch(p_y_flat bytea, p_lengths integer[], p_sigma double precision[], p_est_on_hand double precision[], p_on_order double precision[], p_lead_time_days double precision[], p_review_period_weeks double precision[], p_service_level double precision[], p_min_order_qty double precision[], p_order_multiple double precision[], p_discontinued boolean[], p_assorted boolean[], p_location_enabled boolean[], OUT demand_class text[], OUT method text[], OUT forecast_per_week double precision[], OUT sigma double precision[], OUT lead_time_weeks double precision[], OUT review_period_weeks double precision[], OUT service_level double precision[], OUT z double precision[], OUT safety_stock double precision[], OUT order_up_to double precision[], OUT inventory_position double precision[], OUT raw_qty double precision[], OUT recommended_qty double precision[], OUT reason text[]) RETURNS record
    LANGUAGE plpython3u IMMUTABLE PARALLEL SAFE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
# kernels/forecast.py, embedded by pyloader migrate: the module is built once per session and source version
module = GD.get('masterfile.kernels/forecast.py@ee538ccb52975553')
if module is None:
    import types
    module = types.ModuleType('kernels/forecast.py')
    exec(compile('"""Forecast and order kernel: demand class, forecast per week, order-up-to.\n\nImplements forecast-and-orders.md, sections "Demand series and class",\n"Forecast per week" and "Recommendation: periodic review, order up to".\nFigures match statsforecast\'s ``SimpleExponentialSmoothing(alpha=0.1)`` and\n``CrostonSBA()`` (same operations in the same order, so normally bit for bit).\n\nThis file runs in two places: in pytest, and inside PostgreSQL\'s PL/Python\n(Debian Python 3.11, Debian numpy 1.24), where ``masterfile.forecast_batch``\n(sql/control/025_forecast_kernel.sql) calls ``batch``: `pyloader migrate`\nembeds this source in that function\'s body, which exec()s it once per session\ninto a module kept in GD (pyloader/plpython.py). Hence: imports are the\nstandard library and numpy only, nothing happens at import, and nothing relies\non the module being registered in ``sys.modules``.\n\nPer-key reference functions (readable statements of the spec; the tests prove\nthe batch functions give the same results):\n\n    classify_and_forecast(y) -> (demand_class, method, forecast_per_week)\n    recommend(forecast, <the recommendation inputs>) -> dict, keys RECOMMEND_COLUMNS\n\nBatch entry points (many keys per call, vectorised across keys):\n\n    batch(y_flat, lengths, <the recommendation inputs>) -> dict, keys BATCH_COLUMNS\n    forecast_batch(y_flat, lengths) -> dict, keys FORECAST_COLUMNS\n    recommend_batch(forecast, <the recommendation inputs>)\n        -> dict, keys RECOMMEND_COLUMNS (for input changes that leave the\n           forecast alone, e.g. a UI setting)\n\nwhere the recommendation inputs are sigma .. location_enabled below, in that\norder; the SQL function\'s arguments are checked against ``batch``\'s signature.\n\nArguments: ``lengths`` and every argument after it hold one element per key,\nall in the same key order (a Python list, as PL/Python passes an array, or a\nnumpy array).\n\n    y_flat      float8[]  every key\'s weekly units_sold, oldest week first,\n                          key after key (key i owns the next lengths[i]\n                          values). Or bytes holding the same values as\n                          docs/weekly-series.md lays them out (what SQL\n                          passes: it skips the list conversion in PL/Python\n                          and here); series_to_bytes makes them.\n    lengths     int4[]    weeks per key, 0 allowed (no_demand); their sum is\n                          the number of values in y_flat. Only the last\n                          MAX_WEEKS weeks of a longer series are used.\n    sigma       float8[]  sold_std_13 at end_week; NULL elements mean 0\n    est_on_hand, on_order, lead_time_days, review_period_weeks,\n    service_level, min_order_qty, order_multiple\n                float8[]  effective values, no NULL elements;\n                          order_multiple > 0, 0 < service_level < 1\n    discontinued, assorted, location_enabled\n                bool[]    effective values, no NULL elements\n\nResult: a dict of lists, one element per key in input order, keyed by\nBATCH_COLUMNS = FORECAST_COLUMNS + RECOMMEND_COLUMNS:\n\n    demand_class        text    no_demand|smooth|erratic|intermittent|lumpy\n    method              text    ses|croston_sba, None for no_demand\n    forecast_per_week   float8\n    sigma               float8  NULL replaced by 0\n    lead_time_weeks     float8  lead_time_days / 7\n    review_period_weeks, service_level, z, safety_stock, order_up_to,\n    inventory_position, raw_qty, recommended_qty\n                        float8\n    reason              text    discontinued|not_assorted|location_disabled|\n                                reorder|sufficient_stock\n\nPL/Python maps a returned dict onto OUT parameters by name: the SQL function\ndeclares exactly these names as OUT arrays, which refresh_plans unnests.\n\nPass numbers as float8 (a numeric[] reaches PL/Python as Decimals: slower).\nBad input (a NULL where none is allowed, a NaN or infinity, mismatched\nlengths, order_multiple <= 0) raises ValueError naming the argument and the\nindex; a service_level outside (0, 1) raises statistics.StatisticsError\n(also a ValueError).\n"""\n\nimport array\nimport math\nfrom fractions import Fraction\nfrom statistics import NormalDist\n\nimport numpy as np\n\n# the weeks of a series the forecast reads; SQL\'s masterfile.forecast_weeks()\n# (tests/test_kernel_declarations.py holds the two equal)\nMAX_WEEKS = 104\nALPHA = 0.1\nCOMPLEMENT = 1.0 - ALPHA  # as statsforecast computes it\nSBA_FACTOR = 0.95\nADI_CUT = 1.32\nCV2_CUT = 0.49\nCV2_CUT_EXACT = Fraction(49, 100)\nCV2_TIE_BAND = 1e-9  # far wider than float error, far narrower than real gaps\nROUNDING_SLACK = 1e-9\n\nDEMAND_CLASSES = ("no_demand", "smooth", "erratic", "intermittent", "lumpy")\nMETHODS = (None, "ses", "ses", "croston_sba", "croston_sba")  # by class code\nREASONS = ("discontinued", "not_assorted", "location_disabled", "reorder", "sufficient_stock")\n\nFORECAST_COLUMNS = ("demand_class", "method", "forecast_per_week")\nRECOMMEND_COLUMNS = (\n    "sigma",\n    "lead_time_weeks",\n    "review_period_weeks",\n    "service_level",\n    "z",\n    "safety_stock",\n    "order_up_to",\n    "inventory_position",\n    "raw_qty",\n    "recommended_qty",\n    "reason",\n)\nBATCH_COLUMNS = FORECAST_COLUMNS + RECOMMEND_COLUMNS\n\n\n# ---------------------------------------------------------------- per key\n\n\ndef classify_and_forecast(y):\n    """Return (demand_class, method, forecast_per_week) for one key\'s weeks.\n\n    ``y`` is the key\'s weekly units_sold, oldest first; only its last\n    MAX_WEEKS values count. A week with sales is a week with ``y > 0``.\n    """\n    y = np.asarray(y, dtype=np.float64).ravel()[-MAX_WEEKS:]\n    sale = y > 0\n    k = int(np.count_nonzero(sale))\n    if k == 0:\n        return "no_demand", None, 0.0\n    sizes = y[sale]\n    # statsforecast\'s _intervals: 1-based positions of the sales, differenced,\n    # the first measured from the start of the series.\n    intervals = np.diff(np.flatnonzero(sale) + 1, prepend=0).astype(np.float64)\n    code = _class_code(float(np.mean(intervals)), _cv2_high(sizes))\n    if METHODS[code] == "ses":\n        return DEMAND_CLASSES[code], "ses", _ses(y.tolist())\n    return DEMAND_CLASSES[code], "croston_sba", _croston_sba(sizes.tolist(), intervals.tolist())\n\n\ndef recommend(\n    forecast,\n    sigma,\n    est_on_hand,\n    on_order,\n    lead_time_days,\n    review_period_weeks,\n    service_level,\n    min_order_qty,\n    order_multiple,\n    discontinued,\n    assorted,\n    location_enabled,\n):\n    """Periodic review, order up to, for one key; returns RECOMMEND_COLUMNS.\n\n    Steps 2-6 are computed (and returned) even when a step-1 reason forces\n    ``recommended_qty`` to 0.\n    """\n    if float(order_multiple) <= 0:\n        raise ValueError(f"order_multiple must be > 0, got {order_multiple!r}")\n    if discontinued:\n        reason = "discontinued"\n    elif not assorted:\n        reason = "not_assorted"\n    elif not location_enabled:\n        reason = "location_disabled"\n    else:\n        reason = None\n\n    f = float(forecast)\n    s = 0.0 if sigma is None else float(sigma)\n    lead = float(lead_time_days) / 7.0\n    review = float(review_period_weeks)\n    service = float(service_level)\n    z = NormalDist().inv_cdf(service)\n    safety_stock = z * s * math.sqrt(lead + review)\n    order_up_to = f * (lead + review) + safety_stock\n    inventory_position = max(float(est_on_hand), 0.0) + float(on_order)\n    raw_qty = order_up_to - inventory_position\n\n    qty = 0.0\n    if reason is None and raw_qty > 0:\n        multiple = float(order_multiple)\n        q = max(raw_qty, float(min_order_qty))\n        qty = math.ceil(q / multiple - ROUNDING_SLACK) * multiple  # q > 0: never < 0\n    if reason is None:\n        reason = "reorder" if qty > 0 else "sufficient_stock"\n\n    return {\n        "sigma": s,\n        "lead_time_weeks": lead,\n        "review_period_weeks": review,\n        "service_level": service,\n        "z": z,\n        "safety_stock": safety_stock,\n        "order_up_to": order_up_to,\n        "inventory_position": inventory_position,\n        "raw_qty": raw_qty,\n        "recommended_qty": float(qty),\n        "reason": reason,\n    }\n\n\ndef _ses(values):\n    """Last level of SES with alpha 0.1 started at the first value."""\n    level = values[0]\n    for v in values[1:]:\n        level = ALPHA * v + COMPLEMENT * level\n    return float(level)\n\n\ndef _croston_sba(sizes, intervals):\n    # statsforecast: mean = ydp / yip (yip >= 1 here), then mean *= 0.95.\n    return (_ses(sizes) / _ses(intervals)) * SBA_FACTOR\n\n\ndef _cv2_high(sizes):\n    """CV2 >= 0.49 for these non-zero sizes (CV2 is 0 for a single sale).\n\n    CV2 = (sample std / mean)^2. Near 0.49 the float result depends on the\n    order of operations (a series whose CV2 is exactly 0.49 evaluates to\n    0.48999999999999994), so there the comparison is made in exact\n    rational arithmetic on the given values.\n    """\n    if sizes.size < 2:\n        return False\n    cv2 = float((np.std(sizes, ddof=1) / np.mean(sizes)) ** 2)\n    if abs(cv2 - CV2_CUT) > CV2_TIE_BAND:\n        return cv2 >= CV2_CUT\n    return _cv2_exact(sizes.tolist()) >= CV2_CUT_EXACT\n\n\ndef _cv2_exact(sizes):\n    # With S = sum, Q = sum of squares: var = (kQ - S^2) / (k(k-1)),\n    # mean^2 = S^2 / k^2, so CV2 = k(kQ - S^2) / ((k-1) S^2).\n    values = [Fraction(v) for v in sizes]\n    k = len(values)\n    total = sum(values)\n    squares = sum(v * v for v in values)\n    return k * (k * squares - total * total) / ((k - 1) * total * total)\n\n\ndef _class_code(adi, cv2_high):\n    # ADI = (1-based position of the last sale) / k is a correctly rounded\n    # quotient of small integers, so comparing it with 1.32 is exact.\n    return 1 + 2 * (adi >= ADI_CUT) + bool(cv2_high)\n\n\n# ---------------------------------------------------------------- batch\n\n\ndef batch(\n    y_flat,\n    lengths,\n    sigma,\n    est_on_hand,\n    on_order,\n    lead_time_days,\n    review_period_weeks,\n    service_level,\n    min_order_qty,\n    order_multiple,\n    discontinued,\n    assorted,\n    location_enabled,\n):\n    """Forecast and recommend for many keys at once; see the module docstring."""\n    out = forecast_batch(y_flat, lengths)\n    out.update(\n        recommend_batch(\n            out["forecast_per_week"],\n            sigma,\n            est_on_hand,\n            on_order,\n            lead_time_days,\n            review_period_weeks,\n            service_level,\n            min_order_qty,\n            order_multiple,\n            discontinued,\n            assorted,\n            location_enabled,\n        )\n    )\n    return out\n\n\ndef forecast_batch(y_flat, lengths):\n    """classify_and_forecast for many keys; returns lists keyed by FORECAST_COLUMNS."""\n    y = _float_array("y_flat", y_flat)\n    n_all = _int_array("lengths", lengths)\n    if (n_all < 0).any():\n        raise ValueError(f"lengths: negative at index {int(np.flatnonzero(n_all < 0)[0])}")\n    if int(n_all.sum()) != y.size:\n        raise ValueError(f"lengths sum to {int(n_all.sum())} but y_flat has {y.size} values")\n    forecast, code = _forecast_arrays(y, n_all)\n    classes = np.array(DEMAND_CLASSES, dtype=object)[code]\n    methods = np.array(METHODS, dtype=object)[code]\n    return {\n        "demand_class": classes.tolist(),\n        "method": methods.tolist(),\n        "forecast_per_week": forecast.tolist(),\n    }\n\n\ndef _forecast_arrays(y, n_all):\n    """Forecast per week and class code per key, vectorised across keys."""\n    n_keys = n_all.size\n    n = np.minimum(n_all, MAX_WEEKS)\n    width = int(n.max()) if n_keys else 0\n    if width == 0:\n        return np.zeros(n_keys), np.zeros(n_keys, dtype=np.intp)\n    starts = np.cumsum(n_all) - n  # the last n weeks of each key\n    cols = np.arange(width)\n\n    # One row per key, weeks left-aligned, zero padding after the series\n    # (padding is never a sale and is never smoothed: each row has its length).\n    inside = cols < n[:, None]\n    weeks = np.where(inside, y[np.where(inside, starts[:, None] + cols, 0)], 0.0)\n\n    sale = weeks > 0\n    k = np.count_nonzero(sale, axis=1)\n    has_sales = k > 0\n    # Pack each row\'s sales to the left, in week order: sizes and positions.\n    order = np.argsort(~sale, axis=1, kind="stable")\n    packed = cols < k[:, None]\n    sizes = np.where(packed, np.take_along_axis(weeks, order, axis=1), 0.0)\n    position = (order + 1).astype(np.float64)\n    previous = np.concatenate([np.zeros((n_keys, 1)), position[:, :-1]], axis=1)\n    intervals = np.where(packed, position - previous, 0.0)\n\n    k_safe = np.maximum(k, 1).astype(np.float64)\n    adi = intervals.sum(axis=1) / k_safe  # integer sum: exact, as np.mean per key\n    mean = sizes.sum(axis=1) / k_safe\n    mean_safe = np.where(has_sales, mean, 1.0)\n    deviation = np.where(packed, sizes - mean[:, None], 0.0)\n    variance = (deviation * deviation).sum(axis=1) / np.maximum(k - 1, 1)\n    cv2 = np.where(k > 1, (np.sqrt(variance) / mean_safe) ** 2, 0.0)\n    cv2_high = cv2 >= CV2_CUT\n    # Near the cut, decide exactly, as the per-key function does.\n    for i in np.flatnonzero((k > 1) & (np.abs(cv2 - CV2_CUT) <= CV2_TIE_BAND)):\n        cv2_high[i] = _cv2_exact(sizes[i, : k[i]].tolist()) >= CV2_CUT_EXACT\n\n    code = np.where(has_sales, 1 + 2 * (adi >= ADI_CUT) + cv2_high, 0)\n\n    # One SES pass over the weeks, the sizes and the intervals of every key.\n    last = _ses_rows(np.concatenate([weeks, sizes, intervals]), np.concatenate([n, k, k]))\n    ses = last[:n_keys]\n    z_level = last[n_keys : 2 * n_keys]\n    p_level = np.where(has_sales, last[2 * n_keys :], 1.0)\n    croston = (z_level / p_level) * SBA_FACTOR\n\n    forecast = np.where(code >= 3, croston, np.where(code >= 1, ses, 0.0))\n    return forecast, code\n\n\ndef _ses_rows(rows, lengths):\n    """Last SES level of each row\'s first lengths[i] values (alpha 0.1)."""\n    columns = np.ascontiguousarray(rows.T)\n    level = columns[0].copy()\n    for t in range(1, columns.shape[0]):\n        live = lengths > t\n        if not live.any():\n            break\n        np.copyto(level, ALPHA * columns[t] + COMPLEMENT * level, where=live)\n    return level\n\n\ndef recommend_batch(\n    forecast,\n    sigma,\n    est_on_hand,\n    on_order,\n    lead_time_days,\n    review_period_weeks,\n    service_level,\n    min_order_qty,\n    order_multiple,\n    discontinued,\n    assorted,\n    location_enabled,\n):\n    """recommend for many keys; returns lists keyed by RECOMMEND_COLUMNS."""\n    f = _float_array("forecast", forecast)\n    n_keys = f.size\n    s = _float_array("sigma", sigma, n_keys, null_as=0.0)\n    on_hand = _float_array("est_on_hand", est_on_hand, n_keys)\n    incoming = _float_array("on_order", on_order, n_keys)\n    lead = _float_array("lead_time_days", lead_time_days, n_keys) / 7.0\n    review = _float_array("review_period_weeks", review_period_weeks, n_keys)\n    service = _float_array("service_level", service_level, n_keys)\n    moq = _float_array("min_order_qty", min_order_qty, n_keys)\n    multiple = _float_array("order_multiple", order_multiple, n_keys)\n    if (multiple <= 0).any():\n        i = int(np.flatnonzero(multiple <= 0)[0])\n        raise ValueError(f"order_multiple must be > 0, got {float(multiple[i])!r} at index {i}")\n    is_discontinued = _bool_array("discontinued", discontinued, n_keys)\n    is_assorted = _bool_array("assorted", assorted, n_keys)\n    is_enabled = _bool_array("location_enabled", location_enabled, n_keys)\n\n    levels, inverse = np.unique(service, return_inverse=True)\n    z_of_level = np.array([NormalDist().inv_cdf(float(v)) for v in levels], dtype=np.float64)\n    z = z_of_level[inverse.reshape(-1)] if n_keys else np.zeros(0)\n\n    safety_stock = z * s * np.sqrt(lead + review)\n    order_up_to = f * (lead + review) + safety_stock\n    inventory_position = np.maximum(on_hand, 0.0) + incoming\n    raw_qty = order_up_to - inventory_position\n\n    blocked = is_discontinued | ~is_assorted | ~is_enabled\n    rounded = np.ceil(np.maximum(raw_qty, moq) / multiple - ROUNDING_SLACK) * multiple\n    # rounded > 0 also keeps np.ceil\'s -0.0 (q tiny, below the slack) out\n    qty = np.where(~blocked & (raw_qty > 0) & (rounded > 0), rounded, 0.0)\n    reason = np.where(\n        is_discontinued,\n        0,\n        np.where(~is_assorted, 1, np.where(~is_enabled, 2, np.where(qty > 0, 3, 4))),\n    )\n    return {\n        "sigma": s.tolist(),\n        "lead_time_weeks": lead.tolist(),\n        "review_period_weeks": review.tolist(),\n        "service_level": service.tolist(),\n        "z": z.tolist(),\n        "safety_stock": safety_stock.tolist(),\n        "order_up_to": order_up_to.tolist(),\n        "inventory_position": inventory_position.tolist(),\n        "raw_qty": raw_qty.tolist(),\n        "recommended_qty": qty.tolist(),\n        "reason": np.array(REASONS, dtype=object)[reason].tolist(),\n    }\n\n\n# ---------------------------------------------------------------- weekly series as bytes\n\n# docs/weekly-series.md: one float8 per week, as float8send() writes it\nSERIES_DTYPE = np.dtype(">f8")\n\n\ndef series_to_bytes(values):\n    """A weekly series (oldest week first) as SQL\'s string_agg(float8send(...)) makes it."""\n    return np.asarray(values, dtype=np.float64).astype(SERIES_DTYPE).tobytes()\n\n\ndef series_from_bytes(data, name="series"):\n    """The values of a weekly series held as bytes (bytes, bytearray or memoryview), as float64."""\n    if len(data) % SERIES_DTYPE.itemsize:\n        raise ValueError(f"{name}: {len(data)} bytes is not a whole number of float8")\n    return np.frombuffer(data, dtype=SERIES_DTYPE).astype(np.float64)\n\n\n# ---------------------------------------------------------------- input checks\n\n\ndef _nulls_replaced(name, values, null_as):\n    """values as given, or a list with None replaced; None refused if null_as is None."""\n    if values is None:\n        raise ValueError(f"{name}: is NULL")\n    if isinstance(values, np.ndarray):\n        return values\n    values = list(values)\n    if None not in values:\n        return values\n    if null_as is None:\n        raise ValueError(f"{name}: NULL at index {values.index(None)}")\n    return [null_as if v is None else v for v in values]\n\n\ndef _float_array(name, values, size=None, null_as=None):\n    if isinstance(values, np.ndarray):\n        arr = values.astype(np.float64).reshape(-1)\n    elif isinstance(values, (bytes, bytearray, memoryview)):\n        arr = series_from_bytes(values, name)\n    else:\n        # array.array converts a list of floats about twice as fast as\n        # np.asarray on numpy 1.24, and refuses None (TypeError) for free.\n        try:\n            arr = np.frombuffer(array.array("d", values), dtype=np.float64)\n        except TypeError:\n            arr = np.asarray(_nulls_replaced(name, values, null_as), dtype=np.float64).reshape(-1)\n    if size is not None and arr.size != size:\n        raise ValueError(f"{name}: {arr.size} values for {size} keys")\n    bad = ~np.isfinite(arr)\n    if bad.any():\n        i = int(np.flatnonzero(bad)[0])\n        raise ValueError(f"{name}: {float(arr[i])!r} at index {i}")\n    return arr\n\n\ndef _int_array(name, values):\n    arr = np.asarray(_nulls_replaced(name, values, None)).reshape(-1)\n    if arr.size and not np.issubdtype(arr.dtype, np.integer):\n        raise ValueError(f"{name}: integers expected, got {arr.dtype}")\n    return arr.astype(np.int64)\n\n\ndef _bool_array(name, values, size):\n    arr = np.asarray(_nulls_replaced(name, values, None)).reshape(-1)\n    if arr.size != size:\n        raise ValueError(f"{name}: {arr.size} values for {size} keys")\n    if arr.size and arr.dtype != np.bool_:\n        raise ValueError(f"{name}: booleans expected, got {arr.dtype}")\n    return arr.astype(np.bool_)\n', 'kernels/forecast.py', 'exec'), module.__dict__)
    GD['masterfile.kernels/forecast.py@ee538ccb52975553'] = module
return module.batch(p_y_flat, p_lengths, p_sigma, p_est_on_hand, p_on_order, p_lead_time_days,
                    p_review_period_weeks, p_service_level, p_min_order_qty, p_order_multiple, p_discontinued,
                    p_assorted, p_location_enabled)
$$;

ALTER FUNCTION masterfile.forecast_batch(p_y_flat bytea, p_lengths integer[], p_sigma double precision[], p_est_on_hand double precision[], p_on_order double precision[], p_lead_time_days double precision[], p_review_period_weeks double precision[], p_service_level double precision[], p_min_order_qty double precision[], p_order_multiple double precision[], p_discontinued boolean[], p_assorted boolean[], p_location_enabled boolean[], OUT demand_class text[], OUT method text[], OUT forecast_per_week double precision[], OUT sigma double precision[], OUT lead_time_weeks double precision[], OUT review_period_weeks double precision[], OUT service_level double precision[], OUT z double precision[], OUT safety_stock double precision[], OUT order_up_to double precision[], OUT inventory_position double precision[], OUT raw_qty double precision[], OUT recommended_qty double precision[], OUT reason text[]) OWNER TO postgres;

--
-- Name: forecast_weeks(); Type: FUNCTION; Schema: masterfile; Owner: postgres
--

CREATE FUNCTION masterfile.forecast_weeks() RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path TO 'pg_catalog', 'masterfile', 'pg_temp'
    AS $$
    SELECT 104
$$;

ALTER FUNCTION masterfile.forecast_weeks() OWNER TO postgres;

--
-- Name: lock_key(text, text); Type: FUNCTION; Schema: masterfile; Owner: postgres
--

CREATE FUNCTION masterfile.lock_key(p_schema text, p_thing text) RETURNS bigint
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    SET search_path TO 'pg_catalog', 'masterfile', 'pg_temp'
    AS $$
    SELECT pg_catalog.hashtextextended('masterfile/' || p_schema || '/' || p_thing, 0)
$$;

ALTER FUNCTION masterfile.lock_key(p_schema text, p_thing text) OWNER TO postgres;

--
-- Name: notify_work_hinted(); Type: FUNCTION; Schema: masterfile; Owner: postgres
--

CREATE FUNCTION masterfile.notify_work_hinted() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'masterfile', 'pg_temp'
    AS $$
BEGIN
    -- guarantees: one wake-up per statement that added hints
    PERFORM pg_catalog.pg_notify('masterfile_dirty', '');
    RETURN NULL;
END;
$$;

ALTER FUNCTION masterfile.notify_work_hinted() OWNER TO postgres;

--
-- Name: on_citus(); Type: FUNCTION; Schema: masterfile; Owner: postgres
--

CREATE FUNCTION masterfile.on_citus() RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE
    SET search_path TO 'pg_catalog', 'masterfile', 'pg_temp'
    AS $$
    SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'citus')
$$;

ALTER FUNCTION masterfile.on_citus() OWNER TO postgres;

--
-- Name: process_tenant(text, integer, double precision, text); Type: PROCEDURE; Schema: masterfile; Owner: postgres
--

CREATE PROCEDURE masterfile.process_tenant(IN p_schema text, IN p_batch_size integer DEFAULT 500, IN p_max_seconds double precision DEFAULT 50, IN p_trigger text DEFAULT 'manual'::text)
    LANGUAGE plpgsql
    AS $_$
DECLARE
    v_run   bigint;
    v_old   bigint;
    v_start timestamptz := pg_catalog.clock_timestamp();
    v_batch record;
    v_left  boolean;
BEGIN
    -- guarantees: the run is recorded in <schema>.runs and held alive by a
    -- session lock, so the next run marks it 'interrupted' if its session
    -- dies; a key that failed for a passing reason (deadlock, lock timeout)
    -- keeps its marks and is not claimed again by this run
    IF p_schema !~ '^t_[a-z0-9_]{1,40}$' THEN
        RAISE EXCEPTION 'not a tenant schema name: %', p_schema USING ERRCODE = 'invalid_parameter_value';
    END IF;
    EXECUTE pg_catalog.format('INSERT INTO %I.runs (trigger) VALUES ($1) RETURNING run_id', p_schema)
        INTO v_run USING p_trigger;
    PERFORM pg_catalog.pg_try_advisory_lock(masterfile.lock_key(p_schema, 'run/' || v_run));
    -- runs left 'running' by a session that is gone: their lock is free
    FOR v_old IN EXECUTE pg_catalog.format(
            'SELECT run_id FROM %I.runs WHERE status = ''running'' AND run_id <> $1', p_schema) USING v_run LOOP
        IF pg_catalog.pg_try_advisory_lock(masterfile.lock_key(p_schema, 'run/' || v_old)) THEN
            EXECUTE pg_catalog.format(
                'UPDATE %I.runs SET status = ''interrupted'', finished_at = $2,'
                ' message = ''its session ended before it finished'' WHERE run_id = $1 AND status = ''running''',
                p_schema) USING v_old, pg_catalog.clock_timestamp();
            PERFORM pg_catalog.pg_advisory_unlock(masterfile.lock_key(p_schema, 'run/' || v_old));
        END IF;
    END LOOP;
    COMMIT;
    EXECUTE pg_catalog.format('SELECT %I.ensure_work_tables()', p_schema);
    DELETE FROM pg_temp.mf_retry WHERE retry_after <= pg_catalog.clock_timestamp();
    COMMIT;
    LOOP
        -- Derived data only: a crash may lose the last commits, but each one
        -- deletes its marks in the same transaction, so what is lost is still
        -- queued and is recomputed; no need to wait for the WAL flush.
        PERFORM pg_catalog.set_config('synchronous_commit', 'off', true);
        PERFORM pg_catalog.set_config('lock_timeout', '2s', true);
        EXECUTE pg_catalog.format('SELECT %I.prepare_queue()', p_schema);
        COMMIT;
        PERFORM pg_catalog.set_config('synchronous_commit', 'off', true);
        -- a UI transaction holding one recommendation row fails that key
        -- (retried later), not the whole run
        PERFORM pg_catalog.set_config('lock_timeout', '2s', true);
        EXECUTE pg_catalog.format('SELECT * FROM %I.process_batch($1)', p_schema) INTO v_batch USING p_batch_size;
        EXECUTE pg_catalog.format(
            'UPDATE %I.runs SET keys_done = keys_done + $2, rows_written = rows_written + $3 + $4,'
            ' feature_rows = feature_rows + $3, plan_rows = plan_rows + $4, keys_failed = keys_failed + $5,'
            ' feature_seconds = feature_seconds + $6, plan_seconds = plan_seconds + $7 WHERE run_id = $1', p_schema)
            USING v_run, v_batch.keys_done, v_batch.feature_rows, v_batch.plan_rows, v_batch.keys_failed,
                  v_batch.feature_seconds, v_batch.plan_seconds;
        COMMIT;
        EXECUTE pg_catalog.format('SELECT EXISTS (SELECT 1 FROM %I._private_dirty_keys)', p_schema) INTO v_left;
        -- done when nothing could be claimed, or a short batch left the queue
        -- empty (which spares a last, empty batch)
        EXIT WHEN v_batch.keys_done = 0
               OR (v_batch.keys_done < p_batch_size AND NOT v_left)
               OR pg_catalog.clock_timestamp() - v_start > pg_catalog.make_interval(secs => p_max_seconds);
    END LOOP;
    EXECUTE pg_catalog.format(
        'UPDATE %I.runs SET finished_at = $2, status = ''succeeded'' WHERE run_id = $1',
        p_schema) USING v_run, pg_catalog.clock_timestamp();
    COMMIT;
    PERFORM pg_catalog.pg_advisory_unlock(masterfile.lock_key(p_schema, 'run/' || v_run));
END;
$_$;

ALTER PROCEDURE masterfile.process_tenant(IN p_schema text, IN p_batch_size integer, IN p_max_seconds double precision, IN p_trigger text) OWNER TO postgres;

--
-- Name: resolve_api_token(bytea); Type: FUNCTION; Schema: masterfile; Owner: masterfile_token_resolver
--

CREATE FUNCTION masterfile.resolve_api_token(p_token_hash bytea) RETURNS TABLE(token_hash bytea, client_id text, schema_name text, role text, name text)
    LANGUAGE plpgsql STRICT SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'masterfile', 'pg_temp'
    AS $$
BEGIN
    -- guarantees: at most one row, for a token that is not revoked; its
    -- last_used_at is moved at most once a minute (token list shows it)
    UPDATE masterfile.api_tokens t SET last_used_at = now()
     WHERE t.token_hash = p_token_hash AND t.revoked_at IS NULL
       AND (t.last_used_at IS NULL OR t.last_used_at < now() - interval '1 minute');
    RETURN QUERY
    SELECT t.token_hash, t.client_id, r.schema_name, t.role, t.name
      FROM masterfile.api_tokens t
      JOIN masterfile.tenants r ON r.client_id = t.client_id
     WHERE t.token_hash = p_token_hash AND t.revoked_at IS NULL;
END;
$$;

ALTER FUNCTION masterfile.resolve_api_token(p_token_hash bytea) OWNER TO masterfile_token_resolver;

--
-- Name: tenant_role_collisions(text); Type: FUNCTION; Schema: masterfile; Owner: postgres
--

CREATE FUNCTION masterfile.tenant_role_collisions(p_schema text) RETURNS SETOF text
    LANGUAGE sql STABLE STRICT PARALLEL SAFE
    SET search_path TO 'pg_catalog', 'masterfile', 'pg_temp'
    AS $$
    SELECT n.rolname
    FROM masterfile.tenant_role_names(p_schema) n
    JOIN pg_catalog.pg_roles r ON r.rolname = n.rolname
    WHERE pg_catalog.shobj_description(r.oid, 'pg_authid') IS DISTINCT FROM masterfile.tenant_role_marker(p_schema, n.kind)
$$;

ALTER FUNCTION masterfile.tenant_role_collisions(p_schema text) OWNER TO postgres;

--
-- Name: tenant_role_marker(text, text); Type: FUNCTION; Schema: masterfile; Owner: postgres
--

CREATE FUNCTION masterfile.tenant_role_marker(p_schema text, p_kind text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    SET search_path TO 'pg_catalog', 'masterfile', 'pg_temp'
    AS $$
    SELECT 'masterfile tenant ' || p_schema || ': ' || p_kind
$$;

ALTER FUNCTION masterfile.tenant_role_marker(p_schema text, p_kind text) OWNER TO postgres;

--
-- Name: tenant_role_names(text); Type: FUNCTION; Schema: masterfile; Owner: postgres
--

CREATE FUNCTION masterfile.tenant_role_names(p_schema text, OUT rolname text, OUT kind text) RETURNS SETOF record
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    SET search_path TO 'pg_catalog', 'masterfile', 'pg_temp'
    AS $$
    SELECT p_schema || k.suffix, k.kind
    FROM (VALUES ('', 'reader'), ('_owner', 'owner'), ('_loader', 'loader'), ('_ui', 'ui'),
                 ('_pipeline', 'pipeline')) AS k(suffix, kind)
$$;

ALTER FUNCTION masterfile.tenant_role_names(p_schema text, OUT rolname text, OUT kind text) OWNER TO postgres;

--
-- Name: work_runner(); Type: FUNCTION; Schema: masterfile; Owner: postgres
--

CREATE FUNCTION masterfile.work_runner() RETURNS integer
    LANGUAGE sql
    SET search_path TO 'pg_catalog', 'masterfile', 'pg_temp'
    AS $$
    SELECT (pg_catalog.txid_current() % 4294967296 - 2147483648)::integer
$$;

ALTER FUNCTION masterfile.work_runner() OWNER TO postgres;

--
-- Name: apply_retention(); Type: FUNCTION; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE FUNCTION t_schema_dump.apply_retention() RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 't_schema_dump', 'pg_temp'
    AS $_$
DECLARE
    v_policy    retention_policy;
    v_runs      bigint;
    v_loads     bigint;
    v_rejects   bigint;
    v_dropped   bigint;
    v_conflicts bigint := 0;
BEGIN
    -- deletes only rows older than the tenant's retention periods; never a running one
    SELECT * INTO v_policy FROM retention_policy;
    IF NOT FOUND THEN  -- the row was deleted by hand: the defaults apply
        INSERT INTO retention_policy DEFAULT VALUES RETURNING * INTO v_policy;
    END IF;

    DELETE FROM runs
     WHERE status <> 'running' AND finished_at < now() - v_policy.runs_kept;
    GET DIAGNOSTICS v_runs = ROW_COUNT;

    DELETE FROM rejects WHERE rejected_at < now() - v_policy.rejects_kept;
    GET DIAGNOSTICS v_rejects = ROW_COUNT;
    DELETE FROM rejects r
     USING loads l
     WHERE r.load_id = l.load_id AND l.status <> 'running' AND l.finished_at < now() - v_policy.loads_kept;
    GET DIAGNOSTICS v_dropped = ROW_COUNT;
    v_rejects := v_rejects + v_dropped;
    DELETE FROM loads
     WHERE status <> 'running' AND finished_at < now() - v_policy.loads_kept;
    GET DIAGNOSTICS v_loads = ROW_COUNT;

    IF EXISTS (SELECT 1 FROM pg_attribute
                WHERE attrelid = 'conflicts'::regclass AND attname = 'acknowledged_at' AND NOT attisdropped) THEN
        EXECUTE 'DELETE FROM conflicts WHERE acknowledged_at < now() - $1' USING v_policy.conflicts_kept;
        GET DIAGNOSTICS v_conflicts = ROW_COUNT;
    END IF;

    RETURN jsonb_build_object('runs', v_runs, 'loads', v_loads, 'rejects', v_rejects, 'conflicts', v_conflicts);
END
$_$;

ALTER FUNCTION t_schema_dump.apply_retention() OWNER TO t_schema_dump_owner;

--
-- Name: attach_statement_triggers(text, text, text, text[], text[]); Type: FUNCTION; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE FUNCTION t_schema_dump.attach_statement_triggers(p_table text, p_prefix text, p_function text, p_args text[], p_events text[] DEFAULT ARRAY['INSERT'::text, 'UPDATE'::text, 'DELETE'::text, 'TRUNCATE'::text]) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 't_schema_dump', 'pg_temp'
    AS $$
DECLARE
    v_call  text := format('%I(%s)', p_function,
                           (SELECT coalesce(string_agg(quote_literal(a), ', '), '') FROM unnest(p_args) a));
    v_event text;
BEGIN
    -- guarantees: one trigger per event of p_events exists on p_table and calls p_function(p_args)
    FOREACH v_event IN ARRAY p_events LOOP
        EXECUTE format('CREATE OR REPLACE TRIGGER %I AFTER %s ON %I %s FOR EACH STATEMENT EXECUTE FUNCTION %s',
                       p_prefix || '_' || lower(v_event),
                       CASE v_event WHEN 'INSERT' THEN 'INSERT' WHEN 'UPDATE' THEN 'UPDATE'
                                    WHEN 'DELETE' THEN 'DELETE' WHEN 'TRUNCATE' THEN 'TRUNCATE' END,
                       p_table,
                       CASE v_event WHEN 'INSERT' THEN 'REFERENCING NEW TABLE AS new_rows'
                                    WHEN 'UPDATE' THEN 'REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows'
                                    WHEN 'DELETE' THEN 'REFERENCING OLD TABLE AS old_rows'
                                    ELSE '' END,
                       v_call);
    END LOOP;
END;
$$;

ALTER FUNCTION t_schema_dump.attach_statement_triggers(p_table text, p_prefix text, p_function text, p_args text[], p_events text[]) OWNER TO t_schema_dump_owner;

--
-- Name: changed_rows_query(text, text[], text[], text[], text); Type: FUNCTION; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE FUNCTION t_schema_dump.changed_rows_query(p_op text, p_join_cols text[], p_cols text[], p_out_cols text[], p_skip_col text DEFAULT NULL::text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path TO 'pg_catalog', 't_schema_dump', 'pg_temp'
    AS $_$
    SELECT CASE
        WHEN p_op IN ('INSERT', 'DELETE') THEN format(
            'SELECT %1$s FROM %2$s x WHERE (%3$s) IS DISTINCT FROM (%4$s)%5$s',
            (SELECT string_agg(format('x.%I', c), ', ') FROM unnest(p_out_cols) AS u(c)),
            CASE WHEN p_op = 'INSERT' THEN 'new_rows' ELSE 'old_rows' END,
            (SELECT string_agg(format('x.%I', c), ', ') FROM unnest(p_cols) AS u(c)),
            array_to_string(array_fill('NULL'::text, ARRAY[cardinality(p_cols)]), ', '),
            CASE WHEN p_skip_col IS NOT NULL THEN format(' AND NOT x.%I', p_skip_col) ELSE '' END)
        ELSE format(
            'WITH c AS (SELECT %1$s, %2$s FROM old_rows o FULL JOIN new_rows n ON %3$s'
            '           WHERE (%4$s) IS DISTINCT FROM (%5$s))'
            ' SELECT %6$s FROM c WHERE o_present%7$s UNION ALL SELECT %8$s FROM c WHERE n_present%9$s',
            (SELECT string_agg(format('o.%I AS o_%s', c, i), ', ') FROM unnest(p_out_cols) WITH ORDINALITY AS u(c, i))
                || format(', o.%I IS NOT NULL AS o_present', p_join_cols[1])
                || CASE WHEN p_skip_col IS NOT NULL THEN format(', o.%I AS o_skip', p_skip_col) ELSE '' END,
            (SELECT string_agg(format('n.%I AS n_%s', c, i), ', ') FROM unnest(p_out_cols) WITH ORDINALITY AS u(c, i))
                || format(', n.%I IS NOT NULL AS n_present', p_join_cols[1])
                || CASE WHEN p_skip_col IS NOT NULL THEN format(', n.%I AS n_skip', p_skip_col) ELSE '' END,
            (SELECT string_agg(format('o.%1$I = n.%1$I', c), ' AND ') FROM unnest(p_join_cols) AS u(c)),
            (SELECT string_agg(format('o.%I', c), ', ') FROM unnest(p_cols) AS u(c)),
            (SELECT string_agg(format('n.%I', c), ', ') FROM unnest(p_cols) AS u(c)),
            (SELECT string_agg(format('o_%s AS %I', i, c), ', ') FROM unnest(p_out_cols) WITH ORDINALITY AS u(c, i)),
            CASE WHEN p_skip_col IS NOT NULL THEN ' AND NOT o_skip' ELSE '' END,
            (SELECT string_agg(format('n_%s', i), ', ') FROM unnest(p_out_cols) WITH ORDINALITY AS u(c, i)),
            CASE WHEN p_skip_col IS NOT NULL THEN ' AND NOT n_skip' ELSE '' END)
    END
$_$;

ALTER FUNCTION t_schema_dump.changed_rows_query(p_op text, p_join_cols text[], p_cols text[], p_out_cols text[], p_skip_col text) OWNER TO t_schema_dump_owner;

--
-- Name: check_end_week(); Type: FUNCTION; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE FUNCTION t_schema_dump.check_end_week() RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 't_schema_dump', 'pg_temp'
    AS $$
DECLARE
    v_now  date;
    v_then date;
BEGIN
    -- guarantees: _private_pipeline_state.end_week = end_week(), and the move is queued
    -- (the row is locked only when it must change: every batch of every
    -- runner passes here, and a lock held to its commit would serialise them)
    IF NOT end_week_moved() THEN
        RETURN;
    END IF;
    v_now := end_week();
    SELECT end_week INTO v_then FROM _private_pipeline_state FOR UPDATE;
    IF v_then IS DISTINCT FROM v_now THEN
        IF v_then IS NOT NULL THEN
            PERFORM mark_all_keys(least(v_then, v_now) + 7, 'features');
        END IF;
        UPDATE _private_pipeline_state SET end_week = v_now;
    END IF;
END;
$$;

ALTER FUNCTION t_schema_dump.check_end_week() OWNER TO t_schema_dump_owner;

--
-- Name: delete_stale_features(date); Type: FUNCTION; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE FUNCTION t_schema_dump.delete_stale_features(p_end date) RETURNS bigint
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 't_schema_dump', 'pg_temp'
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

ALTER FUNCTION t_schema_dump.delete_stale_features(p_end date) OWNER TO t_schema_dump_owner;

--
-- Name: delete_undecided_recommendations(text[], text[]); Type: FUNCTION; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE FUNCTION t_schema_dump.delete_undecided_recommendations(p_product_ids text[], p_location_ids text[]) RETURNS bigint
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 't_schema_dump', 'pg_temp'
    AS $$
DECLARE
    v_n bigint;
BEGIN
    -- guarantees: deletes exactly the given keys' recommendations whose UI
    -- columns are at their defaults (a decision committed meanwhile is seen:
    -- the DELETE re-checks its condition on the row's latest version)
    DELETE FROM recommendations r
    USING unnest(p_product_ids, p_location_ids) AS k(p, l)
    WHERE r.product_id = k.p AND r.location_id = k.l
      AND NOT recommendation_has_decision(r.decision, r.approved_qty, r.decided_by, r.decided_at, r.note);
    GET DIAGNOSTICS v_n = ROW_COUNT;
    RETURN v_n;
END;
$$;

ALTER FUNCTION t_schema_dump.delete_undecided_recommendations(p_product_ids text[], p_location_ids text[]) OWNER TO t_schema_dump_owner;

--
-- Name: end_week(); Type: FUNCTION; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE FUNCTION t_schema_dump.end_week() RETURNS date
    LANGUAGE sql STABLE PARALLEL SAFE
    SET search_path TO 'pg_catalog', 't_schema_dump', 'pg_temp'
    AS $$
    -- the Monday of the week before as_of_date (the last complete week);
    -- as_of_date null rolls with the calendar
    SELECT (date_trunc('week', coalesce(s.as_of_date, current_date)) - interval '7 days')::date
    FROM settings s
$$;

ALTER FUNCTION t_schema_dump.end_week() OWNER TO t_schema_dump_owner;

--
-- Name: end_week_moved(); Type: FUNCTION; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE FUNCTION t_schema_dump.end_week_moved() RETURNS boolean
    LANGUAGE plpgsql STABLE PARALLEL SAFE
    SET search_path TO 'pg_catalog', 't_schema_dump', 'pg_temp'
    AS $$
DECLARE
    v_end date := end_week();
BEGIN
    -- guarantees: true exactly when the accounted end_week is not end_week()
    RETURN (SELECT end_week FROM _private_pipeline_state) IS DISTINCT FROM v_end;
END;
$$;

ALTER FUNCTION t_schema_dump.end_week_moved() OWNER TO t_schema_dump_owner;

--
-- Name: ensure_work_tables(); Type: FUNCTION; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE FUNCTION t_schema_dump.ensure_work_tables() RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 't_schema_dump', 'pg_temp'
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

ALTER FUNCTION t_schema_dump.ensure_work_tables() OWNER TO t_schema_dump_owner;

--
-- Name: expand_global_marks(); Type: FUNCTION; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE FUNCTION t_schema_dump.expand_global_marks() RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 't_schema_dump', 'pg_temp'
    SET enable_seqscan TO 'off'
    AS $$
DECLARE
    v_g record;
BEGIN
    -- guarantees: a global mark is replaced by per-key marks in one transaction
    FOR v_g IN
        DELETE FROM _private_dirty_keys d
        WHERE d.mark_id IN (SELECT mark_id FROM _private_dirty_keys WHERE product_id IS NULL FOR UPDATE SKIP LOCKED)
        RETURNING d.from_week, d.scope
    LOOP
        -- in key order: claims take keys in mark order, and a batch of
        -- neighbouring keys writes neighbouring pages of the key indexes
        INSERT INTO _private_dirty_keys (product_id, location_id, from_week, scope)
        SELECT product_id, location_id, v_g.from_week, v_g.scope FROM _private_feature_keys
        ORDER BY product_id, location_id;
    END LOOP;
END;
$$;

ALTER FUNCTION t_schema_dump.expand_global_marks() OWNER TO t_schema_dump_owner;

--
-- Name: guard_shared_columns(); Type: FUNCTION; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE FUNCTION t_schema_dump.guard_shared_columns() RETURNS trigger
    LANGUAGE plpgsql STABLE PARALLEL SAFE
    SET search_path TO 'pg_catalog', 't_schema_dump', 'pg_temp'
    AS $$
DECLARE
    -- TG_ARGV[0]: the UI's columns of the table, as a text array; TG_ARGV[1]:
    -- the table (TG_TABLE_NAME is a shard's name on a Citus worker)
    v_ui_columns text[] := TG_ARGV[0]::text[];
    v_table      text := TG_ARGV[1];
    v_column     text;
BEGIN
    -- guarantees: the UI role changes only v_ui_columns; the pipeline role
    -- changes none of recommendations' (spelled out below: the pipeline
    -- writes no other shared table), and inserts them at their defaults
    IF current_user = 't_schema_dump' || '_ui' THEN
        IF TG_OP = 'INSERT' OR (to_jsonb(NEW) - v_ui_columns) IS DISTINCT FROM (to_jsonb(OLD) - v_ui_columns) THEN
            v_column := (SELECT n.key FROM jsonb_each(to_jsonb(NEW)) n
                         WHERE n.key <> ALL (v_ui_columns)
                           AND (TG_OP = 'INSERT' OR n.value IS DISTINCT FROM to_jsonb(OLD) -> n.key)
                         LIMIT 1);
        END IF;
    ELSIF current_user = 't_schema_dump' || '_pipeline' AND v_table = 'recommendations' THEN
        -- per row of every plan the pipeline writes: spelled out, no jsonb
        IF TG_OP = 'INSERT' THEN
            IF NEW.decision IS DISTINCT FROM 'pending' OR NEW.approved_qty IS NOT NULL
               OR NEW.decided_by IS NOT NULL OR NEW.decided_at IS NOT NULL OR NEW.note IS NOT NULL THEN
                v_column := 'decision';
            END IF;
        ELSIF (NEW.decision, NEW.approved_qty, NEW.decided_by, NEW.decided_at, NEW.note)
              IS DISTINCT FROM (OLD.decision, OLD.approved_qty, OLD.decided_by, OLD.decided_at, OLD.note) THEN
            v_column := 'decision';
        END IF;
    END IF;
    IF v_column IS NOT NULL THEN
        RAISE EXCEPTION 'permission denied for column % of relation %', v_column, v_table
            USING ERRCODE = 'insufficient_privilege',
                  HINT = format('%s writes only its own columns of %s', current_user, v_table);
    END IF;
    RETURN NEW;
END;
$$;

ALTER FUNCTION t_schema_dump.guard_shared_columns() OWNER TO t_schema_dump_owner;

--
-- Name: hint_work(); Type: FUNCTION; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE FUNCTION t_schema_dump.hint_work() RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 't_schema_dump', 'pg_temp'
    AS $$
BEGIN
    -- guarantees: a hint of this tenant committed with the caller's marks,
    -- where the control schema is (the listeners' wake-up is work_hints'
    -- own trigger, 040_scheduling.sql). On a Citus worker, where marking
    -- triggers run and the control schema is not, nothing: there the
    -- writers (the loader's batches, the API's edits, migrate) call it
    -- from their own session on the coordinator, and a cron dispatcher
    -- sweeps for the rest (docs/scale-out.md). It reads no tenant table: a
    -- definer function that did would reach the worker as another user
    -- than the writer's, which Citus refuses in one transaction
    IF pg_catalog.to_regclass('masterfile.work_hints') IS NULL THEN
        RETURN;
    END IF;
    INSERT INTO masterfile.work_hints (schema_name) VALUES ('t_schema_dump');
END;
$$;

ALTER FUNCTION t_schema_dump.hint_work() OWNER TO t_schema_dump_owner;

--
-- Name: mark_all_keys(date, text); Type: FUNCTION; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE FUNCTION t_schema_dump.mark_all_keys(p_from_week date, p_scope text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 't_schema_dump', 'pg_temp'
    AS $$
BEGIN
    -- guarantees: one global mark, expanded into per-key marks by the next run
    INSERT INTO _private_dirty_keys (product_id, location_id, from_week, scope) VALUES (NULL, NULL, p_from_week, p_scope);
    PERFORM hint_work();
END;
$$;

ALTER FUNCTION t_schema_dump.mark_all_keys(p_from_week date, p_scope text) OWNER TO t_schema_dump_owner;

--
-- Name: mark_continuations(text[], text[], date[]); Type: FUNCTION; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE FUNCTION t_schema_dump.mark_continuations(p_product_ids text[], p_location_ids text[], p_from_weeks date[]) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 't_schema_dump', 'pg_temp'
    AS $$
BEGIN
    -- guarantees: a features mark per given key, from its given week
    INSERT INTO _private_dirty_keys (product_id, location_id, from_week, scope)
    SELECT p, l, w, 'features' FROM unnest(p_product_ids, p_location_ids, p_from_weeks) AS k(p, l, w);
END;
$$;

ALTER FUNCTION t_schema_dump.mark_continuations(p_product_ids text[], p_location_ids text[], p_from_weeks date[]) OWNER TO t_schema_dump_owner;

--
-- Name: mark_dirty_from_as_of_date(); Type: FUNCTION; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE FUNCTION t_schema_dump.mark_dirty_from_as_of_date() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 't_schema_dump', 'pg_temp'
    AS $$
BEGIN
    -- guarantees: the weeks between the old and the new end_week are queued
    PERFORM check_end_week();
    RETURN NULL;
END;
$$;

ALTER FUNCTION t_schema_dump.mark_dirty_from_as_of_date() OWNER TO t_schema_dump_owner;

--
-- Name: mark_dirty_from_lines(); Type: FUNCTION; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE FUNCTION t_schema_dump.mark_dirty_from_lines() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 't_schema_dump', 'pg_temp'
    AS $$
DECLARE
    v_date text := TG_ARGV[0];
    v_p    text[];
    v_l    text[];
    v_w    date[];
BEGIN
    -- guarantees: every key whose feature inputs changed is marked from the
    -- earliest week touched, on both sides of a line that moved
    IF TG_OP = 'TRUNCATE' THEN
        PERFORM mark_all_keys(NULL, 'features');
        RETURN NULL;
    END IF;
    EXECUTE format('SELECT array_agg(product_id), array_agg(location_id), array_agg(w)'
                   ' FROM (SELECT product_id, location_id, date_trunc(''week'', min(d))::date AS w'
                   '       FROM (%s) x(product_id, location_id, d) GROUP BY 1, 2) k',
                   changed_rows_query(TG_OP, string_to_array(TG_ARGV[1], ','), string_to_array(TG_ARGV[2], ','),
                                      ARRAY['product_id', 'location_id', v_date], 'deleted'))
        INTO v_p, v_l, v_w;
    IF v_p IS NOT NULL THEN
        PERFORM mark_keys(v_p, v_l, v_w, 'features');
    END IF;
    RETURN NULL;
END;
$$;

ALTER FUNCTION t_schema_dump.mark_dirty_from_lines() OWNER TO t_schema_dump_owner;

--
-- Name: mark_keys(text[], text[], date[], text); Type: FUNCTION; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE FUNCTION t_schema_dump.mark_keys(p_product_ids text[], p_location_ids text[], p_from_weeks date[], p_scope text) RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 't_schema_dump', 'pg_temp'
    AS $$
DECLARE
    v_p text[];
    v_l text[];
    v_w date[];
BEGIN
    -- guarantees: each given key is covered by an unclaimed mark; a hint when any was added.
    -- The keys to add are selected first and inserted from arrays: on Citus
    -- an INSERT ... SELECT joining unnest() with a tenant's table writes
    -- nothing (docs/scale-out.md), and the two steps cost the same here
    SELECT array_agg(c.p), array_agg(c.l), array_agg(c.w) INTO v_p, v_l, v_w
    FROM (SELECT k.p, k.l, CASE WHEN bool_or(k.w IS NULL) THEN NULL ELSE min(k.w) END AS w
          FROM unnest(p_product_ids, p_location_ids, p_from_weeks) AS k(p, l, w)
          WHERE k.p IS NOT NULL AND k.l IS NOT NULL
          GROUP BY k.p, k.l) c
    WHERE NOT EXISTS (
        SELECT 1 FROM _private_dirty_keys d
        WHERE d.product_id = c.p AND d.location_id = c.l
          AND (d.from_week IS NULL OR (c.w IS NOT NULL AND d.from_week <= c.w))
          AND (d.scope = 'features' OR p_scope = 'plan')
        FOR KEY SHARE SKIP LOCKED);
    IF v_p IS NULL THEN
        RETURN 0;
    END IF;
    INSERT INTO _private_dirty_keys (product_id, location_id, from_week, scope)
    SELECT k.p, k.l, k.w, p_scope FROM unnest(v_p, v_l, v_w) AS k(p, l, w);
    PERFORM hint_work();
    RETURN cardinality(v_p);
END;
$$;

ALTER FUNCTION t_schema_dump.mark_keys(p_product_ids text[], p_location_ids text[], p_from_weeks date[], p_scope text) OWNER TO t_schema_dump_owner;

--
-- Name: mark_plans(text[], text[]); Type: FUNCTION; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE FUNCTION t_schema_dump.mark_plans(p_product_ids text[], p_location_ids text[]) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 't_schema_dump', 'pg_temp'
    AS $$
BEGIN
    -- guarantees: every given key is queued with scope 'plan' (or already covered)
    IF cardinality(p_product_ids) > 0 THEN
        PERFORM mark_keys(p_product_ids, p_location_ids,
                          array_fill(NULL::date, ARRAY[cardinality(p_product_ids)]), 'plan');
    END IF;
END;
$$;

ALTER FUNCTION t_schema_dump.mark_plans(p_product_ids text[], p_location_ids text[]) OWNER TO t_schema_dump_owner;

--
-- Name: mark_plans_from_master_data(); Type: FUNCTION; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE FUNCTION t_schema_dump.mark_plans_from_master_data() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 't_schema_dump', 'pg_temp'
    AS $_$
DECLARE
    v_keys    text[] := string_to_array(TG_ARGV[1], ',');
    v_a       text[];
    v_b       text[];
    v_p       text[];
    v_l       text[];
BEGIN
    -- guarantees: each known key affected by a row whose plan-relevant columns changed is queued for its plan
    IF TG_OP = 'TRUNCATE' THEN
        PERFORM mark_all_keys(NULL, 'plan');
        RETURN NULL;
    END IF;
    -- the changed rows' keys first, from the transition tables alone; then
    -- the keys they affect: on Citus a trigger runs on the tenant's worker,
    -- which cannot join a transition table with a tenant's table
    EXECUTE format('SELECT array_agg(x.%1$I)%2$s FROM (SELECT DISTINCT * FROM (%3$s) x) x',
                   v_keys[1],
                   CASE WHEN cardinality(v_keys) > 1 THEN format(', array_agg(x.%I)', v_keys[2]) ELSE '' END,
                   changed_rows_query(TG_OP, v_keys, string_to_array(TG_ARGV[0], ','), v_keys))
        INTO v_a, v_b;
    IF v_a IS NULL THEN
        RETURN NULL;
    END IF;
    -- a supplier's rows affect the keys of its products (as effective_products reads erp_products.supplier_id)
    IF v_keys = ARRAY['supplier_id'] THEN
        SELECT array_agg(p.product_id) INTO v_a FROM erp_products p WHERE p.supplier_id = ANY (v_a) AND NOT p.deleted;
        v_keys := ARRAY['product_id'];
    END IF;
    -- the known keys of those products, locations or keys (v_b: the locations of keys, else null);
    -- both sides of an update, or several suppliers' products, name a key more than once
    EXECUTE format('SELECT array_agg(k.product_id), array_agg(k.location_id) FROM _private_feature_keys k'
                   ' JOIN (SELECT DISTINCT * FROM unnest($1, $2)) x(%s) USING (%s)',
                   (SELECT string_agg(format('%I', c), ', ') FROM unnest(v_keys || CASE WHEN cardinality(v_keys) = 1
                                                                    THEN ARRAY['unused'] END) AS u(c)),
                   (SELECT string_agg(format('%I', c), ', ') FROM unnest(v_keys) AS u(c)))
        INTO v_p, v_l USING v_a, v_b;
    PERFORM mark_plans(v_p, v_l);
    RETURN NULL;
END;
$_$;

ALTER FUNCTION t_schema_dump.mark_plans_from_master_data() OWNER TO t_schema_dump_owner;

--
-- Name: mark_plans_from_settings(); Type: FUNCTION; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE FUNCTION t_schema_dump.mark_plans_from_settings() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 't_schema_dump', 'pg_temp'
    AS $$
BEGIN
    -- guarantees: every key is queued for its plan when a plan-relevant setting changed
    IF EXISTS (SELECT 1 FROM old_rows o JOIN new_rows n USING (singleton)
               WHERE (o.default_service_level, o.default_lead_time_days)
                     IS DISTINCT FROM (n.default_service_level, n.default_lead_time_days)) THEN
        PERFORM mark_all_keys(NULL, 'plan');
    END IF;
    IF EXISTS (SELECT 1 FROM old_rows o JOIN new_rows n USING (singleton)
               WHERE o.as_of_date IS DISTINCT FROM n.as_of_date) THEN
        PERFORM hint_work();
    END IF;
    RETURN NULL;
END;
$$;

ALTER FUNCTION t_schema_dump.mark_plans_from_settings() OWNER TO t_schema_dump_owner;

--
-- Name: note_explicit_stamp(); Type: FUNCTION; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE FUNCTION t_schema_dump.note_explicit_stamp() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 't_schema_dump', 'pg_temp'
    AS $$
BEGIN
    -- fires only for rows of an UPDATE that names column TG_ARGV[0]
    PERFORM set_config('masterfile.explicit_' || TG_ARGV[0], 'on', true);
    RETURN NEW;
END;
$$;

ALTER FUNCTION t_schema_dump.note_explicit_stamp() OWNER TO t_schema_dump_owner;

--
-- Name: prepare_queue(); Type: FUNCTION; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE FUNCTION t_schema_dump.prepare_queue() RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 't_schema_dump', 'pg_temp'
    AS $$
BEGIN
    -- guarantees: at return, no global mark committed before the call is
    -- left unexpanded (once this transaction commits)
    PERFORM check_end_week();
    PERFORM wait_for_global_marks();
    PERFORM expand_global_marks();
END;
$$;

ALTER FUNCTION t_schema_dump.prepare_queue() OWNER TO t_schema_dump_owner;

--
-- Name: process_batch(integer); Type: FUNCTION; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE FUNCTION t_schema_dump.process_batch(p_batch_size integer, OUT keys_done bigint, OUT feature_rows bigint, OUT plan_rows bigint, OUT keys_failed bigint, OUT feature_seconds double precision, OUT plan_seconds double precision) RETURNS record
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 't_schema_dump', 'pg_temp'
    AS $$
DECLARE
    v_p       text[];
    v_l       text[];
    v_w       date[];
    v_feat    boolean[];
    i         integer;
    v_err     text;
    v_rows    bigint[];
    v_attempt integer;
    v_state   text;
    -- keys set aside for now (mf_retry) and the marks claimed: the session's
    -- temporary tables are read alone and reach the tenant's tables as
    -- arrays (on Citus those sit on a worker, and a statement may not join
    -- them with a table of the coordinator's session)
    v_rp      text[];
    v_rl      text[];
    v_ids     bigint[];
    v_cp      text[];
    v_cl      text[];
    v_cw      date[];
    v_cs      text[];
BEGIN
    -- guarantees: a claimed key's marks are deleted only with its results (or
    -- its entry in _private_failed_keys); marks added meanwhile are new rows and stay
    keys_done := 0; feature_rows := 0; plan_rows := 0; keys_failed := 0;
    feature_seconds := 0; plan_seconds := 0;
    -- for a caller that did not prepare_queue() (process_dirty has, and these
    -- then find nothing to do: a read of _private_pipeline_state, a probe of the
    -- queue's key index for a null key)
    PERFORM check_end_week();
    PERFORM expand_global_marks();

    -- claim: keys in queue order, each under a transaction-level advisory lock
    -- so two runners never compute one key at once; then the key's marks,
    -- FOR UPDATE SKIP LOCKED (a mark a writer is coalescing into waits for
    -- the next run). Exactly these marks are deleted at the end.
    PERFORM ensure_work_tables();
    DELETE FROM mf_claim;
    -- A key another runner finished while this statement ran is seen queued
    -- (its marks were live in the statement's snapshot) and its lock is
    -- free, but its marks are gone: it is claimed with no mark. A batch of
    -- only such keys would claim nothing and end this runner's run with keys
    -- left; so when nothing was claimed and keys are queued, ask again (a new
    -- statement sees the deletions).
    SELECT array_agg(r.product_id), array_agg(r.location_id) INTO v_rp, v_rl
    FROM pg_temp.mf_retry r WHERE r.retry_after > clock_timestamp();
    FOR v_attempt IN 1 .. 3 LOOP
        -- the candidates come from the oldest marks alone, read in mark
        -- order from the queue's primary key: a key whose first mark is
        -- among them has its first mark there, so the order is the queue's;
        -- grouping the whole queue instead cost a batch time and memory in
        -- proportion to the queue (bench/bench_claim.py: a batch of 1,000
        -- keys took 63-82 ms and 25 MB at 20,000 marks, 405-413 ms and 41 MB
        -- at 200,000; now 51-57 ms and 15 MB at either)
        WITH oldest AS (
            SELECT d.mark_id, d.product_id, d.location_id
            FROM _private_dirty_keys d
            WHERE d.product_id IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM unnest(v_rp, v_rl) AS r(p, l)
                              WHERE r.p = d.product_id AND r.l = d.location_id)
            ORDER BY d.mark_id
            LIMIT p_batch_size * 4
        ),
        candidates AS (
            SELECT product_id, location_id, min(mark_id) AS first_mark
            FROM oldest
            GROUP BY product_id, location_id
            ORDER BY first_mark
            LIMIT p_batch_size * 2
        ),
        claimed AS (
            SELECT product_id, location_id
            FROM candidates
            WHERE pg_try_advisory_xact_lock(hashtextextended('t_schema_dump' || '/' || product_id || '/' || location_id, 0))
            ORDER BY first_mark
            LIMIT p_batch_size
        )
        -- each claimed key's marks through the key's index: a join would be
        -- planned on statistics taken before the roll queued 20,000 marks, and
        -- once scanned the whole queue for every key (5 s a batch)
        SELECT array_agg(d.mark_id), array_agg(d.product_id), array_agg(d.location_id), array_agg(d.from_week),
               array_agg(d.scope)
        INTO v_ids, v_cp, v_cl, v_cw, v_cs
        FROM claimed c
        CROSS JOIN LATERAL (
            SELECT m.* FROM _private_dirty_keys m
            WHERE m.product_id = c.product_id AND m.location_id = c.location_id
            FOR UPDATE SKIP LOCKED
        ) d;
        EXIT WHEN v_ids IS NOT NULL OR NOT EXISTS (SELECT 1 FROM _private_dirty_keys WHERE product_id IS NOT NULL);
    END LOOP;
    INSERT INTO mf_claim (mark_id, product_id, location_id, from_week, scope)
    SELECT * FROM unnest(v_ids, v_cp, v_cl, v_cw, v_cs);

    SELECT array_agg(product_id), array_agg(location_id), array_agg(from_week), array_agg(features)
    INTO v_p, v_l, v_w, v_feat
    FROM (SELECT product_id, location_id,
                 CASE WHEN bool_or(from_week IS NULL AND scope = 'features') THEN NULL
                      ELSE min(from_week) FILTER (WHERE scope = 'features') END AS from_week,
                 bool_or(scope = 'features') AS features
          FROM mf_claim GROUP BY product_id, location_id) k;
    IF v_p IS NULL THEN
        RETURN;
    END IF;

    BEGIN
        v_rows := refresh_batch(v_p, v_l, v_w, v_feat);
        feature_rows := v_rows[1]; plan_rows := v_rows[2];
        feature_seconds := v_rows[3] / 1e6; plan_seconds := v_rows[4] / 1e6;
    EXCEPTION WHEN OTHERS THEN
        -- one bad key must not stop the others: redo the batch key by key
        FOR i IN 1 .. array_length(v_p, 1) LOOP
            BEGIN
                v_rows := refresh_batch(ARRAY[v_p[i]], ARRAY[v_l[i]], ARRAY[v_w[i]], ARRAY[v_feat[i]]);
                feature_rows := feature_rows + v_rows[1]; plan_rows := plan_rows + v_rows[2];
                feature_seconds := feature_seconds + v_rows[3] / 1e6;
                plan_seconds := plan_seconds + v_rows[4] / 1e6;
            EXCEPTION WHEN OTHERS THEN
                GET STACKED DIAGNOSTICS v_err = MESSAGE_TEXT, v_state = RETURNED_SQLSTATE;
                IF v_state IN ('40001', '40P01', '55P03', '57014') THEN
                    -- a passing failure (serialization, deadlock, lock or
                    -- statement timeout): the key keeps its marks, and is
                    -- claimed again after a backoff
                    INSERT INTO pg_temp.mf_retry (product_id, location_id, error, retry_after)
                    VALUES (v_p[i], v_l[i], v_err, clock_timestamp() + interval '10 seconds')
                    ON CONFLICT (product_id, location_id) DO UPDATE
                        SET error = excluded.error, retry_after = excluded.retry_after;
                    CONTINUE;
                END IF;
                INSERT INTO _private_failed_keys (product_id, location_id, from_week, scope, error)
                VALUES (v_p[i], v_l[i], v_w[i], CASE WHEN v_feat[i] THEN 'features' ELSE 'plan' END, v_err)
                ON CONFLICT (product_id, location_id) DO UPDATE
                    SET from_week = excluded.from_week, scope = excluded.scope, error = excluded.error,
                        failed_at = excluded.failed_at;
                keys_failed := keys_failed + 1;
            END;
        END LOOP;
    END;
    -- the keys done (not set aside meanwhile), and their claimed marks
    SELECT array_agg(r.product_id), array_agg(r.location_id) INTO v_rp, v_rl
    FROM pg_temp.mf_retry r WHERE r.retry_after > clock_timestamp();
    SELECT array_agg(c.mark_id) INTO v_ids
    FROM mf_claim c
    WHERE NOT EXISTS (SELECT 1 FROM unnest(v_rp, v_rl) AS r(p, l) WHERE r.p = c.product_id AND r.l = c.location_id);
    DELETE FROM _private_failed_keys f USING unnest(v_p, v_l) AS k(p, l)
    WHERE f.product_id = k.p AND f.location_id = k.l AND f.failed_at < transaction_timestamp()
      AND NOT EXISTS (SELECT 1 FROM unnest(v_rp, v_rl) AS r(p, l) WHERE r.p = k.p AND r.l = k.l);
    DELETE FROM _private_dirty_keys d WHERE d.mark_id = ANY (v_ids);
    keys_done := array_length(v_p, 1)
                 - (SELECT count(*) FROM pg_temp.mf_retry r JOIN unnest(v_p, v_l) AS k(p, l)
                    ON r.product_id = k.p AND r.location_id = k.l AND r.retry_after > clock_timestamp());
END;
$$;

ALTER FUNCTION t_schema_dump.process_batch(p_batch_size integer, OUT keys_done bigint, OUT feature_rows bigint, OUT plan_rows bigint, OUT keys_failed bigint, OUT feature_seconds double precision, OUT plan_seconds double precision) OWNER TO t_schema_dump_owner;

--
-- Name: process_dirty(integer, double precision, text); Type: PROCEDURE; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE PROCEDURE t_schema_dump.process_dirty(IN p_batch_size integer DEFAULT 500, IN p_max_seconds double precision DEFAULT 50, IN p_trigger text DEFAULT 'manual'::text)
    LANGUAGE plpgsql
    AS $$
BEGIN
    -- guarantees: batches of keys until the queue is empty or p_max_seconds
    -- have passed, each committed with exactly its claimed marks removed
    CALL masterfile.process_tenant('t_schema_dump', p_batch_size, p_max_seconds, p_trigger);
END;
$$;

ALTER PROCEDURE t_schema_dump.process_dirty(IN p_batch_size integer, IN p_max_seconds double precision, IN p_trigger text) OWNER TO t_schema_dump_owner;

--
-- Name: recommendation_has_decision(text, double precision, text, timestamp with time zone, text); Type: FUNCTION; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE FUNCTION t_schema_dump.recommendation_has_decision(p_decision text, p_approved_qty double precision, p_decided_by text, p_decided_at timestamp with time zone, p_note text) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path TO 'pg_catalog', 't_schema_dump', 'pg_temp'
    AS $$
    SELECT p_decision IS DISTINCT FROM 'pending' OR p_approved_qty IS NOT NULL OR p_decided_by IS NOT NULL
        OR p_decided_at IS NOT NULL OR p_note IS NOT NULL
$$;

ALTER FUNCTION t_schema_dump.recommendation_has_decision(p_decision text, p_approved_qty double precision, p_decided_by text, p_decided_at timestamp with time zone, p_note text) OWNER TO t_schema_dump_owner;

--
-- Name: record_conflicts_from_erp(); Type: FUNCTION; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE FUNCTION t_schema_dump.record_conflicts_from_erp() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 't_schema_dump', 'pg_temp'
    AS $_$
DECLARE
    v_entity  text := TG_ARGV[0];
    v_key     text := TG_ARGV[1];
    v_ui      text := TG_ARGV[2];
    v_fields  text[];
    v_trues   text[];
    v_facts   text;
    v_new     jsonb;
    v_old     jsonb;
    v_keys    text[];
    v_fields_out text[];
    v_erp     text[];
    v_ui_values text[];
    v_at      timestamptz[];
BEGIN
    -- guarantees: a conflicts row for each record this statement wrote and
    -- each fact whose ERP value newly disagrees with its non-null UI override
    SELECT array_agg(TG_ARGV[i] ORDER BY i), array_agg(TG_ARGV[i + 2] ORDER BY i),
           string_agg(format(
               CASE WHEN TG_ARGV[i + 2] = ''
                    THEN '($1[%1$s], n.%3$I::text, u.%2$I::text, n.%3$I <> u.%2$I, n.%3$I IS DISTINCT FROM o.%3$I)'
                    ELSE '($1[%1$s], n.%3$I::text, u.%2$I::text, u.%2$I <> (n.%3$I = $2[%1$s]),'
                         ' n.%3$I IS DISTINCT FROM o.%3$I)' END,
               (i - 3) / 3 + 1, TG_ARGV[i], TG_ARGV[i + 1]), ', ' ORDER BY i)
    INTO v_fields, v_trues, v_facts
    FROM generate_series(3, TG_NARGS - 1, 3) AS i;
    -- three steps, each a statement a Citus worker runs (the trigger runs on
    -- the tenant's worker there, docs/scale-out.md): the statement's rows out
    -- of the transition tables; the conflicts they raise, read against the
    -- tenant's tables; then the insert, from arrays
    EXECUTE 'SELECT jsonb_agg(to_jsonb(n)) FROM new_rows n' INTO v_new;
    IF TG_OP = 'UPDATE' THEN
        EXECUTE 'SELECT jsonb_agg(to_jsonb(o)) FROM old_rows o' INTO v_old;
    END IF;
    IF v_new IS NULL THEN
        RETURN NULL;
    END IF;
    EXECUTE format(
        'SELECT array_agg(n.%1$I), array_agg(f.field), array_agg(f.erp_value), array_agg(f.ui_value),'
        '       array_agg(n.updated_at)'
        ' FROM jsonb_populate_recordset(NULL::%5$I, $4) n'
        ' LEFT JOIN jsonb_populate_recordset(NULL::%5$I, $5) o ON o.%1$I = n.%1$I'
        ' JOIN %2$I u ON u.%1$I = n.%1$I'
        ' CROSS JOIN LATERAL (VALUES %4$s) f (field, erp_value, ui_value, disagrees, changed)'
        ' WHERE NOT n.deleted AND f.disagrees %3$s'
        '   AND (o.%1$I IS NULL OR o.deleted OR f.changed'
        '        OR NOT EXISTS (SELECT 1 FROM conflicts c'
        '                       WHERE c.entity = $3 AND c.entity_key = n.%1$I'
        '                         AND c.field = f.field AND c.detected_at >= u.updated_at))',
        v_key, v_ui,
        -- an UPDATE pairs each new row with its old one
        CASE WHEN TG_OP = 'UPDATE' THEN format('AND o.%I IS NOT NULL', v_key) ELSE '' END,
        v_facts, TG_TABLE_NAME)
        INTO v_keys, v_fields_out, v_erp, v_ui_values, v_at
        USING v_fields, v_trues, v_entity, v_new, coalesce(v_old, '[]'::jsonb);
    IF v_keys IS NOT NULL THEN
        INSERT INTO conflicts (entity, entity_key, field, erp_value, ui_value, erp_updated_at)
        SELECT v_entity, k, f, e, u, a FROM unnest(v_keys, v_fields_out, v_erp, v_ui_values, v_at) AS x(k, f, e, u, a)
        ON CONFLICT ON CONSTRAINT conflicts_one_per_erp_change DO NOTHING;
    END IF;
    RETURN NULL;
END;
$_$;

ALTER FUNCTION t_schema_dump.record_conflicts_from_erp() OWNER TO t_schema_dump_owner;

--
-- Name: refresh_batch(text[], text[], date[], boolean[]); Type: FUNCTION; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE FUNCTION t_schema_dump.refresh_batch(p_product_ids text[], p_location_ids text[], p_from_weeks date[], p_features boolean[]) RETURNS bigint[]
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 't_schema_dump', 'pg_temp'
    AS $$
DECLARE
    v_fp text[];
    v_fl text[];
    v_fw date[];
    v_features bigint := 0;
    v_plans    bigint;
    v_t0       timestamptz := clock_timestamp();
    v_t1       timestamptz;
BEGIN
    -- guarantees: features of keys marked for features, then forecasts and
    -- recommendations of every given key, in the caller's transaction;
    -- returns {feature rows written, plan rows written, microseconds spent
    -- on features, on plans}
    SELECT array_agg(p), array_agg(l), array_agg(w) INTO v_fp, v_fl, v_fw
    FROM unnest(p_product_ids, p_location_ids, p_from_weeks, p_features) AS k(p, l, w, f)
    WHERE f;
    IF v_fp IS NOT NULL THEN
        v_features := refresh_features(v_fp, v_fl, v_fw);
    END IF;
    v_t1 := clock_timestamp();
    v_plans := refresh_plans(p_product_ids, p_location_ids);
    RETURN ARRAY[v_features, v_plans,
                 (extract(epoch FROM v_t1 - v_t0) * 1e6)::bigint,
                 (extract(epoch FROM clock_timestamp() - v_t1) * 1e6)::bigint];
END;
$$;

ALTER FUNCTION t_schema_dump.refresh_batch(p_product_ids text[], p_location_ids text[], p_from_weeks date[], p_features boolean[]) OWNER TO t_schema_dump_owner;

--
-- Name: refresh_features(text[], text[], date[]); Type: FUNCTION; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE FUNCTION t_schema_dump.refresh_features(p_product_ids text[], p_location_ids text[], p_from_weeks date[]) RETURNS bigint
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 't_schema_dump', 'pg_temp'
    SET jit TO 'off'
    SET work_mem TO '64MB'
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

ALTER FUNCTION t_schema_dump.refresh_features(p_product_ids text[], p_location_ids text[], p_from_weeks date[]) OWNER TO t_schema_dump_owner;

--
-- Name: refresh_plans(text[], text[]); Type: FUNCTION; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE FUNCTION t_schema_dump.refresh_plans(p_product_ids text[], p_location_ids text[]) RETURNS bigint
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 't_schema_dump', 'pg_temp'
    SET jit TO 'off'
    AS $$
DECLARE
    c_demand_weeks constant integer := masterfile.forecast_weeks();
    v_end     date := end_week();
    -- the run's time, as a value: Citus refuses now() in an UPDATE's SET on a tenant's table
    v_now     timestamptz := now();
    v_runner  integer := masterfile.work_runner();
    v_written bigint := 0;
    v_n       bigint;
    v_out     record;
    v_p       text[];
    v_l       text[];
BEGIN
    -- guarantees: for every given key, the pipeline's columns of its
    -- recommendation (and so its forecasts) equal a computation from scratch; a row is
    -- written only where a value changed (computed_at moves with it,
    -- qty_changed_at only with recommended_qty); the UI's columns are never
    -- written and a row holding a UI decision is never deleted
    -- the batch is staged in _private_plan_batch (migration t0019), the
    -- transaction's rows keyed by masterfile.work_runner(), deleted at the end: nothing
    -- is left at commit, and an abort takes its rows back

    -- one row per key with its master-file row at end_week and its
    -- attributes as the master file has them (key_attributes, 065: the
    -- effective values with the contract's defaults completed). A key with
    -- no row at end_week has no ord and needs no attribute. Each lookup is a
    -- LATERAL subquery kept apart by OFFSET 0, so it runs per key on the
    -- tables' keys: the cost follows the batch, not the tenant.
    INSERT INTO _private_plan_batch (runner, product_id, location_id, ord, sigma, est_on_hand, on_order, lead_time_days,
                         review_period_weeks, service_level, min_order_qty, order_multiple, discontinued,
                         assorted, location_enabled)
    SELECT v_runner, k.p, k.l,
           CASE WHEN f.week_start IS NOT NULL
                THEN row_number() OVER (PARTITION BY f.week_start IS NOT NULL ORDER BY k.p, k.l) END,
           f.sold_std_13, f.est_on_hand, f.on_order,
           a.lead_time_days, a.review_period_weeks, a.service_level, a.min_order_qty, a.order_multiple,
           a.discontinued, a.assorted, a.location_enabled
    FROM (SELECT DISTINCT k.p, k.l FROM unnest(p_product_ids, p_location_ids) AS k(p, l)
          WHERE k.p IS NOT NULL AND k.l IS NOT NULL) k
    LEFT JOIN LATERAL (SELECT f.week_start, f.sold_std_13, f.cum_units_received - f.cum_units_sold + f.cum_units_returned AS est_on_hand,
                              greatest(0, f.cum_units_ordered - f.cum_units_received) AS on_order
                       FROM features f
                       WHERE f.product_id = k.p AND f.location_id = k.l AND f.week_start = v_end
                       OFFSET 0) f ON true
    LEFT JOIN LATERAL (SELECT a.lead_time_days, a.review_period_weeks, a.service_level, a.min_order_qty,
                              a.order_multiple, a.discontinued, a.assorted, a.location_enabled
                       FROM key_attributes a
                       WHERE f.week_start IS NOT NULL AND a.product_id = k.p AND a.location_id = k.l
                       OFFSET 0) a ON true;

    -- one kernel call for the batch: each key's units_sold over the last
    -- min(n, c_demand_weeks) weeks ending at end_week, keys in ord order, as
    -- one weekly series after another (docs/weekly-series.md): the key's
    -- sold tail when it ends at end_week (_private_feature_keys, migration t0010),
    -- else read from its stored rows
    SELECT b.product_ids, b.location_ids, b.review_period_weeks AS batch_review_period_weeks,
           b.service_level AS batch_service_level, r.* INTO v_out
    FROM (SELECT array_agg(a.product_id ORDER BY a.ord) AS product_ids,
                 array_agg(a.location_id ORDER BY a.ord) AS location_ids,
                 string_agg(coalesce(t.sold_tail, y.weeks), ''::bytea ORDER BY a.ord) AS y_flat,
                 array_agg(coalesce(octet_length(t.sold_tail) / 8, y.n) ORDER BY a.ord) AS lengths,
                 array_agg(a.sigma ORDER BY a.ord) AS sigma,
                 array_agg(a.est_on_hand ORDER BY a.ord) AS est_on_hand,
                 array_agg(a.on_order ORDER BY a.ord) AS on_order,
                 array_agg(a.lead_time_days ORDER BY a.ord) AS lead_time_days,
                 array_agg(a.review_period_weeks ORDER BY a.ord) AS review_period_weeks,
                 array_agg(a.service_level ORDER BY a.ord) AS service_level,
                 array_agg(a.min_order_qty ORDER BY a.ord) AS min_order_qty,
                 array_agg(a.order_multiple ORDER BY a.ord) AS order_multiple,
                 array_agg(a.discontinued ORDER BY a.ord) AS discontinued,
                 array_agg(a.assorted ORDER BY a.ord) AS assorted,
                 array_agg(a.location_enabled ORDER BY a.ord) AS location_enabled
          FROM _private_plan_batch a
          LEFT JOIN LATERAL (SELECT fk.sold_tail FROM _private_feature_keys fk
                             WHERE fk.product_id = a.product_id AND fk.location_id = a.location_id
                               AND fk.tail_week = v_end
                             OFFSET 0) t ON true
          CROSS JOIN LATERAL (
              -- a null units_sold would shift the weeks: float8send(NULL) adds
              -- nothing while count(*) counts it, and the kernel refuses the mismatch.
              -- The weeks come in order from a sorted subquery (it is not
              -- flattened, and the key index gives its order) rather than by
              -- ORDER BY in the aggregate, which sorts each key's weeks again;
              -- the read is index-only (the key index carries units_sold)
              SELECT count(*)::integer AS n, coalesce(string_agg(float8send(w.units_sold), ''::bytea), ''::bytea)
                         AS weeks
              FROM (SELECT f.units_sold FROM features f
                    WHERE t.sold_tail IS NULL
                      AND f.product_id = a.product_id AND f.location_id = a.location_id
                      AND f.week_start > v_end - 7 * c_demand_weeks AND f.week_start <= v_end
                    ORDER BY f.week_start) w) y
          WHERE a.runner = v_runner AND a.ord IS NOT NULL
          HAVING count(*) > 0) b
    CROSS JOIN LATERAL masterfile.forecast_batch(
        b.y_flat, b.lengths, b.sigma, b.est_on_hand, b.on_order, b.lead_time_days, b.review_period_weeks,
        b.service_level, b.min_order_qty, b.order_multiple, b.discontinued, b.assorted, b.location_enabled) r;

    -- recommendations of keys with features: only the pipeline's columns,
    -- counted by what the upsert returns: on Citus an INSERT whose rows come
    -- from no table of the tenant is pulled to the coordinator, and its
    -- ROW_COUNT is the rows offered, written or not
    WITH written AS (
    INSERT INTO recommendations AS r (product_id, location_id, as_of_week, demand_class, method,
                                      forecast_per_week, sigma, lead_time_weeks, review_period_weeks,
                                      service_level, z, safety_stock, order_up_to, inventory_position, raw_qty,
                                      recommended_qty, reason, qty_changed_at, computed_at)
    SELECT o.product_id, o.location_id, v_end, o.demand_class, o.method, o.forecast_per_week, o.sigma,
           o.lead_time_weeks, o.review_period_weeks::integer, o.service_level, o.z, o.safety_stock, o.order_up_to,
           o.inventory_position, o.raw_qty, o.recommended_qty, o.reason, v_now, v_now
    -- the keys and the kernel's results, element by element in ord order,
    -- joined to nothing: a join of the batch with the results on ord was
    -- planned on the batch table's statistics, which autovacuum mostly
    -- takes with the table empty (one row expected), and became a nested
    -- loop that scanned every result for every key: 1,000,000 comparisons
    -- a batch of 1,000, 68-80 s of a 10x roll (docs/benchmarks.md)
    FROM unnest(v_out.product_ids, v_out.location_ids, v_out.batch_review_period_weeks, v_out.batch_service_level,
                v_out.demand_class, v_out.method, v_out.forecast_per_week, v_out.sigma, v_out.lead_time_weeks,
                v_out.z, v_out.safety_stock, v_out.order_up_to, v_out.inventory_position, v_out.raw_qty,
                v_out.recommended_qty, v_out.reason)
        AS o(product_id, location_id, review_period_weeks, service_level, demand_class, method, forecast_per_week,
             sigma, lead_time_weeks, z, safety_stock, order_up_to, inventory_position, raw_qty, recommended_qty,
             reason)
    ON CONFLICT (product_id, location_id) DO UPDATE
    SET as_of_week = excluded.as_of_week, demand_class = excluded.demand_class, method = excluded.method,
        forecast_per_week = excluded.forecast_per_week, sigma = excluded.sigma,
        lead_time_weeks = excluded.lead_time_weeks, review_period_weeks = excluded.review_period_weeks,
        service_level = excluded.service_level, z = excluded.z, safety_stock = excluded.safety_stock,
        order_up_to = excluded.order_up_to, inventory_position = excluded.inventory_position,
        raw_qty = excluded.raw_qty, recommended_qty = excluded.recommended_qty, reason = excluded.reason,
        qty_changed_at = CASE WHEN r.recommended_qty IS DISTINCT FROM excluded.recommended_qty
                              THEN excluded.qty_changed_at ELSE r.qty_changed_at END,
        computed_at = excluded.computed_at
    WHERE (r.as_of_week, r.demand_class, r.method, r.forecast_per_week, r.sigma, r.lead_time_weeks,
           r.review_period_weeks, r.service_level, r.z, r.safety_stock, r.order_up_to, r.inventory_position,
           r.raw_qty, r.recommended_qty, r.reason)
          IS DISTINCT FROM
          (excluded.as_of_week, excluded.demand_class, excluded.method, excluded.forecast_per_week,
           excluded.sigma, excluded.lead_time_weeks, excluded.review_period_weeks, excluded.service_level,
           excluded.z, excluded.safety_stock, excluded.order_up_to, excluded.inventory_position,
           excluded.raw_qty, excluded.recommended_qty, excluded.reason)
    RETURNING 1)
    SELECT count(*) INTO v_n FROM written;
    v_written := v_written + v_n;

    -- keys without features at end_week: a row the UI has not touched goes;
    -- a decided one stays, inactive (read first, then deleted: on Citus a
    -- function called in a statement on the batch would run on the worker)
    SELECT array_agg(p.product_id), array_agg(p.location_id) INTO v_p, v_l
    FROM _private_plan_batch p WHERE p.runner = v_runner AND p.ord IS NULL;
    IF v_p IS NOT NULL THEN
        v_written := v_written + delete_undecided_recommendations(v_p, v_l);
    END IF;

    UPDATE recommendations r
    SET recommended_qty = 0, reason = 'inactive',
        qty_changed_at = CASE WHEN r.recommended_qty IS DISTINCT FROM 0::double precision
                              THEN v_now ELSE r.qty_changed_at END,
        computed_at = v_now
    FROM _private_plan_batch p
    WHERE p.runner = v_runner AND r.product_id = p.product_id AND r.location_id = p.location_id AND p.ord IS NULL
      AND (r.recommended_qty, r.reason) IS DISTINCT FROM (0::double precision, 'inactive');
    GET DIAGNOSTICS v_n = ROW_COUNT;
    v_written := v_written + v_n;

    DELETE FROM _private_plan_batch WHERE runner = v_runner;
    RETURN v_written;
END;
$$;

ALTER FUNCTION t_schema_dump.refresh_plans(p_product_ids text[], p_location_ids text[]) OWNER TO t_schema_dump_owner;

--
-- Name: refuse_deleting_decided_recommendation(); Type: FUNCTION; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE FUNCTION t_schema_dump.refuse_deleting_decided_recommendation() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 't_schema_dump', 'pg_temp'
    AS $$
BEGIN
    -- fires only for rows holding a UI decision (see the trigger's WHEN)
    RAISE EXCEPTION 'recommendation (%, %) holds a UI decision and cannot be deleted',
        OLD.product_id, OLD.location_id
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$;

ALTER FUNCTION t_schema_dump.refuse_deleting_decided_recommendation() OWNER TO t_schema_dump_owner;

--
-- Name: refuse_far_as_of_date(); Type: FUNCTION; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE FUNCTION t_schema_dump.refuse_far_as_of_date() RETURNS trigger
    LANGUAGE plpgsql STABLE PARALLEL SAFE
    SET search_path TO 'pg_catalog', 't_schema_dump', 'pg_temp'
    AS $$
BEGIN
    -- guarantees: no settings row is written with as_of_date beyond today + 2 years
    IF NEW.as_of_date > current_date + interval '2 years' THEN
        RAISE EXCEPTION 'as_of_date % is more than two years ahead of today', NEW.as_of_date
            USING ERRCODE = 'check_violation', CONSTRAINT = 'settings_as_of_date_range';
    END IF;
    RETURN NEW;
END;
$$;

ALTER FUNCTION t_schema_dump.refuse_far_as_of_date() OWNER TO t_schema_dump_owner;

--
-- Name: release_load_lock(); Type: FUNCTION; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE FUNCTION t_schema_dump.release_load_lock() RETURNS boolean
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 't_schema_dump', 'pg_temp'
    AS $$
    SELECT pg_advisory_unlock(masterfile.lock_key('t_schema_dump', 'load'))
$$;

ALTER FUNCTION t_schema_dump.release_load_lock() OWNER TO t_schema_dump_owner;

--
-- Name: run_scheduled(); Type: PROCEDURE; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE PROCEDURE t_schema_dump.run_scheduled()
    LANGUAGE plpgsql
    AS $$
BEGIN
    -- at most 50 s of work, as one turn of the scheduler takes
    CALL masterfile.process_tenant('t_schema_dump', 500, 50, 'cron');
END;
$$;

ALTER PROCEDURE t_schema_dump.run_scheduled() OWNER TO t_schema_dump_owner;

--
-- Name: settle_work_hints(bigint, boolean); Type: FUNCTION; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE FUNCTION t_schema_dump.settle_work_hints(p_max_hint bigint, p_stalled boolean) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 't_schema_dump', 'pg_temp'
    AS $$
DECLARE
    v_queued boolean := EXISTS (SELECT 1 FROM _private_dirty_keys);
BEGIN
    -- guarantees: the tenant's hints up to p_max_hint are gone, and one
    -- new hint stands for what is still queued
    DELETE FROM masterfile.work_hints WHERE schema_name = 't_schema_dump' AND hint_id <= p_max_hint;
    IF v_queued THEN
        INSERT INTO masterfile.work_hints (schema_name, not_before)
        VALUES ('t_schema_dump', now() + CASE WHEN p_stalled THEN interval '10 seconds' ELSE interval '0' END);
    END IF;
END;
$$;

ALTER FUNCTION t_schema_dump.settle_work_hints(p_max_hint bigint, p_stalled boolean) OWNER TO t_schema_dump_owner;

--
-- Name: stage_feature_batch(text[], text[], date[], date); Type: FUNCTION; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE FUNCTION t_schema_dump.stage_feature_batch(p_product_ids text[], p_location_ids text[], p_from_weeks date[], p_end date) RETURNS bigint
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 't_schema_dump', 'pg_temp'
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
               f.units_sold,
               f.units_returned,
               f.revenue,
               f.units_received,
               f.units_ordered,
               f.units_invoiced,
               f.invoiced_amount,
               f.sold_lag_1,
               f.sold_lag_2,
               f.sold_lag_3,
               f.sold_lag_4,
               f.sold_lag_5,
               f.sold_lag_6,
               f.sold_lag_7,
               f.sold_lag_8,
               f.sold_lag_9,
               f.sold_lag_10,
               f.sold_lag_11,
               f.sold_lag_12,
               f.sold_lag_13,
               f.sold_lag_14,
               f.ewm_units_sold_s2,
               f.ewm_units_sold_s4,
               f.ewm_units_sold_s8,
               f.ewm_units_sold_s13,
               f.ewm_revenue_s2,
               f.ewm_revenue_s4,
               f.ewm_revenue_s8,
               f.ewm_revenue_s13,
               f.ewm_units_received_s2,
               f.ewm_units_received_s4,
               f.ewm_units_received_s8,
               f.ewm_units_received_s13,
               f.ewm_units_returned_s2,
               f.ewm_units_returned_s4,
               f.ewm_units_returned_s8,
               f.ewm_units_returned_s13,
               f.sold_mean_4,
               f.sold_mean_8,
               f.sold_mean_13,
               f.sold_mean_26,
               f.sold_mean_52,
               f.sold_std_4,
               f.sold_std_8,
               f.sold_std_13,
               f.sold_std_26,
               f.sold_std_52,
               f.sold_max_13,
               f.sold_max_52,
               f.sold_zero_share_13,
               f.revenue_mean_13,
               f.sold_slope_4,
               f.sold_slope_8,
               f.sold_slope_13,
               f.sold_slope_26,
               f.cum_units_sold,
               f.cum_units_returned,
               f.cum_revenue,
               f.cum_units_received,
               f.cum_units_ordered,
               f.cum_units_invoiced,
               f.ytd_units_sold,
               f.ytd_revenue,
               f.weeks_since_first_sale,
               f.weeks_since_last_sale,
               f.last_invoice_unit_cost
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

ALTER FUNCTION t_schema_dump.stage_feature_batch(p_product_ids text[], p_location_ids text[], p_from_weeks date[], p_end date) OWNER TO t_schema_dump_owner;

--
-- Name: stamp_ui_update(); Type: FUNCTION; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE FUNCTION t_schema_dump.stamp_ui_update() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 't_schema_dump', 'pg_temp'
    AS $$
DECLARE
    v_at_named boolean := coalesce(current_setting('masterfile.explicit_updated_at', true), '') = 'on';
    v_by_named boolean := coalesce(current_setting('masterfile.explicit_updated_by', true), '') = 'on';
BEGIN
    -- guarantees: updated_at = now() and updated_by = current_user unless the
    -- UPDATE named them; the notes are cleared for the next row
    IF NOT v_at_named THEN
        NEW.updated_at := now();
    END IF;
    IF NOT v_by_named THEN
        NEW.updated_by := current_user;
    END IF;
    IF v_at_named OR v_by_named THEN
        PERFORM set_config('masterfile.explicit_updated_at', '', true),
                set_config('masterfile.explicit_updated_by', '', true);
    END IF;
    RETURN NEW;
END;
$$;

ALTER FUNCTION t_schema_dump.stamp_ui_update() OWNER TO t_schema_dump_owner;

--
-- Name: store_feature_tails(date, text[], text[], date[], integer[], bytea[], bytea[]); Type: FUNCTION; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE FUNCTION t_schema_dump.store_feature_tails(p_end date, p_new_p text[], p_new_l text[], p_new_lo date[], p_new_n integer[], p_new_sold bytea[], p_new_revenue bytea[]) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 't_schema_dump', 'pg_temp'
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

ALTER FUNCTION t_schema_dump.store_feature_tails(p_end date, p_new_p text[], p_new_l text[], p_new_lo date[], p_new_n integer[], p_new_sold bytea[], p_new_revenue bytea[]) OWNER TO t_schema_dump_owner;

--
-- Name: try_load_lock(); Type: FUNCTION; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE FUNCTION t_schema_dump.try_load_lock() RETURNS boolean
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 't_schema_dump', 'pg_temp'
    AS $$
    SELECT pg_try_advisory_lock(masterfile.lock_key('t_schema_dump', 'load'))
$$;

ALTER FUNCTION t_schema_dump.try_load_lock() OWNER TO t_schema_dump_owner;

--
-- Name: wait_for_global_marks(); Type: FUNCTION; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE FUNCTION t_schema_dump.wait_for_global_marks() RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 't_schema_dump', 'pg_temp'
    SET enable_seqscan TO 'off'
    AS $$
BEGIN
    -- guarantees: at return, no global mark committed before the call is
    -- locked by another transaction
    PERFORM 1 FROM _private_dirty_keys WHERE product_id IS NULL FOR UPDATE;
END;
$$;

ALTER FUNCTION t_schema_dump.wait_for_global_marks() OWNER TO t_schema_dump_owner;

--
-- Name: write_feature_rows(); Type: FUNCTION; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE FUNCTION t_schema_dump.write_feature_rows(OUT rows_written bigint, OUT new_p text[], OUT new_l text[], OUT new_lo date[], OUT new_n integer[], OUT new_sold bytea[], OUT new_revenue bytea[]) RETURNS record
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 't_schema_dump', 'pg_temp'
    AS $_$
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
        ARRAY['fact', 'fact', 'fact', 'fact', 'fact', 'fact', 'fact', 'lag', 'lag', 'lag', 'lag', 'lag', 'lag', 'lag', 'lag', 'lag', 'lag', 'lag', 'lag', 'lag', 'lag', 'ewm', 'ewm', 'ewm', 'ewm', 'ewm', 'ewm', 'ewm', 'ewm', 'ewm', 'ewm', 'ewm', 'ewm', 'ewm', 'ewm', 'ewm', 'ewm', 'mean', 'mean', 'mean', 'mean', 'mean', 'std', 'std', 'std', 'std', 'std', 'max', 'max', 'zero_share', 'mean', 'slope', 'slope', 'slope', 'slope', 'cumulative', 'cumulative', 'cumulative', 'cumulative', 'cumulative', 'cumulative', 'year_to_date', 'year_to_date', 'weeks_since_first', 'weeks_since_last', 'last_unit_cost'],
        ARRAY['units_sold', 'units_returned', 'revenue', 'units_received', 'units_ordered', 'units_invoiced', 'invoiced_amount', 'units_sold', 'units_sold', 'units_sold', 'units_sold', 'units_sold', 'units_sold', 'units_sold', 'units_sold', 'units_sold', 'units_sold', 'units_sold', 'units_sold', 'units_sold', 'units_sold', 'units_sold', 'units_sold', 'units_sold', 'units_sold', 'revenue', 'revenue', 'revenue', 'revenue', 'units_received', 'units_received', 'units_received', 'units_received', 'units_returned', 'units_returned', 'units_returned', 'units_returned', 'units_sold', 'units_sold', 'units_sold', 'units_sold', 'units_sold', 'units_sold', 'units_sold', 'units_sold', 'units_sold', 'units_sold', 'units_sold', 'units_sold', 'units_sold', 'revenue', 'units_sold', 'units_sold', 'units_sold', 'units_sold', 'units_sold', 'units_returned', 'revenue', 'units_received', 'units_ordered', 'units_invoiced', 'units_sold', 'revenue', 'units_sold', 'units_sold', NULL]::text[],
        ARRAY[NULL, NULL, NULL, NULL, NULL, NULL, NULL, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 2, 4, 8, 13, 2, 4, 8, 13, 2, 4, 8, 13, 2, 4, 8, 13, 4, 8, 13, 26, 52, 4, 8, 13, 26, 52, 13, 52, 13, 13, 4, 8, 13, 26, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL]::integer[],
        t.new_first, (t.start_week - t.new_first) / 7, (t.stop_week - t.new_first) / 7, s.i,
        s.sold, s.returned, s.revenue, s.received, s.ordered, s.invoiced, s.invoiced_amount,
        s.unit_cost, s.has_cost, t.seed, t.prior_sold, t.prior_revenue)
        AS k(week_start date, week_index integer,
             units_sold double precision,
             units_returned double precision,
             revenue double precision,
             units_received double precision,
             units_ordered double precision,
             units_invoiced double precision,
             invoiced_amount double precision,
             sold_lag_1 double precision,
             sold_lag_2 double precision,
             sold_lag_3 double precision,
             sold_lag_4 double precision,
             sold_lag_5 double precision,
             sold_lag_6 double precision,
             sold_lag_7 double precision,
             sold_lag_8 double precision,
             sold_lag_9 double precision,
             sold_lag_10 double precision,
             sold_lag_11 double precision,
             sold_lag_12 double precision,
             sold_lag_13 double precision,
             sold_lag_14 double precision,
             ewm_units_sold_s2 double precision,
             ewm_units_sold_s4 double precision,
             ewm_units_sold_s8 double precision,
             ewm_units_sold_s13 double precision,
             ewm_revenue_s2 double precision,
             ewm_revenue_s4 double precision,
             ewm_revenue_s8 double precision,
             ewm_revenue_s13 double precision,
             ewm_units_received_s2 double precision,
             ewm_units_received_s4 double precision,
             ewm_units_received_s8 double precision,
             ewm_units_received_s13 double precision,
             ewm_units_returned_s2 double precision,
             ewm_units_returned_s4 double precision,
             ewm_units_returned_s8 double precision,
             ewm_units_returned_s13 double precision,
             sold_mean_4 double precision,
             sold_mean_8 double precision,
             sold_mean_13 double precision,
             sold_mean_26 double precision,
             sold_mean_52 double precision,
             sold_std_4 double precision,
             sold_std_8 double precision,
             sold_std_13 double precision,
             sold_std_26 double precision,
             sold_std_52 double precision,
             sold_max_13 double precision,
             sold_max_52 double precision,
             sold_zero_share_13 double precision,
             revenue_mean_13 double precision,
             sold_slope_4 double precision,
             sold_slope_8 double precision,
             sold_slope_13 double precision,
             sold_slope_26 double precision,
             cum_units_sold double precision,
             cum_units_returned double precision,
             cum_revenue double precision,
             cum_units_received double precision,
             cum_units_ordered double precision,
             cum_units_invoiced double precision,
             ytd_units_sold double precision,
             ytd_revenue double precision,
             weeks_since_first_sale integer,
             weeks_since_last_sale integer,
             last_invoice_unit_cost double precision
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
            || 'units_sold, units_returned, revenue, units_received, units_ordered, units_invoiced, invoiced_amount, sold_lag_1, sold_lag_2, sold_lag_3, sold_lag_4, sold_lag_5, sold_lag_6, sold_lag_7, sold_lag_8, sold_lag_9, sold_lag_10, sold_lag_11, sold_lag_12, sold_lag_13, sold_lag_14, ewm_units_sold_s2, ewm_units_sold_s4, ewm_units_sold_s8, ewm_units_sold_s13, ewm_revenue_s2, ewm_revenue_s4, ewm_revenue_s8, ewm_revenue_s13, ewm_units_received_s2, ewm_units_received_s4, ewm_units_received_s8, ewm_units_received_s13, ewm_units_returned_s2, ewm_units_returned_s4, ewm_units_returned_s8, ewm_units_returned_s13, sold_mean_4, sold_mean_8, sold_mean_13, sold_mean_26, sold_mean_52, sold_std_4, sold_std_8, sold_std_13, sold_std_26, sold_std_52, sold_max_13, sold_max_52, sold_zero_share_13, revenue_mean_13, sold_slope_4, sold_slope_8, sold_slope_13, sold_slope_26, cum_units_sold, cum_units_returned, cum_revenue, cum_units_received, cum_units_ordered, cum_units_invoiced, ytd_units_sold, ytd_revenue, weeks_since_first_sale, weeks_since_last_sale, last_invoice_unit_cost) ' || v_rows
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
            || 'units_sold, units_returned, revenue, units_received, units_ordered, units_invoiced, invoiced_amount, sold_lag_1, sold_lag_2, sold_lag_3, sold_lag_4, sold_lag_5, sold_lag_6, sold_lag_7, sold_lag_8, sold_lag_9, sold_lag_10, sold_lag_11, sold_lag_12, sold_lag_13, sold_lag_14, ewm_units_sold_s2, ewm_units_sold_s4, ewm_units_sold_s8, ewm_units_sold_s13, ewm_revenue_s2, ewm_revenue_s4, ewm_revenue_s8, ewm_revenue_s13, ewm_units_received_s2, ewm_units_received_s4, ewm_units_received_s8, ewm_units_received_s13, ewm_units_returned_s2, ewm_units_returned_s4, ewm_units_returned_s8, ewm_units_returned_s13, sold_mean_4, sold_mean_8, sold_mean_13, sold_mean_26, sold_mean_52, sold_std_4, sold_std_8, sold_std_13, sold_std_26, sold_std_52, sold_max_13, sold_max_52, sold_zero_share_13, revenue_mean_13, sold_slope_4, sold_slope_8, sold_slope_13, sold_slope_26, cum_units_sold, cum_units_returned, cum_revenue, cum_units_received, cum_units_ordered, cum_units_invoiced, ytd_units_sold, ytd_revenue, weeks_since_first_sale, weeks_since_last_sale, last_invoice_unit_cost) ' || v_rows || $upsert$
    ON CONFLICT (product_id, location_id, week_start) DO UPDATE SET (
        week_index,
        units_sold,
        units_returned,
        revenue,
        units_received,
        units_ordered,
        units_invoiced,
        invoiced_amount,
        sold_lag_1,
        sold_lag_2,
        sold_lag_3,
        sold_lag_4,
        sold_lag_5,
        sold_lag_6,
        sold_lag_7,
        sold_lag_8,
        sold_lag_9,
        sold_lag_10,
        sold_lag_11,
        sold_lag_12,
        sold_lag_13,
        sold_lag_14,
        ewm_units_sold_s2,
        ewm_units_sold_s4,
        ewm_units_sold_s8,
        ewm_units_sold_s13,
        ewm_revenue_s2,
        ewm_revenue_s4,
        ewm_revenue_s8,
        ewm_revenue_s13,
        ewm_units_received_s2,
        ewm_units_received_s4,
        ewm_units_received_s8,
        ewm_units_received_s13,
        ewm_units_returned_s2,
        ewm_units_returned_s4,
        ewm_units_returned_s8,
        ewm_units_returned_s13,
        sold_mean_4,
        sold_mean_8,
        sold_mean_13,
        sold_mean_26,
        sold_mean_52,
        sold_std_4,
        sold_std_8,
        sold_std_13,
        sold_std_26,
        sold_std_52,
        sold_max_13,
        sold_max_52,
        sold_zero_share_13,
        revenue_mean_13,
        sold_slope_4,
        sold_slope_8,
        sold_slope_13,
        sold_slope_26,
        cum_units_sold,
        cum_units_returned,
        cum_revenue,
        cum_units_received,
        cum_units_ordered,
        cum_units_invoiced,
        ytd_units_sold,
        ytd_revenue,
        weeks_since_first_sale,
        weeks_since_last_sale,
        last_invoice_unit_cost
    ) = ROW(
        excluded.week_index,
        excluded.units_sold,
        excluded.units_returned,
        excluded.revenue,
        excluded.units_received,
        excluded.units_ordered,
        excluded.units_invoiced,
        excluded.invoiced_amount,
        excluded.sold_lag_1,
        excluded.sold_lag_2,
        excluded.sold_lag_3,
        excluded.sold_lag_4,
        excluded.sold_lag_5,
        excluded.sold_lag_6,
        excluded.sold_lag_7,
        excluded.sold_lag_8,
        excluded.sold_lag_9,
        excluded.sold_lag_10,
        excluded.sold_lag_11,
        excluded.sold_lag_12,
        excluded.sold_lag_13,
        excluded.sold_lag_14,
        excluded.ewm_units_sold_s2,
        excluded.ewm_units_sold_s4,
        excluded.ewm_units_sold_s8,
        excluded.ewm_units_sold_s13,
        excluded.ewm_revenue_s2,
        excluded.ewm_revenue_s4,
        excluded.ewm_revenue_s8,
        excluded.ewm_revenue_s13,
        excluded.ewm_units_received_s2,
        excluded.ewm_units_received_s4,
        excluded.ewm_units_received_s8,
        excluded.ewm_units_received_s13,
        excluded.ewm_units_returned_s2,
        excluded.ewm_units_returned_s4,
        excluded.ewm_units_returned_s8,
        excluded.ewm_units_returned_s13,
        excluded.sold_mean_4,
        excluded.sold_mean_8,
        excluded.sold_mean_13,
        excluded.sold_mean_26,
        excluded.sold_mean_52,
        excluded.sold_std_4,
        excluded.sold_std_8,
        excluded.sold_std_13,
        excluded.sold_std_26,
        excluded.sold_std_52,
        excluded.sold_max_13,
        excluded.sold_max_52,
        excluded.sold_zero_share_13,
        excluded.revenue_mean_13,
        excluded.sold_slope_4,
        excluded.sold_slope_8,
        excluded.sold_slope_13,
        excluded.sold_slope_26,
        excluded.cum_units_sold,
        excluded.cum_units_returned,
        excluded.cum_revenue,
        excluded.cum_units_received,
        excluded.cum_units_ordered,
        excluded.cum_units_invoiced,
        excluded.ytd_units_sold,
        excluded.ytd_revenue,
        excluded.weeks_since_first_sale,
        excluded.weeks_since_last_sale,
        excluded.last_invoice_unit_cost
    )
    WHERE f IS DISTINCT FROM excluded
    $upsert$ USING c_lookback, c_sold_tail, v_runner;
        GET DIAGNOSTICS rows_written = ROW_COUNT;
    END IF;
END;
$_$;

ALTER FUNCTION t_schema_dump.write_feature_rows(OUT rows_written bigint, OUT new_p text[], OUT new_l text[], OUT new_lo date[], OUT new_n integer[], OUT new_sold bytea[], OUT new_revenue bytea[]) OWNER TO t_schema_dump_owner;

--
-- Name: alembic_version; Type: TABLE; Schema: masterfile; Owner: postgres
--

CREATE TABLE masterfile.alembic_version (
    version_num character varying(32) NOT NULL
);

ALTER TABLE masterfile.alembic_version OWNER TO postgres;

--
-- Name: api_tokens; Type: TABLE; Schema: masterfile; Owner: postgres
--

CREATE TABLE masterfile.api_tokens (
    token_id bigint NOT NULL,
    client_id text NOT NULL,
    name text NOT NULL,
    role text NOT NULL,
    token_hash bytea NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    last_used_at timestamp with time zone,
    revoked_at timestamp with time zone,
    CONSTRAINT api_tokens_hash_sha256 CHECK ((length(token_hash) = 32)),
    CONSTRAINT api_tokens_name_shape CHECK ((name ~ '^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$'::text)),
    CONSTRAINT api_tokens_role_known CHECK ((role = ANY (ARRAY['planner'::text, 'viewer'::text])))
);

ALTER TABLE masterfile.api_tokens OWNER TO postgres;

--
-- Name: api_tokens_token_id_seq; Type: SEQUENCE; Schema: masterfile; Owner: postgres
--

CREATE SEQUENCE masterfile.api_tokens_token_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER TABLE masterfile.api_tokens_token_id_seq OWNER TO postgres;

--
-- Name: api_tokens_token_id_seq; Type: SEQUENCE OWNED BY; Schema: masterfile; Owner: postgres
--

ALTER SEQUENCE masterfile.api_tokens_token_id_seq OWNED BY masterfile.api_tokens.token_id;

--
-- Name: declared_features; Type: VIEW; Schema: masterfile; Owner: postgres
--

CREATE VIEW masterfile.declared_features AS
 SELECT (row_number() OVER ())::integer AS "position",
    d.name,
    d.kind,
    d.input,
    d.param,
    d.description
   FROM ( VALUES ('units_sold'::text,'fact'::text,'units_sold'::text,NULL::integer,'Sum of qty over the week''s sales lines with qty > 0.'::text), ('units_returned'::text,'fact'::text,'units_returned'::text,NULL::integer,'Minus the sum of qty over the week''s sales lines with qty < 0 (positive).'::text), ('revenue'::text,'fact'::text,'revenue'::text,NULL::integer,'Sum of net_amount over the week''s sales lines.'::text), ('units_received'::text,'fact'::text,'units_received'::text,NULL::integer,'Sum of qty_received over the week''s receipt lines.'::text), ('units_ordered'::text,'fact'::text,'units_ordered'::text,NULL::integer,'Sum of qty_ordered over the week''s purchase order lines not cancelled.'::text), ('units_invoiced'::text,'fact'::text,'units_invoiced'::text,NULL::integer,'Sum of qty_invoiced over the week''s invoice lines.'::text), ('invoiced_amount'::text,'fact'::text,'invoiced_amount'::text,NULL::integer,'Sum of line_amount over the week''s invoice lines.'::text), ('sold_lag_1'::text,'lag'::text,'units_sold'::text,1,NULL::text), ('sold_lag_2'::text,'lag'::text,'units_sold'::text,2,NULL::text), ('sold_lag_3'::text,'lag'::text,'units_sold'::text,3,NULL::text), ('sold_lag_4'::text,'lag'::text,'units_sold'::text,4,NULL::text), ('sold_lag_5'::text,'lag'::text,'units_sold'::text,5,NULL::text), ('sold_lag_6'::text,'lag'::text,'units_sold'::text,6,NULL::text), ('sold_lag_7'::text,'lag'::text,'units_sold'::text,7,NULL::text), ('sold_lag_8'::text,'lag'::text,'units_sold'::text,8,NULL::text), ('sold_lag_9'::text,'lag'::text,'units_sold'::text,9,NULL::text), ('sold_lag_10'::text,'lag'::text,'units_sold'::text,10,NULL::text), ('sold_lag_11'::text,'lag'::text,'units_sold'::text,11,NULL::text), ('sold_lag_12'::text,'lag'::text,'units_sold'::text,12,NULL::text), ('sold_lag_13'::text,'lag'::text,'units_sold'::text,13,NULL::text), ('sold_lag_14'::text,'lag'::text,'units_sold'::text,14,NULL::text), ('ewm_units_sold_s2'::text,'ewm'::text,'units_sold'::text,2,NULL::text), ('ewm_units_sold_s4'::text,'ewm'::text,'units_sold'::text,4,NULL::text), ('ewm_units_sold_s8'::text,'ewm'::text,'units_sold'::text,8,NULL::text), ('ewm_units_sold_s13'::text,'ewm'::text,'units_sold'::text,13,NULL::text), ('ewm_revenue_s2'::text,'ewm'::text,'revenue'::text,2,NULL::text), ('ewm_revenue_s4'::text,'ewm'::text,'revenue'::text,4,NULL::text), ('ewm_revenue_s8'::text,'ewm'::text,'revenue'::text,8,NULL::text), ('ewm_revenue_s13'::text,'ewm'::text,'revenue'::text,13,NULL::text), ('ewm_units_received_s2'::text,'ewm'::text,'units_received'::text,2,NULL::text), ('ewm_units_received_s4'::text,'ewm'::text,'units_received'::text,4,NULL::text), ('ewm_units_received_s8'::text,'ewm'::text,'units_received'::text,8,NULL::text), ('ewm_units_received_s13'::text,'ewm'::text,'units_received'::text,13,NULL::text), ('ewm_units_returned_s2'::text,'ewm'::text,'units_returned'::text,2,NULL::text), ('ewm_units_returned_s4'::text,'ewm'::text,'units_returned'::text,4,NULL::text), ('ewm_units_returned_s8'::text,'ewm'::text,'units_returned'::text,8,NULL::text), ('ewm_units_returned_s13'::text,'ewm'::text,'units_returned'::text,13,NULL::text), ('sold_mean_4'::text,'mean'::text,'units_sold'::text,4,NULL::text), ('sold_mean_8'::text,'mean'::text,'units_sold'::text,8,NULL::text), ('sold_mean_13'::text,'mean'::text,'units_sold'::text,13,NULL::text), ('sold_mean_26'::text,'mean'::text,'units_sold'::text,26,NULL::text), ('sold_mean_52'::text,'mean'::text,'units_sold'::text,52,NULL::text), ('sold_std_4'::text,'std'::text,'units_sold'::text,4,NULL::text), ('sold_std_8'::text,'std'::text,'units_sold'::text,8,NULL::text), ('sold_std_13'::text,'std'::text,'units_sold'::text,13,NULL::text), ('sold_std_26'::text,'std'::text,'units_sold'::text,26,NULL::text), ('sold_std_52'::text,'std'::text,'units_sold'::text,52,NULL::text), ('sold_max_13'::text,'max'::text,'units_sold'::text,13,NULL::text), ('sold_max_52'::text,'max'::text,'units_sold'::text,52,NULL::text), ('sold_zero_share_13'::text,'zero_share'::text,'units_sold'::text,13,NULL::text), ('revenue_mean_13'::text,'mean'::text,'revenue'::text,13,NULL::text), ('sold_slope_4'::text,'slope'::text,'units_sold'::text,4,NULL::text), ('sold_slope_8'::text,'slope'::text,'units_sold'::text,8,NULL::text), ('sold_slope_13'::text,'slope'::text,'units_sold'::text,13,NULL::text), ('sold_slope_26'::text,'slope'::text,'units_sold'::text,26,NULL::text), ('cum_units_sold'::text,'cumulative'::text,'units_sold'::text,NULL::integer,NULL::text), ('cum_units_returned'::text,'cumulative'::text,'units_returned'::text,NULL::integer,NULL::text), ('cum_revenue'::text,'cumulative'::text,'revenue'::text,NULL::integer,NULL::text), ('cum_units_received'::text,'cumulative'::text,'units_received'::text,NULL::integer,NULL::text), ('cum_units_ordered'::text,'cumulative'::text,'units_ordered'::text,NULL::integer,NULL::text), ('cum_units_invoiced'::text,'cumulative'::text,'units_invoiced'::text,NULL::integer,NULL::text), ('ytd_units_sold'::text,'year_to_date'::text,'units_sold'::text,NULL::integer,NULL::text), ('ytd_revenue'::text,'year_to_date'::text,'revenue'::text,NULL::integer,NULL::text), ('est_on_hand'::text,'on_hand'::text,NULL::text,NULL::integer,'cum_units_received - cum_units_sold + cum_units_returned.'::text), ('on_order'::text,'on_order'::text,NULL::text,NULL::integer,'greatest(0, cum_units_ordered - cum_units_received).'::text), ('weeks_since_first_sale'::text,'weeks_since_first'::text,'units_sold'::text,NULL::integer,'Weeks since the first week with units_sold > 0; null before it.'::text), ('weeks_since_last_sale'::text,'weeks_since_last'::text,'units_sold'::text,NULL::integer,'Weeks since the latest week up to this one with units_sold > 0; null before any.'::text), ('weeks_of_cover'::text,'cover'::text,'units_sold'::text,4,'est_on_hand / ewm_units_sold_s4 when that is > 0, else null.'::text), ('avg_price_13'::text,'avg_price'::text,NULL::text,13,'Revenue over units_sold of the trailing 13 weeks; null when no unit was sold.'::text), ('last_invoice_unit_cost'::text,'last_unit_cost'::text,NULL::text,NULL::integer,'line_amount / qty_invoiced of the key''s latest invoice line up to this week with qty_invoiced > 0; null when none.'::text)) d(name, kind, input, param, description);

ALTER TABLE masterfile.declared_features OWNER TO postgres;

--
-- Name: dispatch_state; Type: TABLE; Schema: masterfile; Owner: postgres
--

CREATE TABLE masterfile.dispatch_state (
    singleton boolean DEFAULT true NOT NULL,
    rolled_week date,
    CONSTRAINT dispatch_state_singleton_check CHECK (singleton)
);

ALTER TABLE masterfile.dispatch_state OWNER TO postgres;

--
-- Name: tenants; Type: TABLE; Schema: masterfile; Owner: postgres
--

CREATE TABLE masterfile.tenants (
    client_id text NOT NULL,
    schema_name text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    enabled boolean DEFAULT true NOT NULL,
    code_version text,
    CONSTRAINT tenants_client_id_check CHECK ((client_id ~ '^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$'::text)),
    CONSTRAINT tenants_schema_name_check CHECK ((schema_name ~ '^t_[a-z0-9_]{1,40}$'::text))
);

ALTER TABLE masterfile.tenants OWNER TO postgres;

--
-- Name: work_hints; Type: TABLE; Schema: masterfile; Owner: postgres
--

CREATE TABLE masterfile.work_hints (
    hint_id bigint NOT NULL,
    schema_name text NOT NULL,
    hinted_at timestamp with time zone DEFAULT now() NOT NULL,
    not_before timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT work_hints_schema_name_check CHECK ((schema_name ~ '^t_[a-z0-9_]{1,40}$'::text))
);

ALTER TABLE masterfile.work_hints OWNER TO postgres;

--
-- Name: due_work; Type: VIEW; Schema: masterfile; Owner: postgres
--

CREATE VIEW masterfile.due_work WITH (security_invoker='true') AS
 SELECT h.schema_name,
    min(h.hint_id) AS first_hint,
    max(h.hint_id) AS max_hint
   FROM (masterfile.work_hints h
     JOIN masterfile.tenants t ON (((t.schema_name = h.schema_name) AND t.enabled)))
  WHERE (h.not_before <= now())
  GROUP BY h.schema_name;

ALTER TABLE masterfile.due_work OWNER TO postgres;

--
-- Name: installed; Type: TABLE; Schema: masterfile; Owner: postgres
--

CREATE TABLE masterfile.installed (
    singleton boolean DEFAULT true NOT NULL,
    code_version text NOT NULL,
    CONSTRAINT installed_singleton_check CHECK (singleton)
);

ALTER TABLE masterfile.installed OWNER TO postgres;

--
-- Name: work_hints_hint_id_seq; Type: SEQUENCE; Schema: masterfile; Owner: postgres
--

ALTER TABLE masterfile.work_hints ALTER COLUMN hint_id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME masterfile.work_hints_hint_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: _private_dirty_keys; Type: TABLE; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TABLE t_schema_dump._private_dirty_keys (
    mark_id bigint NOT NULL,
    product_id text,
    location_id text,
    from_week date,
    scope text NOT NULL,
    marked_at timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
    CONSTRAINT dirty_keys_check CHECK (((product_id IS NULL) = (location_id IS NULL))),
    CONSTRAINT dirty_keys_scope_check CHECK ((scope = ANY (ARRAY['features'::text, 'plan'::text])))
);

ALTER TABLE t_schema_dump._private_dirty_keys OWNER TO t_schema_dump_owner;

--
-- Name: _private_dirty_keys_mark_id_seq; Type: SEQUENCE; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE SEQUENCE t_schema_dump._private_dirty_keys_mark_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER TABLE t_schema_dump._private_dirty_keys_mark_id_seq OWNER TO t_schema_dump_owner;

--
-- Name: _private_dirty_keys_mark_id_seq; Type: SEQUENCE OWNED BY; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

ALTER SEQUENCE t_schema_dump._private_dirty_keys_mark_id_seq OWNED BY t_schema_dump._private_dirty_keys.mark_id;

--
-- Name: _private_failed_keys; Type: TABLE; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TABLE t_schema_dump._private_failed_keys (
    product_id text NOT NULL,
    location_id text NOT NULL,
    from_week date,
    scope text NOT NULL,
    error text NOT NULL,
    failed_at timestamp with time zone DEFAULT now() NOT NULL
);

ALTER TABLE t_schema_dump._private_failed_keys OWNER TO t_schema_dump_owner;

--
-- Name: _private_feature_batch; Type: TABLE; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TABLE t_schema_dump._private_feature_batch (
    runner integer NOT NULL,
    product_id text NOT NULL,
    location_id text NOT NULL,
    from_week date,
    new_first date,
    old_first date,
    last_stored date,
    start_week date,
    stop_week date,
    tail_week date,
    prior_sold bytea,
    prior_revenue bytea,
    seed double precision[]
);

ALTER TABLE t_schema_dump._private_feature_batch OWNER TO t_schema_dump_owner;

--
-- Name: _private_feature_keys; Type: TABLE; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TABLE t_schema_dump._private_feature_keys (
    product_id text NOT NULL,
    location_id text NOT NULL,
    first_week date NOT NULL,
    tail_week date,
    sold_tail bytea,
    revenue_tail bytea
)
WITH (fillfactor='50');

ALTER TABLE t_schema_dump._private_feature_keys OWNER TO t_schema_dump_owner;

--
-- Name: _private_pipeline_state; Type: TABLE; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TABLE t_schema_dump._private_pipeline_state (
    singleton boolean DEFAULT true NOT NULL,
    end_week date,
    CONSTRAINT pipeline_state_singleton_check CHECK (singleton)
);

ALTER TABLE t_schema_dump._private_pipeline_state OWNER TO t_schema_dump_owner;

--
-- Name: _private_plan_batch; Type: TABLE; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TABLE t_schema_dump._private_plan_batch (
    runner integer NOT NULL,
    product_id text NOT NULL,
    location_id text NOT NULL,
    ord integer,
    sigma double precision,
    est_on_hand double precision,
    on_order double precision,
    lead_time_days double precision,
    review_period_weeks double precision,
    service_level double precision,
    min_order_qty double precision,
    order_multiple double precision,
    discontinued boolean,
    assorted boolean,
    location_enabled boolean
);

ALTER TABLE t_schema_dump._private_plan_batch OWNER TO t_schema_dump_owner;

--
-- Name: alembic_version; Type: TABLE; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TABLE t_schema_dump.alembic_version (
    version_num character varying(32) NOT NULL
);

ALTER TABLE t_schema_dump.alembic_version OWNER TO t_schema_dump_owner;

--
-- Name: conflicts; Type: TABLE; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TABLE t_schema_dump.conflicts (
    conflict_id bigint NOT NULL,
    entity text NOT NULL,
    entity_key text NOT NULL,
    field text NOT NULL,
    erp_value text,
    ui_value text,
    erp_updated_at timestamp with time zone NOT NULL,
    detected_at timestamp with time zone DEFAULT now() NOT NULL,
    acknowledged_by text,
    acknowledged_at timestamp with time zone,
    CONSTRAINT conflicts_acknowledged_together CHECK (((acknowledged_by IS NULL) = (acknowledged_at IS NULL))),
    CONSTRAINT conflicts_entity_known CHECK ((entity = ANY (ARRAY['product'::text, 'location'::text, 'supplier'::text])))
);

ALTER TABLE t_schema_dump.conflicts OWNER TO t_schema_dump_owner;

--
-- Name: TABLE conflicts; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON TABLE t_schema_dump.conflicts IS 'An ERP value that disagrees with a UI override of the same fact; the UI''s value stays in force. Recorded by the loader''s writes.';

--
-- Name: COLUMN conflicts.conflict_id; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.conflicts.conflict_id IS 'The conflict''s id.';

--
-- Name: COLUMN conflicts.entity; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.conflicts.entity IS 'product, location or supplier.';

--
-- Name: COLUMN conflicts.entity_key; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.conflicts.entity_key IS 'The id of the product, location or supplier.';

--
-- Name: COLUMN conflicts.field; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.conflicts.field IS 'The fact the two disagree on (for example status, lead_time_days).';

--
-- Name: COLUMN conflicts.erp_value; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.conflicts.erp_value IS 'The ERP''s value, as the ERP wrote it.';

--
-- Name: COLUMN conflicts.ui_value; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.conflicts.ui_value IS 'The UI''s value, as the UI wrote it; it stays in force.';

--
-- Name: COLUMN conflicts.erp_updated_at; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.conflicts.erp_updated_at IS 'updated_at of the ERP record that disagreed.';

--
-- Name: COLUMN conflicts.detected_at; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.conflicts.detected_at IS 'When the conflict was recorded.';

--
-- Name: COLUMN conflicts.acknowledged_by; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.conflicts.acknowledged_by IS 'Who acknowledged the conflict (owner: the UI); null: not yet.';

--
-- Name: COLUMN conflicts.acknowledged_at; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.conflicts.acknowledged_at IS 'When the conflict was acknowledged (owner: the UI); retention counts from here.';

--
-- Name: conflicts_conflict_id_seq; Type: SEQUENCE; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE SEQUENCE t_schema_dump.conflicts_conflict_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER TABLE t_schema_dump.conflicts_conflict_id_seq OWNER TO t_schema_dump_owner;

--
-- Name: conflicts_conflict_id_seq; Type: SEQUENCE OWNED BY; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

ALTER SEQUENCE t_schema_dump.conflicts_conflict_id_seq OWNED BY t_schema_dump.conflicts.conflict_id;

--
-- Name: ui_assortments; Type: TABLE; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TABLE t_schema_dump.ui_assortments (
    product_id text NOT NULL,
    location_id text NOT NULL,
    assorted boolean,
    updated_by text DEFAULT CURRENT_USER NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL
);

ALTER TABLE t_schema_dump.ui_assortments OWNER TO t_schema_dump_owner;

--
-- Name: TABLE ui_assortments; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON TABLE t_schema_dump.ui_assortments IS 'The UI''s assortment per product and location (owner: the UI); a key with no row is assorted.';

--
-- Name: COLUMN ui_assortments.product_id; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.ui_assortments.product_id IS 'The product (key, with location_id).';

--
-- Name: COLUMN ui_assortments.location_id; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.ui_assortments.location_id IS 'The location (key, with product_id).';

--
-- Name: COLUMN ui_assortments.assorted; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.ui_assortments.assorted IS 'Whether the product is carried at the location; null: assorted.';

--
-- Name: COLUMN ui_assortments.updated_by; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.ui_assortments.updated_by IS 'Who last wrote the row (defaults to the writing role).';

--
-- Name: COLUMN ui_assortments.updated_at; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.ui_assortments.updated_at IS 'When the row was last written.';

--
-- Name: effective_assortments; Type: VIEW; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE VIEW t_schema_dump.effective_assortments AS
 SELECT ui_assortments.product_id,
    ui_assortments.location_id,
    COALESCE(ui_assortments.assorted, true) AS assorted
   FROM t_schema_dump.ui_assortments;

ALTER TABLE t_schema_dump.effective_assortments OWNER TO t_schema_dump_owner;

--
-- Name: VIEW effective_assortments; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON VIEW t_schema_dump.effective_assortments IS 'Assortment in force per product and location (the UI''s, else assorted).';

--
-- Name: COLUMN effective_assortments.product_id; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.effective_assortments.product_id IS 'The product.';

--
-- Name: COLUMN effective_assortments.location_id; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.effective_assortments.location_id IS 'The location.';

--
-- Name: COLUMN effective_assortments.assorted; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.effective_assortments.assorted IS 'coalesce(the UI''s assorted, true).';

--
-- Name: erp_locations; Type: TABLE; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TABLE t_schema_dump.erp_locations (
    location_id text NOT NULL,
    name text,
    kind text,
    region text,
    status text,
    updated_at timestamp with time zone NOT NULL,
    deleted boolean DEFAULT false NOT NULL,
    load_id bigint,
    CONSTRAINT erp_locations_kind_valid CHECK ((kind = ANY (ARRAY['store'::text, 'warehouse'::text]))),
    CONSTRAINT erp_locations_status_valid CHECK ((status = ANY (ARRAY['open'::text, 'closed'::text])))
);

ALTER TABLE t_schema_dump.erp_locations OWNER TO t_schema_dump_owner;

--
-- Name: TABLE erp_locations; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON TABLE t_schema_dump.erp_locations IS 'Stores and warehouses as the ERP sent them (owner: the loader).';

--
-- Name: COLUMN erp_locations.location_id; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.erp_locations.location_id IS 'The location''s key.';

--
-- Name: COLUMN erp_locations.name; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.erp_locations.name IS 'Location name.';

--
-- Name: COLUMN erp_locations.kind; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.erp_locations.kind IS 'store or warehouse.';

--
-- Name: COLUMN erp_locations.region; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.erp_locations.region IS 'Region.';

--
-- Name: COLUMN erp_locations.status; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.erp_locations.status IS 'open or closed.';

--
-- Name: COLUMN erp_locations.updated_at; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.erp_locations.updated_at IS 'The ERP''s last change of the record; an older record than the stored one is stale and skipped.';

--
-- Name: COLUMN erp_locations.deleted; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.erp_locations.deleted IS 'true: the ERP deleted the record (a tombstone); it counts for nothing downstream.';

--
-- Name: COLUMN erp_locations.load_id; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.erp_locations.load_id IS 'The load (loads.load_id) that last wrote the row.';

--
-- Name: ui_location_settings; Type: TABLE; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TABLE t_schema_dump.ui_location_settings (
    location_id text NOT NULL,
    enabled boolean,
    updated_by text DEFAULT CURRENT_USER NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL
);

ALTER TABLE t_schema_dump.ui_location_settings OWNER TO t_schema_dump_owner;

--
-- Name: TABLE ui_location_settings; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON TABLE t_schema_dump.ui_location_settings IS 'The UI''s overrides per location (owner: the UI). A null field means no override.';

--
-- Name: COLUMN ui_location_settings.location_id; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.ui_location_settings.location_id IS 'The location overridden.';

--
-- Name: COLUMN ui_location_settings.enabled; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.ui_location_settings.enabled IS 'Override of whether the location is planned (the ERP''s status = open); null: no override.';

--
-- Name: COLUMN ui_location_settings.updated_by; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.ui_location_settings.updated_by IS 'Who last wrote the row (defaults to the writing role).';

--
-- Name: COLUMN ui_location_settings.updated_at; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.ui_location_settings.updated_at IS 'When the row was last written.';

--
-- Name: effective_locations; Type: VIEW; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE VIEW t_schema_dump.effective_locations AS
 SELECT k.location_id,
    e.name,
    e.kind,
    e.region,
    e.status AS erp_status,
    COALESCE(u.enabled, (e.status = 'open'::text), true) AS location_enabled
   FROM ((( SELECT erp_locations.location_id
           FROM t_schema_dump.erp_locations
          WHERE (NOT erp_locations.deleted)
        UNION
         SELECT ui_location_settings.location_id
           FROM t_schema_dump.ui_location_settings) k
     LEFT JOIN t_schema_dump.erp_locations e ON (((e.location_id = k.location_id) AND (NOT e.deleted))))
     LEFT JOIN t_schema_dump.ui_location_settings u ON ((u.location_id = k.location_id)));

ALTER TABLE t_schema_dump.effective_locations OWNER TO t_schema_dump_owner;

--
-- Name: VIEW effective_locations; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON VIEW t_schema_dump.effective_locations IS 'Locations with the values in force (the UI wins where it speaks).';

--
-- Name: COLUMN effective_locations.location_id; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.effective_locations.location_id IS 'The location.';

--
-- Name: COLUMN effective_locations.name; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.effective_locations.name IS 'The ERP''s name.';

--
-- Name: COLUMN effective_locations.kind; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.effective_locations.kind IS 'The ERP''s kind (store or warehouse).';

--
-- Name: COLUMN effective_locations.region; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.effective_locations.region IS 'The ERP''s region.';

--
-- Name: COLUMN effective_locations.erp_status; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.effective_locations.erp_status IS 'The ERP''s status (open or closed).';

--
-- Name: COLUMN effective_locations.location_enabled; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.effective_locations.location_enabled IS 'coalesce(the UI''s enabled, the ERP''s status = open, true).';

--
-- Name: erp_products; Type: TABLE; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TABLE t_schema_dump.erp_products (
    product_id text NOT NULL,
    name text,
    category text,
    brand text,
    supplier_id text,
    unit_cost numeric,
    unit_price numeric,
    status text,
    updated_at timestamp with time zone NOT NULL,
    deleted boolean DEFAULT false NOT NULL,
    load_id bigint,
    CONSTRAINT erp_products_status_valid CHECK ((status = ANY (ARRAY['active'::text, 'discontinued'::text])))
);

ALTER TABLE t_schema_dump.erp_products OWNER TO t_schema_dump_owner;

--
-- Name: TABLE erp_products; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON TABLE t_schema_dump.erp_products IS 'Products as the ERP sent them (owner: the loader). One row per product_id; a tombstone keeps its row with deleted = true.';

--
-- Name: COLUMN erp_products.product_id; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.erp_products.product_id IS 'The product''s key.';

--
-- Name: COLUMN erp_products.name; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.erp_products.name IS 'Product name.';

--
-- Name: COLUMN erp_products.category; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.erp_products.category IS 'Product category.';

--
-- Name: COLUMN erp_products.brand; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.erp_products.brand IS 'Brand.';

--
-- Name: COLUMN erp_products.supplier_id; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.erp_products.supplier_id IS 'The product''s supplier (erp_suppliers.supplier_id).';

--
-- Name: COLUMN erp_products.unit_cost; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.erp_products.unit_cost IS 'Unit cost.';

--
-- Name: COLUMN erp_products.unit_price; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.erp_products.unit_price IS 'Unit price.';

--
-- Name: COLUMN erp_products.status; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.erp_products.status IS 'active or discontinued.';

--
-- Name: COLUMN erp_products.updated_at; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.erp_products.updated_at IS 'The ERP''s last change of the record; an older record than the stored one is stale and skipped.';

--
-- Name: COLUMN erp_products.deleted; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.erp_products.deleted IS 'true: the ERP deleted the record (a tombstone); it counts for nothing downstream.';

--
-- Name: COLUMN erp_products.load_id; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.erp_products.load_id IS 'The load (loads.load_id) that last wrote the row.';

--
-- Name: settings; Type: TABLE; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TABLE t_schema_dump.settings (
    singleton boolean DEFAULT true NOT NULL,
    as_of_date date,
    default_service_level double precision DEFAULT 0.95 NOT NULL,
    default_lead_time_days integer DEFAULT 14 NOT NULL,
    horizon_weeks integer DEFAULT 13 NOT NULL,
    updated_by text DEFAULT CURRENT_USER NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT settings_as_of_date_range CHECK (((as_of_date >= '1990-01-01'::date) AND (as_of_date <= '2100-01-01'::date))),
    CONSTRAINT settings_default_lead_time_days_not_negative CHECK ((default_lead_time_days >= 0)),
    CONSTRAINT settings_default_service_level_range CHECK (((default_service_level >= (0.5)::double precision) AND (default_service_level <= (0.999)::double precision))),
    CONSTRAINT settings_horizon_weeks_range CHECK (((horizon_weeks >= 1) AND (horizon_weeks <= 104))),
    CONSTRAINT settings_singleton_check CHECK (singleton)
);

ALTER TABLE t_schema_dump.settings OWNER TO t_schema_dump_owner;

--
-- Name: TABLE settings; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON TABLE t_schema_dump.settings IS 'The tenant''s settings, one row (owner: the UI).';

--
-- Name: COLUMN settings.singleton; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.settings.singleton IS 'Always true: the table has one row.';

--
-- Name: COLUMN settings.as_of_date; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.settings.as_of_date IS 'The day the tenant is computed for; null: today. end_week is the Monday of the week before it.';

--
-- Name: COLUMN settings.default_service_level; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.settings.default_service_level IS 'Service level where no product override exists (0.5 to 0.999, default 0.95).';

--
-- Name: COLUMN settings.default_lead_time_days; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.settings.default_lead_time_days IS 'Lead time where neither the UI nor the ERP gives one (default 14).';

--
-- Name: COLUMN settings.horizon_weeks; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.settings.horizon_weeks IS 'Forecast weeks per key (1 to 104, default 13).';

--
-- Name: COLUMN settings.updated_by; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.settings.updated_by IS 'Who last changed the settings.';

--
-- Name: COLUMN settings.updated_at; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.settings.updated_at IS 'When the settings last changed.';

--
-- Name: ui_product_settings; Type: TABLE; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TABLE t_schema_dump.ui_product_settings (
    product_id text NOT NULL,
    discontinued boolean,
    service_level double precision,
    updated_by text DEFAULT CURRENT_USER NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT ui_product_settings_service_level_range CHECK (((service_level >= (0.5)::double precision) AND (service_level <= (0.999)::double precision)))
);

ALTER TABLE t_schema_dump.ui_product_settings OWNER TO t_schema_dump_owner;

--
-- Name: TABLE ui_product_settings; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON TABLE t_schema_dump.ui_product_settings IS 'The UI''s overrides per product (owner: the UI). A null field means no override.';

--
-- Name: COLUMN ui_product_settings.product_id; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.ui_product_settings.product_id IS 'The product overridden.';

--
-- Name: COLUMN ui_product_settings.discontinued; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.ui_product_settings.discontinued IS 'Override of discontinued (the ERP''s status = discontinued); null: no override.';

--
-- Name: COLUMN ui_product_settings.service_level; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.ui_product_settings.service_level IS 'Override of the service level, 0.5 to 0.999; null: settings.default_service_level.';

--
-- Name: COLUMN ui_product_settings.updated_by; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.ui_product_settings.updated_by IS 'Who last wrote the row (defaults to the writing role).';

--
-- Name: COLUMN ui_product_settings.updated_at; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.ui_product_settings.updated_at IS 'When the row was last written.';

--
-- Name: effective_products; Type: VIEW; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE VIEW t_schema_dump.effective_products AS
 SELECT k.product_id,
    e.name,
    e.category,
    e.brand,
    e.supplier_id,
    (e.unit_cost)::double precision AS unit_cost,
    (e.unit_price)::double precision AS unit_price,
    e.status AS erp_status,
    COALESCE(u.discontinued, (e.status = 'discontinued'::text), false) AS discontinued,
    COALESCE(u.service_level, s.default_service_level) AS service_level
   FROM (((( SELECT erp_products.product_id
           FROM t_schema_dump.erp_products
          WHERE (NOT erp_products.deleted)
        UNION
         SELECT ui_product_settings.product_id
           FROM t_schema_dump.ui_product_settings) k
     LEFT JOIN t_schema_dump.erp_products e ON (((e.product_id = k.product_id) AND (NOT e.deleted))))
     LEFT JOIN t_schema_dump.ui_product_settings u ON ((u.product_id = k.product_id)))
     CROSS JOIN t_schema_dump.settings s);

ALTER TABLE t_schema_dump.effective_products OWNER TO t_schema_dump_owner;

--
-- Name: VIEW effective_products; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON VIEW t_schema_dump.effective_products IS 'Products with the values in force: the UI''s override where it has one, else the ERP''s, else the default.';

--
-- Name: COLUMN effective_products.product_id; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.effective_products.product_id IS 'The product.';

--
-- Name: COLUMN effective_products.name; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.effective_products.name IS 'The ERP''s name.';

--
-- Name: COLUMN effective_products.category; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.effective_products.category IS 'The ERP''s category.';

--
-- Name: COLUMN effective_products.brand; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.effective_products.brand IS 'The ERP''s brand.';

--
-- Name: COLUMN effective_products.supplier_id; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.effective_products.supplier_id IS 'The ERP''s supplier of the product.';

--
-- Name: COLUMN effective_products.unit_cost; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.effective_products.unit_cost IS 'The ERP''s unit cost.';

--
-- Name: COLUMN effective_products.unit_price; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.effective_products.unit_price IS 'The ERP''s unit price.';

--
-- Name: COLUMN effective_products.erp_status; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.effective_products.erp_status IS 'The ERP''s status (active or discontinued).';

--
-- Name: COLUMN effective_products.discontinued; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.effective_products.discontinued IS 'coalesce(the UI''s discontinued, the ERP''s status = discontinued, false).';

--
-- Name: COLUMN effective_products.service_level; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.effective_products.service_level IS 'coalesce(the UI''s service_level, settings.default_service_level).';

--
-- Name: erp_suppliers; Type: TABLE; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TABLE t_schema_dump.erp_suppliers (
    supplier_id text NOT NULL,
    name text,
    lead_time_days integer,
    min_order_qty numeric,
    order_multiple numeric,
    updated_at timestamp with time zone NOT NULL,
    deleted boolean DEFAULT false NOT NULL,
    load_id bigint
);

ALTER TABLE t_schema_dump.erp_suppliers OWNER TO t_schema_dump_owner;

--
-- Name: TABLE erp_suppliers; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON TABLE t_schema_dump.erp_suppliers IS 'Suppliers as the ERP sent them (owner: the loader).';

--
-- Name: COLUMN erp_suppliers.supplier_id; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.erp_suppliers.supplier_id IS 'The supplier''s key.';

--
-- Name: COLUMN erp_suppliers.name; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.erp_suppliers.name IS 'Supplier name.';

--
-- Name: COLUMN erp_suppliers.lead_time_days; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.erp_suppliers.lead_time_days IS 'Lead time in days, as the ERP says.';

--
-- Name: COLUMN erp_suppliers.min_order_qty; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.erp_suppliers.min_order_qty IS 'Minimum order quantity, as the ERP says.';

--
-- Name: COLUMN erp_suppliers.order_multiple; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.erp_suppliers.order_multiple IS 'Orders are a multiple of this quantity, as the ERP says.';

--
-- Name: COLUMN erp_suppliers.updated_at; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.erp_suppliers.updated_at IS 'The ERP''s last change of the record; an older record than the stored one is stale and skipped.';

--
-- Name: COLUMN erp_suppliers.deleted; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.erp_suppliers.deleted IS 'true: the ERP deleted the record (a tombstone); it counts for nothing downstream.';

--
-- Name: COLUMN erp_suppliers.load_id; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.erp_suppliers.load_id IS 'The load (loads.load_id) that last wrote the row.';

--
-- Name: ui_supplier_settings; Type: TABLE; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TABLE t_schema_dump.ui_supplier_settings (
    supplier_id text NOT NULL,
    lead_time_days integer,
    min_order_qty numeric,
    order_multiple numeric,
    review_period_weeks integer,
    updated_by text DEFAULT CURRENT_USER NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT ui_supplier_settings_lead_time_days_not_negative CHECK ((lead_time_days >= 0)),
    CONSTRAINT ui_supplier_settings_min_order_qty_not_negative CHECK (((min_order_qty >= (0)::numeric) AND (min_order_qty < 'Infinity'::numeric))),
    CONSTRAINT ui_supplier_settings_order_multiple_positive CHECK (((order_multiple > (0)::numeric) AND (order_multiple < 'Infinity'::numeric))),
    CONSTRAINT ui_supplier_settings_review_period_weeks_at_least_one CHECK ((review_period_weeks >= 1))
);

ALTER TABLE t_schema_dump.ui_supplier_settings OWNER TO t_schema_dump_owner;

--
-- Name: TABLE ui_supplier_settings; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON TABLE t_schema_dump.ui_supplier_settings IS 'The UI''s overrides per supplier (owner: the UI). A null field means no override.';

--
-- Name: COLUMN ui_supplier_settings.supplier_id; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.ui_supplier_settings.supplier_id IS 'The supplier overridden.';

--
-- Name: COLUMN ui_supplier_settings.lead_time_days; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.ui_supplier_settings.lead_time_days IS 'Override of the lead time in days; null: the ERP''s, else settings.default_lead_time_days.';

--
-- Name: COLUMN ui_supplier_settings.min_order_qty; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.ui_supplier_settings.min_order_qty IS 'Override of the minimum order quantity; null: the ERP''s, else 1.';

--
-- Name: COLUMN ui_supplier_settings.order_multiple; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.ui_supplier_settings.order_multiple IS 'Override of the order multiple; null: the ERP''s, else 1.';

--
-- Name: COLUMN ui_supplier_settings.review_period_weeks; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.ui_supplier_settings.review_period_weeks IS 'Weeks between two orders to this supplier; null: 1.';

--
-- Name: COLUMN ui_supplier_settings.updated_by; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.ui_supplier_settings.updated_by IS 'Who last wrote the row (defaults to the writing role).';

--
-- Name: COLUMN ui_supplier_settings.updated_at; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.ui_supplier_settings.updated_at IS 'When the row was last written.';

--
-- Name: effective_suppliers; Type: VIEW; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE VIEW t_schema_dump.effective_suppliers AS
 SELECT k.supplier_id,
    e.name,
    COALESCE(u.lead_time_days, e.lead_time_days, s.default_lead_time_days) AS lead_time_days,
    (COALESCE(u.min_order_qty, e.min_order_qty, (1)::numeric))::double precision AS min_order_qty,
    (COALESCE(u.order_multiple, e.order_multiple, (1)::numeric))::double precision AS order_multiple,
    COALESCE(u.review_period_weeks, 1) AS review_period_weeks
   FROM (((( SELECT erp_suppliers.supplier_id
           FROM t_schema_dump.erp_suppliers
          WHERE (NOT erp_suppliers.deleted)
        UNION
         SELECT ui_supplier_settings.supplier_id
           FROM t_schema_dump.ui_supplier_settings) k
     LEFT JOIN t_schema_dump.erp_suppliers e ON (((e.supplier_id = k.supplier_id) AND (NOT e.deleted))))
     LEFT JOIN t_schema_dump.ui_supplier_settings u ON ((u.supplier_id = k.supplier_id)))
     CROSS JOIN t_schema_dump.settings s);

ALTER TABLE t_schema_dump.effective_suppliers OWNER TO t_schema_dump_owner;

--
-- Name: VIEW effective_suppliers; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON VIEW t_schema_dump.effective_suppliers IS 'Suppliers with the values in force (the UI wins where it speaks, then the ERP, then the tenant''s default).';

--
-- Name: COLUMN effective_suppliers.supplier_id; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.effective_suppliers.supplier_id IS 'The supplier.';

--
-- Name: COLUMN effective_suppliers.name; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.effective_suppliers.name IS 'The ERP''s name.';

--
-- Name: COLUMN effective_suppliers.lead_time_days; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.effective_suppliers.lead_time_days IS 'coalesce(the UI''s, the ERP''s, settings.default_lead_time_days).';

--
-- Name: COLUMN effective_suppliers.min_order_qty; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.effective_suppliers.min_order_qty IS 'coalesce(the UI''s, the ERP''s, 1).';

--
-- Name: COLUMN effective_suppliers.order_multiple; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.effective_suppliers.order_multiple IS 'coalesce(the UI''s, the ERP''s, 1).';

--
-- Name: COLUMN effective_suppliers.review_period_weeks; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.effective_suppliers.review_period_weeks IS 'coalesce(the UI''s, 1).';

--
-- Name: erp_invoice_lines; Type: TABLE; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TABLE t_schema_dump.erp_invoice_lines (
    invoice_id text NOT NULL,
    line_no integer NOT NULL,
    po_id text,
    product_id text NOT NULL,
    location_id text NOT NULL,
    invoice_date date NOT NULL,
    qty_invoiced numeric,
    line_amount numeric,
    updated_at timestamp with time zone NOT NULL,
    deleted boolean DEFAULT false NOT NULL,
    load_id bigint
);

ALTER TABLE t_schema_dump.erp_invoice_lines OWNER TO t_schema_dump_owner;

--
-- Name: TABLE erp_invoice_lines; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON TABLE t_schema_dump.erp_invoice_lines IS 'Supplier invoice lines from the ERP (owner: the loader); placed in a week by invoice_date.';

--
-- Name: COLUMN erp_invoice_lines.invoice_id; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.erp_invoice_lines.invoice_id IS 'Invoice id (key, with line_no).';

--
-- Name: COLUMN erp_invoice_lines.line_no; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.erp_invoice_lines.line_no IS 'Line number within the invoice (key, with invoice_id).';

--
-- Name: COLUMN erp_invoice_lines.po_id; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.erp_invoice_lines.po_id IS 'The purchase order invoiced.';

--
-- Name: COLUMN erp_invoice_lines.product_id; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.erp_invoice_lines.product_id IS 'Product invoiced.';

--
-- Name: COLUMN erp_invoice_lines.location_id; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.erp_invoice_lines.location_id IS 'Location invoiced for.';

--
-- Name: COLUMN erp_invoice_lines.invoice_date; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.erp_invoice_lines.invoice_date IS 'Invoice date: the date that places the line in a week.';

--
-- Name: COLUMN erp_invoice_lines.qty_invoiced; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.erp_invoice_lines.qty_invoiced IS 'Quantity invoiced.';

--
-- Name: COLUMN erp_invoice_lines.line_amount; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.erp_invoice_lines.line_amount IS 'Amount of the line.';

--
-- Name: COLUMN erp_invoice_lines.updated_at; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.erp_invoice_lines.updated_at IS 'The ERP''s last change of the record; an older record than the stored one is stale and skipped.';

--
-- Name: COLUMN erp_invoice_lines.deleted; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.erp_invoice_lines.deleted IS 'true: the ERP deleted the record (a tombstone); it counts for nothing downstream.';

--
-- Name: COLUMN erp_invoice_lines.load_id; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.erp_invoice_lines.load_id IS 'The load (loads.load_id) that last wrote the row.';

--
-- Name: erp_purchase_order_lines; Type: TABLE; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TABLE t_schema_dump.erp_purchase_order_lines (
    po_id text NOT NULL,
    line_no integer NOT NULL,
    supplier_id text,
    product_id text NOT NULL,
    location_id text NOT NULL,
    order_date date NOT NULL,
    expected_date date,
    qty_ordered numeric,
    unit_cost numeric,
    status text,
    updated_at timestamp with time zone NOT NULL,
    deleted boolean DEFAULT false NOT NULL,
    load_id bigint,
    CONSTRAINT erp_purchase_order_lines_status_valid CHECK ((status = ANY (ARRAY['open'::text, 'closed'::text, 'cancelled'::text])))
);

ALTER TABLE t_schema_dump.erp_purchase_order_lines OWNER TO t_schema_dump_owner;

--
-- Name: TABLE erp_purchase_order_lines; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON TABLE t_schema_dump.erp_purchase_order_lines IS 'Purchase order lines from the ERP (owner: the loader); placed in a week by order_date.';

--
-- Name: COLUMN erp_purchase_order_lines.po_id; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.erp_purchase_order_lines.po_id IS 'Purchase order id (key, with line_no).';

--
-- Name: COLUMN erp_purchase_order_lines.line_no; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.erp_purchase_order_lines.line_no IS 'Line number within the order (key, with po_id).';

--
-- Name: COLUMN erp_purchase_order_lines.supplier_id; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.erp_purchase_order_lines.supplier_id IS 'The supplier ordered from.';

--
-- Name: COLUMN erp_purchase_order_lines.product_id; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.erp_purchase_order_lines.product_id IS 'Product ordered.';

--
-- Name: COLUMN erp_purchase_order_lines.location_id; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.erp_purchase_order_lines.location_id IS 'Location ordered for.';

--
-- Name: COLUMN erp_purchase_order_lines.order_date; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.erp_purchase_order_lines.order_date IS 'Order date: the date that places the line in a week.';

--
-- Name: COLUMN erp_purchase_order_lines.expected_date; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.erp_purchase_order_lines.expected_date IS 'Expected delivery date.';

--
-- Name: COLUMN erp_purchase_order_lines.qty_ordered; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.erp_purchase_order_lines.qty_ordered IS 'Quantity ordered.';

--
-- Name: COLUMN erp_purchase_order_lines.unit_cost; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.erp_purchase_order_lines.unit_cost IS 'Unit cost on the order.';

--
-- Name: COLUMN erp_purchase_order_lines.status; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.erp_purchase_order_lines.status IS 'open, closed or cancelled; a cancelled line counts for no units_ordered.';

--
-- Name: COLUMN erp_purchase_order_lines.updated_at; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.erp_purchase_order_lines.updated_at IS 'The ERP''s last change of the record; an older record than the stored one is stale and skipped.';

--
-- Name: COLUMN erp_purchase_order_lines.deleted; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.erp_purchase_order_lines.deleted IS 'true: the ERP deleted the record (a tombstone); it counts for nothing downstream.';

--
-- Name: COLUMN erp_purchase_order_lines.load_id; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.erp_purchase_order_lines.load_id IS 'The load (loads.load_id) that last wrote the row.';

--
-- Name: erp_receipt_lines; Type: TABLE; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TABLE t_schema_dump.erp_receipt_lines (
    receipt_id text NOT NULL,
    line_no integer NOT NULL,
    po_id text,
    product_id text NOT NULL,
    location_id text NOT NULL,
    received_date date NOT NULL,
    qty_received numeric,
    updated_at timestamp with time zone NOT NULL,
    deleted boolean DEFAULT false NOT NULL,
    load_id bigint
);

ALTER TABLE t_schema_dump.erp_receipt_lines OWNER TO t_schema_dump_owner;

--
-- Name: TABLE erp_receipt_lines; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON TABLE t_schema_dump.erp_receipt_lines IS 'Receipt (receiving order) lines from the ERP (owner: the loader); placed in a week by received_date.';

--
-- Name: COLUMN erp_receipt_lines.receipt_id; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.erp_receipt_lines.receipt_id IS 'Receipt id (key, with line_no).';

--
-- Name: COLUMN erp_receipt_lines.line_no; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.erp_receipt_lines.line_no IS 'Line number within the receipt (key, with receipt_id).';

--
-- Name: COLUMN erp_receipt_lines.po_id; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.erp_receipt_lines.po_id IS 'The purchase order received against, if any.';

--
-- Name: COLUMN erp_receipt_lines.product_id; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.erp_receipt_lines.product_id IS 'Product received.';

--
-- Name: COLUMN erp_receipt_lines.location_id; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.erp_receipt_lines.location_id IS 'Location received at.';

--
-- Name: COLUMN erp_receipt_lines.received_date; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.erp_receipt_lines.received_date IS 'Date received: the date that places the line in a week.';

--
-- Name: COLUMN erp_receipt_lines.qty_received; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.erp_receipt_lines.qty_received IS 'Quantity received.';

--
-- Name: COLUMN erp_receipt_lines.updated_at; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.erp_receipt_lines.updated_at IS 'The ERP''s last change of the record; an older record than the stored one is stale and skipped.';

--
-- Name: COLUMN erp_receipt_lines.deleted; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.erp_receipt_lines.deleted IS 'true: the ERP deleted the record (a tombstone); it counts for nothing downstream.';

--
-- Name: COLUMN erp_receipt_lines.load_id; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.erp_receipt_lines.load_id IS 'The load (loads.load_id) that last wrote the row.';

--
-- Name: erp_sales_lines; Type: TABLE; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TABLE t_schema_dump.erp_sales_lines (
    txn_id text NOT NULL,
    line_no integer NOT NULL,
    product_id text NOT NULL,
    location_id text NOT NULL,
    business_date date NOT NULL,
    qty numeric,
    net_amount numeric,
    updated_at timestamp with time zone NOT NULL,
    deleted boolean DEFAULT false NOT NULL,
    load_id bigint
);

ALTER TABLE t_schema_dump.erp_sales_lines OWNER TO t_schema_dump_owner;

--
-- Name: TABLE erp_sales_lines; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON TABLE t_schema_dump.erp_sales_lines IS 'Store transaction lines from the ERP (owner: the loader); placed in a week by business_date. A negative qty is a return.';

--
-- Name: COLUMN erp_sales_lines.txn_id; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.erp_sales_lines.txn_id IS 'Transaction id (key, with line_no).';

--
-- Name: COLUMN erp_sales_lines.line_no; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.erp_sales_lines.line_no IS 'Line number within the transaction (key, with txn_id).';

--
-- Name: COLUMN erp_sales_lines.product_id; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.erp_sales_lines.product_id IS 'Product sold.';

--
-- Name: COLUMN erp_sales_lines.location_id; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.erp_sales_lines.location_id IS 'Store of the sale.';

--
-- Name: COLUMN erp_sales_lines.business_date; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.erp_sales_lines.business_date IS 'Business day: the date that places the line in a week.';

--
-- Name: COLUMN erp_sales_lines.qty; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.erp_sales_lines.qty IS 'Units sold; negative for a return.';

--
-- Name: COLUMN erp_sales_lines.net_amount; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.erp_sales_lines.net_amount IS 'Net amount; negative for a return.';

--
-- Name: COLUMN erp_sales_lines.updated_at; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.erp_sales_lines.updated_at IS 'The ERP''s last change of the record; an older record than the stored one is stale and skipped.';

--
-- Name: COLUMN erp_sales_lines.deleted; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.erp_sales_lines.deleted IS 'true: the ERP deleted the record (a tombstone); it counts for nothing downstream.';

--
-- Name: COLUMN erp_sales_lines.load_id; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.erp_sales_lines.load_id IS 'The load (loads.load_id) that last wrote the row.';

--
-- Name: features; Type: TABLE; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TABLE t_schema_dump.features (
    product_id text NOT NULL,
    location_id text NOT NULL,
    week_start date NOT NULL,
    week_index integer NOT NULL,
    units_sold double precision,
    units_returned double precision,
    revenue double precision,
    units_received double precision,
    units_ordered double precision,
    units_invoiced double precision,
    invoiced_amount double precision,
    sold_lag_1 double precision,
    sold_lag_2 double precision,
    sold_lag_3 double precision,
    sold_lag_4 double precision,
    sold_lag_5 double precision,
    sold_lag_6 double precision,
    sold_lag_7 double precision,
    sold_lag_8 double precision,
    sold_lag_9 double precision,
    sold_lag_10 double precision,
    sold_lag_11 double precision,
    sold_lag_12 double precision,
    sold_lag_13 double precision,
    sold_lag_14 double precision,
    ewm_units_sold_s2 double precision,
    ewm_units_sold_s4 double precision,
    ewm_units_sold_s8 double precision,
    ewm_units_sold_s13 double precision,
    ewm_revenue_s2 double precision,
    ewm_revenue_s4 double precision,
    ewm_revenue_s8 double precision,
    ewm_revenue_s13 double precision,
    ewm_units_received_s2 double precision,
    ewm_units_received_s4 double precision,
    ewm_units_received_s8 double precision,
    ewm_units_received_s13 double precision,
    ewm_units_returned_s2 double precision,
    ewm_units_returned_s4 double precision,
    ewm_units_returned_s8 double precision,
    ewm_units_returned_s13 double precision,
    sold_mean_4 double precision,
    sold_mean_8 double precision,
    sold_mean_13 double precision,
    sold_mean_26 double precision,
    sold_mean_52 double precision,
    sold_std_4 double precision,
    sold_std_8 double precision,
    sold_std_13 double precision,
    sold_std_26 double precision,
    sold_std_52 double precision,
    sold_max_13 double precision,
    sold_max_52 double precision,
    sold_zero_share_13 double precision,
    revenue_mean_13 double precision,
    sold_slope_4 double precision,
    sold_slope_8 double precision,
    sold_slope_13 double precision,
    sold_slope_26 double precision,
    cum_units_sold double precision,
    cum_units_returned double precision,
    cum_revenue double precision,
    cum_units_received double precision,
    cum_units_ordered double precision,
    cum_units_invoiced double precision,
    ytd_units_sold double precision,
    ytd_revenue double precision,
    weeks_since_first_sale integer,
    weeks_since_last_sale integer,
    last_invoice_unit_cost double precision
);

ALTER TABLE t_schema_dump.features OWNER TO t_schema_dump_owner;

--
-- Name: recommendations; Type: TABLE; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TABLE t_schema_dump.recommendations (
    product_id text NOT NULL,
    location_id text NOT NULL,
    as_of_week date,
    demand_class text,
    method text,
    forecast_per_week double precision,
    sigma double precision,
    lead_time_weeks double precision,
    review_period_weeks integer,
    service_level double precision,
    z double precision,
    safety_stock double precision,
    order_up_to double precision,
    inventory_position double precision,
    raw_qty double precision,
    recommended_qty double precision,
    reason text,
    qty_changed_at timestamp with time zone,
    computed_at timestamp with time zone,
    decision text DEFAULT 'pending'::text NOT NULL,
    approved_qty double precision,
    decided_by text,
    decided_at timestamp with time zone,
    note text,
    CONSTRAINT recommendations_approved_qty_not_negative CHECK (((approved_qty >= (0)::double precision) AND (approved_qty < 'Infinity'::double precision))),
    CONSTRAINT recommendations_decision_known CHECK ((decision = ANY (ARRAY['pending'::text, 'approved'::text, 'rejected'::text])))
);

ALTER TABLE t_schema_dump.recommendations OWNER TO t_schema_dump_owner;

--
-- Name: TABLE recommendations; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON TABLE t_schema_dump.recommendations IS 'The order recommendation per key (pipeline columns), and the UI''s decision on it (decision .. note, owner: the UI).';

--
-- Name: COLUMN recommendations.product_id; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.recommendations.product_id IS 'The key''s product.';

--
-- Name: COLUMN recommendations.location_id; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.recommendations.location_id IS 'The key''s location.';

--
-- Name: COLUMN recommendations.as_of_week; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.recommendations.as_of_week IS 'The last complete week the recommendation was computed from.';

--
-- Name: COLUMN recommendations.demand_class; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.recommendations.demand_class IS 'The key''s demand pattern.';

--
-- Name: COLUMN recommendations.method; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.recommendations.method IS 'The forecasting method used.';

--
-- Name: COLUMN recommendations.forecast_per_week; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.recommendations.forecast_per_week IS 'Forecast units per week.';

--
-- Name: COLUMN recommendations.sigma; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.recommendations.sigma IS 'Standard deviation of the weekly forecast error.';

--
-- Name: COLUMN recommendations.lead_time_weeks; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.recommendations.lead_time_weeks IS 'Effective lead time, in weeks.';

--
-- Name: COLUMN recommendations.review_period_weeks; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.recommendations.review_period_weeks IS 'Effective review period, in weeks.';

--
-- Name: COLUMN recommendations.service_level; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.recommendations.service_level IS 'Effective service level.';

--
-- Name: COLUMN recommendations.z; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.recommendations.z IS 'Standard normal quantile of the service level.';

--
-- Name: COLUMN recommendations.safety_stock; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.recommendations.safety_stock IS 'Safety stock: z * sigma * sqrt(lead time + review period).';

--
-- Name: COLUMN recommendations.order_up_to; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.recommendations.order_up_to IS 'Order-up-to level: forecast over lead time and review period plus safety stock.';

--
-- Name: COLUMN recommendations.inventory_position; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.recommendations.inventory_position IS 'Estimated on hand plus on order, as of as_of_week.';

--
-- Name: COLUMN recommendations.raw_qty; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.recommendations.raw_qty IS 'order_up_to - inventory_position, before minimums and multiples.';

--
-- Name: COLUMN recommendations.recommended_qty; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.recommendations.recommended_qty IS 'Quantity to order: raw_qty rounded up to the order multiple and minimum, 0 when not needed or not allowed.';

--
-- Name: COLUMN recommendations.reason; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.recommendations.reason IS 'Why the quantity is what it is (for example location_disabled, discontinued).';

--
-- Name: COLUMN recommendations.qty_changed_at; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.recommendations.qty_changed_at IS 'When recommended_qty last changed.';

--
-- Name: COLUMN recommendations.computed_at; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.recommendations.computed_at IS 'When the pipeline last computed the row.';

--
-- Name: COLUMN recommendations.decision; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.recommendations.decision IS 'The UI''s decision on the recommendation (owner: the UI).';

--
-- Name: COLUMN recommendations.approved_qty; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.recommendations.approved_qty IS 'The quantity the UI approved (owner: the UI).';

--
-- Name: COLUMN recommendations.decided_by; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.recommendations.decided_by IS 'Who decided (owner: the UI).';

--
-- Name: COLUMN recommendations.decided_at; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.recommendations.decided_at IS 'When it was decided (owner: the UI).';

--
-- Name: COLUMN recommendations.note; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.recommendations.note IS 'The UI''s note (owner: the UI).';

--
-- Name: forecasts; Type: VIEW; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE VIEW t_schema_dump.forecasts AS
 SELECT r.product_id,
    r.location_id,
    r.as_of_week,
    (r.as_of_week + (7 * h.h)) AS target_week,
    r.forecast_per_week AS yhat,
    r.method,
    r.demand_class
   FROM ((t_schema_dump.recommendations r
     CROSS JOIN t_schema_dump.settings s)
     CROSS JOIN LATERAL generate_series(1, s.horizon_weeks) h(h))
  WHERE (r.reason IS DISTINCT FROM 'inactive'::text);

ALTER TABLE t_schema_dump.forecasts OWNER TO t_schema_dump_owner;

--
-- Name: VIEW forecasts; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON VIEW t_schema_dump.forecasts IS 'The forecast per key and target week, for the horizon_weeks weeks after as_of_week (computed by the pipeline).';

--
-- Name: COLUMN forecasts.product_id; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.forecasts.product_id IS 'The key''s product.';

--
-- Name: COLUMN forecasts.location_id; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.forecasts.location_id IS 'The key''s location.';

--
-- Name: COLUMN forecasts.as_of_week; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.forecasts.as_of_week IS 'The last complete week the forecast was made from (end_week).';

--
-- Name: COLUMN forecasts.target_week; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.forecasts.target_week IS 'The week forecast, 1 to horizon_weeks weeks after as_of_week.';

--
-- Name: COLUMN forecasts.yhat; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.forecasts.yhat IS 'Forecast units_sold of the target week.';

--
-- Name: COLUMN forecasts.method; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.forecasts.method IS 'The forecasting method used (SES or Croston-SBA).';

--
-- Name: COLUMN forecasts.demand_class; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.forecasts.demand_class IS 'The key''s demand pattern, which picks the method.';

--
-- Name: key_attributes; Type: VIEW; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE VIEW t_schema_dump.key_attributes AS
 SELECT k.product_id,
    k.location_id,
    p.category,
    p.brand,
    p.supplier_id,
    p.unit_price,
    p.unit_cost,
    COALESCE(p.discontinued, false) AS discontinued,
    COALESCE(a.assorted, true) AS assorted,
    COALESCE(l.location_enabled, true) AS location_enabled,
    COALESCE(s.lead_time_days, st.default_lead_time_days) AS lead_time_days,
    COALESCE(s.min_order_qty, (1)::double precision) AS min_order_qty,
    COALESCE(s.order_multiple, (1)::double precision) AS order_multiple,
    COALESCE(s.review_period_weeks, 1) AS review_period_weeks,
    COALESCE(p.service_level, st.default_service_level) AS service_level
   FROM (((((t_schema_dump._private_feature_keys k
     CROSS JOIN t_schema_dump.settings st)
     LEFT JOIN LATERAL ( SELECT e.category,
            e.brand,
            e.supplier_id,
            e.unit_price,
            e.unit_cost,
            e.discontinued,
            e.service_level
           FROM t_schema_dump.effective_products e
          WHERE (e.product_id = k.product_id)
         OFFSET 0) p ON (true))
     LEFT JOIN LATERAL ( SELECT e.location_enabled
           FROM t_schema_dump.effective_locations e
          WHERE (e.location_id = k.location_id)
         OFFSET 0) l ON (true))
     LEFT JOIN LATERAL ( SELECT e.lead_time_days,
            e.min_order_qty,
            e.order_multiple,
            e.review_period_weeks
           FROM t_schema_dump.effective_suppliers e
          WHERE (e.supplier_id = p.supplier_id)
         OFFSET 0) s ON (true))
     LEFT JOIN LATERAL ( SELECT e.assorted
           FROM t_schema_dump.effective_assortments e
          WHERE ((e.product_id = k.product_id) AND (e.location_id = k.location_id))
         OFFSET 0) a ON (true));

ALTER TABLE t_schema_dump.key_attributes OWNER TO t_schema_dump_owner;

--
-- Name: loader_config; Type: TABLE; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TABLE t_schema_dump.loader_config (
    singleton boolean DEFAULT true NOT NULL,
    api_token text,
    lookback interval DEFAULT '00:10:00'::interval NOT NULL,
    CONSTRAINT loader_config_lookback_not_negative CHECK ((lookback >= '00:00:00'::interval)),
    CONSTRAINT loader_config_singleton_check CHECK (singleton)
);

ALTER TABLE t_schema_dump.loader_config OWNER TO t_schema_dump_owner;

--
-- Name: loads; Type: TABLE; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TABLE t_schema_dump.loads (
    load_id bigint NOT NULL,
    source text NOT NULL,
    entity text NOT NULL,
    started_at timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
    finished_at timestamp with time zone,
    status text DEFAULT 'running'::text NOT NULL,
    read_count bigint DEFAULT 0 NOT NULL,
    applied_count bigint DEFAULT 0 NOT NULL,
    unchanged_count bigint DEFAULT 0 NOT NULL,
    stale_count bigint DEFAULT 0 NOT NULL,
    rejected_count bigint DEFAULT 0 NOT NULL,
    message text,
    retries bigint DEFAULT 0 NOT NULL,
    CONSTRAINT loads_status_valid CHECK ((status = ANY (ARRAY['running'::text, 'succeeded'::text, 'failed'::text, 'interrupted'::text])))
);

ALTER TABLE t_schema_dump.loads OWNER TO t_schema_dump_owner;

--
-- Name: TABLE loads; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON TABLE t_schema_dump.loads IS 'One row per entity loaded (pyloader load): counts and outcome. Kept for retention_policy.loads_kept.';

--
-- Name: COLUMN loads.load_id; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.loads.load_id IS 'The load''s id.';

--
-- Name: COLUMN loads.source; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.loads.source IS 'Where the records came from: the API''s URL or a file.';

--
-- Name: COLUMN loads.entity; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.loads.entity IS 'The entity loaded (products, sales_lines, ...).';

--
-- Name: COLUMN loads.started_at; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.loads.started_at IS 'When it started.';

--
-- Name: COLUMN loads.finished_at; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.loads.finished_at IS 'When it ended; null while running.';

--
-- Name: COLUMN loads.status; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.loads.status IS 'running, succeeded or failed (or interrupted).';

--
-- Name: COLUMN loads.read_count; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.loads.read_count IS 'Records read.';

--
-- Name: COLUMN loads.applied_count; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.loads.applied_count IS 'Records that changed a row.';

--
-- Name: COLUMN loads.unchanged_count; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.loads.unchanged_count IS 'Records equal to the stored row (a replay).';

--
-- Name: COLUMN loads.stale_count; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.loads.stale_count IS 'Records older than the stored row, skipped.';

--
-- Name: COLUMN loads.rejected_count; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.loads.rejected_count IS 'Records rejected (see rejects).';

--
-- Name: COLUMN loads.message; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.loads.message IS 'Why it failed, or what it reported.';

--
-- Name: COLUMN loads.retries; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.loads.retries IS 'Requests the load retried (429, 5xx, broken connections).';

--
-- Name: loads_load_id_seq; Type: SEQUENCE; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE SEQUENCE t_schema_dump.loads_load_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER TABLE t_schema_dump.loads_load_id_seq OWNER TO t_schema_dump_owner;

--
-- Name: loads_load_id_seq; Type: SEQUENCE OWNED BY; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

ALTER SEQUENCE t_schema_dump.loads_load_id_seq OWNED BY t_schema_dump.loads.load_id;

--
-- Name: master_file; Type: VIEW; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE VIEW t_schema_dump.master_file AS
 SELECT f.product_id,
    f.location_id,
    f.week_start,
    (EXTRACT(isoyear FROM f.week_start))::integer AS iso_year,
    (EXTRACT(week FROM f.week_start))::integer AS iso_week,
    (EXTRACT(month FROM f.week_start))::integer AS month,
    (EXTRACT(quarter FROM f.week_start))::integer AS quarter,
    f.units_sold,
    f.units_returned,
    f.revenue,
    f.units_received,
    f.units_ordered,
    f.units_invoiced,
    f.invoiced_amount,
    f.sold_lag_1,
    f.sold_lag_2,
    f.sold_lag_3,
    f.sold_lag_4,
    f.sold_lag_5,
    f.sold_lag_6,
    f.sold_lag_7,
    f.sold_lag_8,
    f.sold_lag_9,
    f.sold_lag_10,
    f.sold_lag_11,
    f.sold_lag_12,
    f.sold_lag_13,
    f.sold_lag_14,
    f.ewm_units_sold_s2,
    f.ewm_units_sold_s4,
    f.ewm_units_sold_s8,
    f.ewm_units_sold_s13,
    f.ewm_revenue_s2,
    f.ewm_revenue_s4,
    f.ewm_revenue_s8,
    f.ewm_revenue_s13,
    f.ewm_units_received_s2,
    f.ewm_units_received_s4,
    f.ewm_units_received_s8,
    f.ewm_units_received_s13,
    f.ewm_units_returned_s2,
    f.ewm_units_returned_s4,
    f.ewm_units_returned_s8,
    f.ewm_units_returned_s13,
    f.sold_mean_4,
    f.sold_mean_8,
    f.sold_mean_13,
    f.sold_mean_26,
    f.sold_mean_52,
    f.sold_std_4,
    f.sold_std_8,
    f.sold_std_13,
    f.sold_std_26,
    f.sold_std_52,
    f.sold_max_13,
    f.sold_max_52,
    f.sold_zero_share_13,
    f.revenue_mean_13,
    f.sold_slope_4,
    f.sold_slope_8,
    f.sold_slope_13,
    f.sold_slope_26,
    f.cum_units_sold,
    f.cum_units_returned,
    f.cum_revenue,
    f.cum_units_received,
    f.cum_units_ordered,
    f.cum_units_invoiced,
    f.ytd_units_sold,
    f.ytd_revenue,
    ((f.cum_units_received - f.cum_units_sold) + f.cum_units_returned) AS est_on_hand,
    GREATEST((0)::double precision, (f.cum_units_ordered - f.cum_units_received)) AS on_order,
    f.weeks_since_first_sale,
    f.weeks_since_last_sale,
        CASE
            WHEN (f.ewm_units_sold_s4 > (0)::double precision) THEN (((f.cum_units_received - f.cum_units_sold) + f.cum_units_returned) / f.ewm_units_sold_s4)
            ELSE NULL::double precision
        END AS weeks_of_cover,
        CASE
            WHEN (f.sold_mean_13 <> (0)::double precision) THEN (f.revenue_mean_13 / f.sold_mean_13)
            ELSE NULL::double precision
        END AS avg_price_13,
    f.last_invoice_unit_cost,
    a.category,
    a.brand,
    a.supplier_id,
    a.unit_price,
    a.unit_cost,
    a.discontinued,
    a.assorted,
    a.location_enabled,
    a.lead_time_days,
    a.min_order_qty,
    a.order_multiple,
    a.review_period_weeks,
    a.service_level
   FROM (t_schema_dump.features f
     JOIN t_schema_dump.key_attributes a ON (((a.product_id = f.product_id) AND (a.location_id = f.location_id))));

ALTER TABLE t_schema_dump.master_file OWNER TO t_schema_dump_owner;

--
-- Name: VIEW master_file; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON VIEW t_schema_dump.master_file IS 'One row per key (product, location) and week from the key''s first week to end_week: weekly facts, lags, moving statistics, cumulative and derived figures (computed by the pipeline), and the key''s effective attributes as they are now.';

--
-- Name: COLUMN master_file.product_id; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.master_file.product_id IS 'The key''s product.';

--
-- Name: COLUMN master_file.location_id; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.master_file.location_id IS 'The key''s location.';

--
-- Name: COLUMN master_file.week_start; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.master_file.week_start IS 'Monday of the week.';

--
-- Name: COLUMN master_file.iso_year; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.master_file.iso_year IS 'ISO-8601 year of week_start.';

--
-- Name: COLUMN master_file.iso_week; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.master_file.iso_week IS 'ISO-8601 week of week_start.';

--
-- Name: COLUMN master_file.month; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.master_file.month IS 'Month (1-12) of week_start.';

--
-- Name: COLUMN master_file.quarter; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.master_file.quarter IS 'Quarter (1-4) of week_start.';

--
-- Name: COLUMN master_file.units_sold; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.master_file.units_sold IS 'Sum of qty over the week''s sales lines with qty > 0.';

--
-- Name: COLUMN master_file.units_returned; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.master_file.units_returned IS 'Minus the sum of qty over the week''s sales lines with qty < 0 (positive).';

--
-- Name: COLUMN master_file.revenue; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.master_file.revenue IS 'Sum of net_amount over the week''s sales lines.';

--
-- Name: COLUMN master_file.units_received; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.master_file.units_received IS 'Sum of qty_received over the week''s receipt lines.';

--
-- Name: COLUMN master_file.units_ordered; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.master_file.units_ordered IS 'Sum of qty_ordered over the week''s purchase order lines not cancelled.';

--
-- Name: COLUMN master_file.units_invoiced; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.master_file.units_invoiced IS 'Sum of qty_invoiced over the week''s invoice lines.';

--
-- Name: COLUMN master_file.invoiced_amount; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.master_file.invoiced_amount IS 'Sum of line_amount over the week''s invoice lines.';

--
-- Name: COLUMN master_file.sold_lag_1; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.master_file.sold_lag_1 IS 'units_sold of the week 1 week(s) before; null before the key''s first week.';

--
-- Name: COLUMN master_file.sold_lag_2; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.master_file.sold_lag_2 IS 'units_sold of the week 2 week(s) before; null before the key''s first week.';

--
-- Name: COLUMN master_file.sold_lag_3; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.master_file.sold_lag_3 IS 'units_sold of the week 3 week(s) before; null before the key''s first week.';

--
-- Name: COLUMN master_file.sold_lag_4; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.master_file.sold_lag_4 IS 'units_sold of the week 4 week(s) before; null before the key''s first week.';

--
-- Name: COLUMN master_file.sold_lag_5; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.master_file.sold_lag_5 IS 'units_sold of the week 5 week(s) before; null before the key''s first week.';

--
-- Name: COLUMN master_file.sold_lag_6; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.master_file.sold_lag_6 IS 'units_sold of the week 6 week(s) before; null before the key''s first week.';

--
-- Name: COLUMN master_file.sold_lag_7; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.master_file.sold_lag_7 IS 'units_sold of the week 7 week(s) before; null before the key''s first week.';

--
-- Name: COLUMN master_file.sold_lag_8; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.master_file.sold_lag_8 IS 'units_sold of the week 8 week(s) before; null before the key''s first week.';

--
-- Name: COLUMN master_file.sold_lag_9; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.master_file.sold_lag_9 IS 'units_sold of the week 9 week(s) before; null before the key''s first week.';

--
-- Name: COLUMN master_file.sold_lag_10; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.master_file.sold_lag_10 IS 'units_sold of the week 10 week(s) before; null before the key''s first week.';

--
-- Name: COLUMN master_file.sold_lag_11; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.master_file.sold_lag_11 IS 'units_sold of the week 11 week(s) before; null before the key''s first week.';

--
-- Name: COLUMN master_file.sold_lag_12; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.master_file.sold_lag_12 IS 'units_sold of the week 12 week(s) before; null before the key''s first week.';

--
-- Name: COLUMN master_file.sold_lag_13; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.master_file.sold_lag_13 IS 'units_sold of the week 13 week(s) before; null before the key''s first week.';

--
-- Name: COLUMN master_file.sold_lag_14; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.master_file.sold_lag_14 IS 'units_sold of the week 14 week(s) before; null before the key''s first week.';

--
-- Name: COLUMN master_file.ewm_units_sold_s2; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.master_file.ewm_units_sold_s2 IS 'Exponentially weighted mean of units_sold, span 2 (a = 2/(span+1), from the key''s first week).';

--
-- Name: COLUMN master_file.ewm_units_sold_s4; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.master_file.ewm_units_sold_s4 IS 'Exponentially weighted mean of units_sold, span 4 (a = 2/(span+1), from the key''s first week).';

--
-- Name: COLUMN master_file.ewm_units_sold_s8; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.master_file.ewm_units_sold_s8 IS 'Exponentially weighted mean of units_sold, span 8 (a = 2/(span+1), from the key''s first week).';

--
-- Name: COLUMN master_file.ewm_units_sold_s13; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.master_file.ewm_units_sold_s13 IS 'Exponentially weighted mean of units_sold, span 13 (a = 2/(span+1), from the key''s first week).';

--
-- Name: COLUMN master_file.ewm_revenue_s2; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.master_file.ewm_revenue_s2 IS 'Exponentially weighted mean of revenue, span 2 (a = 2/(span+1), from the key''s first week).';

--
-- Name: COLUMN master_file.ewm_revenue_s4; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.master_file.ewm_revenue_s4 IS 'Exponentially weighted mean of revenue, span 4 (a = 2/(span+1), from the key''s first week).';

--
-- Name: COLUMN master_file.ewm_revenue_s8; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.master_file.ewm_revenue_s8 IS 'Exponentially weighted mean of revenue, span 8 (a = 2/(span+1), from the key''s first week).';

--
-- Name: COLUMN master_file.ewm_revenue_s13; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.master_file.ewm_revenue_s13 IS 'Exponentially weighted mean of revenue, span 13 (a = 2/(span+1), from the key''s first week).';

--
-- Name: COLUMN master_file.ewm_units_received_s2; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.master_file.ewm_units_received_s2 IS 'Exponentially weighted mean of units_received, span 2 (a = 2/(span+1), from the key''s first week).';

--
-- Name: COLUMN master_file.ewm_units_received_s4; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.master_file.ewm_units_received_s4 IS 'Exponentially weighted mean of units_received, span 4 (a = 2/(span+1), from the key''s first week).';

--
-- Name: COLUMN master_file.ewm_units_received_s8; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.master_file.ewm_units_received_s8 IS 'Exponentially weighted mean of units_received, span 8 (a = 2/(span+1), from the key''s first week).';

--
-- Name: COLUMN master_file.ewm_units_received_s13; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.master_file.ewm_units_received_s13 IS 'Exponentially weighted mean of units_received, span 13 (a = 2/(span+1), from the key''s first week).';

--
-- Name: COLUMN master_file.ewm_units_returned_s2; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.master_file.ewm_units_returned_s2 IS 'Exponentially weighted mean of units_returned, span 2 (a = 2/(span+1), from the key''s first week).';

--
-- Name: COLUMN master_file.ewm_units_returned_s4; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.master_file.ewm_units_returned_s4 IS 'Exponentially weighted mean of units_returned, span 4 (a = 2/(span+1), from the key''s first week).';

--
-- Name: COLUMN master_file.ewm_units_returned_s8; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.master_file.ewm_units_returned_s8 IS 'Exponentially weighted mean of units_returned, span 8 (a = 2/(span+1), from the key''s first week).';

--
-- Name: COLUMN master_file.ewm_units_returned_s13; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.master_file.ewm_units_returned_s13 IS 'Exponentially weighted mean of units_returned, span 13 (a = 2/(span+1), from the key''s first week).';

--
-- Name: COLUMN master_file.sold_mean_4; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.master_file.sold_mean_4 IS 'Mean of units_sold over the trailing 4 weeks.';

--
-- Name: COLUMN master_file.sold_mean_8; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.master_file.sold_mean_8 IS 'Mean of units_sold over the trailing 8 weeks.';

--
-- Name: COLUMN master_file.sold_mean_13; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.master_file.sold_mean_13 IS 'Mean of units_sold over the trailing 13 weeks.';

--
-- Name: COLUMN master_file.sold_mean_26; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.master_file.sold_mean_26 IS 'Mean of units_sold over the trailing 26 weeks.';

--
-- Name: COLUMN master_file.sold_mean_52; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.master_file.sold_mean_52 IS 'Mean of units_sold over the trailing 52 weeks.';

--
-- Name: COLUMN master_file.sold_std_4; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.master_file.sold_std_4 IS 'Sample standard deviation of units_sold over the trailing 4 weeks; null under 2 weeks.';

--
-- Name: COLUMN master_file.sold_std_8; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.master_file.sold_std_8 IS 'Sample standard deviation of units_sold over the trailing 8 weeks; null under 2 weeks.';

--
-- Name: COLUMN master_file.sold_std_13; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.master_file.sold_std_13 IS 'Sample standard deviation of units_sold over the trailing 13 weeks; null under 2 weeks.';

--
-- Name: COLUMN master_file.sold_std_26; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.master_file.sold_std_26 IS 'Sample standard deviation of units_sold over the trailing 26 weeks; null under 2 weeks.';

--
-- Name: COLUMN master_file.sold_std_52; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.master_file.sold_std_52 IS 'Sample standard deviation of units_sold over the trailing 52 weeks; null under 2 weeks.';

--
-- Name: COLUMN master_file.sold_max_13; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.master_file.sold_max_13 IS 'Maximum of units_sold over the trailing 13 weeks.';

--
-- Name: COLUMN master_file.sold_max_52; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.master_file.sold_max_52 IS 'Maximum of units_sold over the trailing 52 weeks.';

--
-- Name: COLUMN master_file.sold_zero_share_13; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.master_file.sold_zero_share_13 IS 'Share of the trailing 13 weeks whose units_sold is 0.';

--
-- Name: COLUMN master_file.revenue_mean_13; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.master_file.revenue_mean_13 IS 'Mean of revenue over the trailing 13 weeks.';

--
-- Name: COLUMN master_file.sold_slope_4; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.master_file.sold_slope_4 IS 'Least-squares slope of units_sold per week over the trailing 4 weeks; null under 2 weeks.';

--
-- Name: COLUMN master_file.sold_slope_8; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.master_file.sold_slope_8 IS 'Least-squares slope of units_sold per week over the trailing 8 weeks; null under 2 weeks.';

--
-- Name: COLUMN master_file.sold_slope_13; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.master_file.sold_slope_13 IS 'Least-squares slope of units_sold per week over the trailing 13 weeks; null under 2 weeks.';

--
-- Name: COLUMN master_file.sold_slope_26; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.master_file.sold_slope_26 IS 'Least-squares slope of units_sold per week over the trailing 26 weeks; null under 2 weeks.';

--
-- Name: COLUMN master_file.cum_units_sold; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.master_file.cum_units_sold IS 'Running sum of units_sold from the key''s first week through this one.';

--
-- Name: COLUMN master_file.cum_units_returned; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.master_file.cum_units_returned IS 'Running sum of units_returned from the key''s first week through this one.';

--
-- Name: COLUMN master_file.cum_revenue; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.master_file.cum_revenue IS 'Running sum of revenue from the key''s first week through this one.';

--
-- Name: COLUMN master_file.cum_units_received; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.master_file.cum_units_received IS 'Running sum of units_received from the key''s first week through this one.';

--
-- Name: COLUMN master_file.cum_units_ordered; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.master_file.cum_units_ordered IS 'Running sum of units_ordered from the key''s first week through this one.';

--
-- Name: COLUMN master_file.cum_units_invoiced; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.master_file.cum_units_invoiced IS 'Running sum of units_invoiced from the key''s first week through this one.';

--
-- Name: COLUMN master_file.ytd_units_sold; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.master_file.ytd_units_sold IS 'Running sum of units_sold over the key''s weeks of the same calendar year.';

--
-- Name: COLUMN master_file.ytd_revenue; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.master_file.ytd_revenue IS 'Running sum of revenue over the key''s weeks of the same calendar year.';

--
-- Name: COLUMN master_file.est_on_hand; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.master_file.est_on_hand IS 'cum_units_received - cum_units_sold + cum_units_returned.';

--
-- Name: COLUMN master_file.on_order; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.master_file.on_order IS 'greatest(0, cum_units_ordered - cum_units_received).';

--
-- Name: COLUMN master_file.weeks_since_first_sale; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.master_file.weeks_since_first_sale IS 'Weeks since the first week with units_sold > 0; null before it.';

--
-- Name: COLUMN master_file.weeks_since_last_sale; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.master_file.weeks_since_last_sale IS 'Weeks since the latest week up to this one with units_sold > 0; null before any.';

--
-- Name: COLUMN master_file.weeks_of_cover; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.master_file.weeks_of_cover IS 'est_on_hand / ewm_units_sold_s4 when that is > 0, else null.';

--
-- Name: COLUMN master_file.avg_price_13; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.master_file.avg_price_13 IS 'Revenue over units_sold of the trailing 13 weeks; null when no unit was sold.';

--
-- Name: COLUMN master_file.last_invoice_unit_cost; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.master_file.last_invoice_unit_cost IS 'line_amount / qty_invoiced of the key''s latest invoice line up to this week with qty_invoiced > 0; null when none.';

--
-- Name: COLUMN master_file.category; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.master_file.category IS 'Effective: the product''s category now.';

--
-- Name: COLUMN master_file.brand; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.master_file.brand IS 'Effective: the product''s brand now.';

--
-- Name: COLUMN master_file.supplier_id; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.master_file.supplier_id IS 'Effective: the product''s supplier now.';

--
-- Name: COLUMN master_file.unit_price; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.master_file.unit_price IS 'Effective: the ERP''s unit price now.';

--
-- Name: COLUMN master_file.unit_cost; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.master_file.unit_cost IS 'Effective: the ERP''s unit cost now.';

--
-- Name: COLUMN master_file.discontinued; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.master_file.discontinued IS 'Effective: discontinued now (effective_products).';

--
-- Name: COLUMN master_file.assorted; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.master_file.assorted IS 'Effective: assorted now (effective_assortments).';

--
-- Name: COLUMN master_file.location_enabled; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.master_file.location_enabled IS 'Effective: the location enabled now (effective_locations).';

--
-- Name: COLUMN master_file.lead_time_days; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.master_file.lead_time_days IS 'Effective: the supplier''s lead time now (effective_suppliers).';

--
-- Name: COLUMN master_file.min_order_qty; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.master_file.min_order_qty IS 'Effective: the supplier''s minimum order quantity now.';

--
-- Name: COLUMN master_file.order_multiple; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.master_file.order_multiple IS 'Effective: the supplier''s order multiple now.';

--
-- Name: COLUMN master_file.review_period_weeks; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.master_file.review_period_weeks IS 'Effective: the supplier''s review period now.';

--
-- Name: COLUMN master_file.service_level; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.master_file.service_level IS 'Effective: the product''s service level now.';

--
-- Name: queue_status; Type: VIEW; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE VIEW t_schema_dump.queue_status AS
 SELECT ( SELECT count(*) AS count
           FROM ( SELECT DISTINCT _private_dirty_keys_1.product_id,
                    _private_dirty_keys_1.location_id
                   FROM t_schema_dump._private_dirty_keys _private_dirty_keys_1) d) AS queue_depth,
    count(*) AS queued_marks,
    min(_private_dirty_keys.marked_at) AS oldest_mark,
    (EXTRACT(epoch FROM (now() - min(_private_dirty_keys.marked_at))))::double precision AS oldest_dirty_age_seconds,
    ( SELECT _private_pipeline_state.end_week
           FROM t_schema_dump._private_pipeline_state) AS end_week,
    ( SELECT count(*) AS count
           FROM t_schema_dump._private_feature_keys) AS known_keys,
    ( SELECT count(*) AS count
           FROM t_schema_dump._private_failed_keys) AS failed_keys
   FROM t_schema_dump._private_dirty_keys;

ALTER TABLE t_schema_dump.queue_status OWNER TO t_schema_dump_owner;

--
-- Name: rejects; Type: TABLE; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TABLE t_schema_dump.rejects (
    reject_id bigint NOT NULL,
    load_id bigint NOT NULL,
    entity text NOT NULL,
    raw text NOT NULL,
    reason text NOT NULL,
    rejected_at timestamp with time zone DEFAULT now() NOT NULL
);

ALTER TABLE t_schema_dump.rejects OWNER TO t_schema_dump_owner;

--
-- Name: TABLE rejects; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON TABLE t_schema_dump.rejects IS 'ERP records a load could not apply, raw, with the reason. Kept for retention_policy.rejects_kept.';

--
-- Name: COLUMN rejects.reject_id; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.rejects.reject_id IS 'The reject''s id.';

--
-- Name: COLUMN rejects.load_id; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.rejects.load_id IS 'The load that rejected it.';

--
-- Name: COLUMN rejects.entity; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.rejects.entity IS 'The entity of the record.';

--
-- Name: COLUMN rejects.raw; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.rejects.raw IS 'The record as received.';

--
-- Name: COLUMN rejects.reason; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.rejects.reason IS 'Why it was rejected.';

--
-- Name: COLUMN rejects.rejected_at; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.rejects.rejected_at IS 'When.';

--
-- Name: rejects_reject_id_seq; Type: SEQUENCE; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE SEQUENCE t_schema_dump.rejects_reject_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER TABLE t_schema_dump.rejects_reject_id_seq OWNER TO t_schema_dump_owner;

--
-- Name: rejects_reject_id_seq; Type: SEQUENCE OWNED BY; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

ALTER SEQUENCE t_schema_dump.rejects_reject_id_seq OWNED BY t_schema_dump.rejects.reject_id;

--
-- Name: retention_policy; Type: TABLE; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TABLE t_schema_dump.retention_policy (
    singleton boolean DEFAULT true NOT NULL,
    runs_kept interval DEFAULT '30 days'::interval NOT NULL,
    loads_kept interval DEFAULT '90 days'::interval NOT NULL,
    rejects_kept interval DEFAULT '30 days'::interval NOT NULL,
    conflicts_kept interval DEFAULT '90 days'::interval NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT retention_policy_conflicts_kept_at_least_a_day CHECK ((conflicts_kept >= '1 day'::interval)),
    CONSTRAINT retention_policy_loads_kept_at_least_a_day CHECK ((loads_kept >= '1 day'::interval)),
    CONSTRAINT retention_policy_rejects_kept_at_least_a_day CHECK ((rejects_kept >= '1 day'::interval)),
    CONSTRAINT retention_policy_runs_kept_at_least_a_day CHECK ((runs_kept >= '1 day'::interval)),
    CONSTRAINT retention_policy_singleton_check CHECK (singleton)
);

ALTER TABLE t_schema_dump.retention_policy OWNER TO t_schema_dump_owner;

--
-- Name: TABLE retention_policy; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON TABLE t_schema_dump.retention_policy IS 'How long runs, loads, rejects and acknowledged conflicts are kept, one row (owner: the operator); apply_retention() deletes what is older.';

--
-- Name: COLUMN retention_policy.singleton; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.retention_policy.singleton IS 'Always true: the table has one row.';

--
-- Name: COLUMN retention_policy.runs_kept; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.retention_policy.runs_kept IS 'Finished runs older than this (by finished_at) are deleted (default 30 days).';

--
-- Name: COLUMN retention_policy.loads_kept; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.retention_policy.loads_kept IS 'Finished loads older than this (by finished_at) are deleted with their rejects (default 90 days).';

--
-- Name: COLUMN retention_policy.rejects_kept; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.retention_policy.rejects_kept IS 'Rejects older than this (by rejected_at) are deleted (default 30 days).';

--
-- Name: COLUMN retention_policy.conflicts_kept; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.retention_policy.conflicts_kept IS 'Acknowledged conflicts older than this (by acknowledged_at) are deleted (default 90 days).';

--
-- Name: COLUMN retention_policy.updated_at; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.retention_policy.updated_at IS 'When the policy was last changed.';

--
-- Name: runs; Type: TABLE; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TABLE t_schema_dump.runs (
    run_id bigint NOT NULL,
    trigger text NOT NULL,
    started_at timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
    finished_at timestamp with time zone,
    status text DEFAULT 'running'::text NOT NULL,
    keys_done bigint DEFAULT 0 NOT NULL,
    keys_failed bigint DEFAULT 0 NOT NULL,
    rows_written bigint DEFAULT 0 NOT NULL,
    feature_rows bigint DEFAULT 0 NOT NULL,
    plan_rows bigint DEFAULT 0 NOT NULL,
    message text,
    feature_seconds double precision DEFAULT 0 NOT NULL,
    plan_seconds double precision DEFAULT 0 NOT NULL,
    CONSTRAINT runs_status_check CHECK ((status = ANY (ARRAY['running'::text, 'succeeded'::text, 'failed'::text, 'interrupted'::text])))
);

ALTER TABLE t_schema_dump.runs OWNER TO t_schema_dump_owner;

--
-- Name: TABLE runs; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON TABLE t_schema_dump.runs IS 'One row per processing run (pg_cron, the worker, pyloader run): what it computed and how it ended. Kept for retention_policy.runs_kept.';

--
-- Name: COLUMN runs.run_id; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.runs.run_id IS 'The run''s id.';

--
-- Name: COLUMN runs.trigger; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.runs.trigger IS 'What started it: cron, worker <pid>, pyloader run.';

--
-- Name: COLUMN runs.started_at; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.runs.started_at IS 'When it started.';

--
-- Name: COLUMN runs.finished_at; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.runs.finished_at IS 'When it ended; null while running.';

--
-- Name: COLUMN runs.status; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.runs.status IS 'running, succeeded or failed (or interrupted).';

--
-- Name: COLUMN runs.keys_done; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.runs.keys_done IS 'Keys processed.';

--
-- Name: COLUMN runs.keys_failed; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.runs.keys_failed IS 'Keys set aside after an error (_private_failed_keys).';

--
-- Name: COLUMN runs.rows_written; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.runs.rows_written IS 'feature_rows + plan_rows.';

--
-- Name: COLUMN runs.feature_rows; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.runs.feature_rows IS 'Feature rows written.';

--
-- Name: COLUMN runs.plan_rows; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.runs.plan_rows IS 'Forecast and recommendation rows written.';

--
-- Name: COLUMN runs.message; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.runs.message IS 'The error, when it failed.';

--
-- Name: COLUMN runs.feature_seconds; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.runs.feature_seconds IS 'Seconds spent computing features.';

--
-- Name: COLUMN runs.plan_seconds; Type: COMMENT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

COMMENT ON COLUMN t_schema_dump.runs.plan_seconds IS 'Seconds spent computing plans.';

--
-- Name: runs_run_id_seq; Type: SEQUENCE; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE SEQUENCE t_schema_dump.runs_run_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER TABLE t_schema_dump.runs_run_id_seq OWNER TO t_schema_dump_owner;

--
-- Name: runs_run_id_seq; Type: SEQUENCE OWNED BY; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

ALTER SEQUENCE t_schema_dump.runs_run_id_seq OWNED BY t_schema_dump.runs.run_id;

--
-- Name: watermarks; Type: TABLE; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TABLE t_schema_dump.watermarks (
    entity text NOT NULL,
    updated_at timestamp with time zone NOT NULL
);

ALTER TABLE t_schema_dump.watermarks OWNER TO t_schema_dump_owner;

--
-- Name: api_tokens token_id; Type: DEFAULT; Schema: masterfile; Owner: postgres
--

ALTER TABLE ONLY masterfile.api_tokens ALTER COLUMN token_id SET DEFAULT nextval('masterfile.api_tokens_token_id_seq'::regclass);

--
-- Name: _private_dirty_keys mark_id; Type: DEFAULT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

ALTER TABLE ONLY t_schema_dump._private_dirty_keys ALTER COLUMN mark_id SET DEFAULT nextval('t_schema_dump._private_dirty_keys_mark_id_seq'::regclass);

--
-- Name: conflicts conflict_id; Type: DEFAULT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

ALTER TABLE ONLY t_schema_dump.conflicts ALTER COLUMN conflict_id SET DEFAULT nextval('t_schema_dump.conflicts_conflict_id_seq'::regclass);

--
-- Name: loads load_id; Type: DEFAULT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

ALTER TABLE ONLY t_schema_dump.loads ALTER COLUMN load_id SET DEFAULT nextval('t_schema_dump.loads_load_id_seq'::regclass);

--
-- Name: rejects reject_id; Type: DEFAULT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

ALTER TABLE ONLY t_schema_dump.rejects ALTER COLUMN reject_id SET DEFAULT nextval('t_schema_dump.rejects_reject_id_seq'::regclass);

--
-- Name: runs run_id; Type: DEFAULT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

ALTER TABLE ONLY t_schema_dump.runs ALTER COLUMN run_id SET DEFAULT nextval('t_schema_dump.runs_run_id_seq'::regclass);

--
-- Name: alembic_version alembic_version_pkc; Type: CONSTRAINT; Schema: masterfile; Owner: postgres
--

ALTER TABLE ONLY masterfile.alembic_version
    ADD CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num);

--
-- Name: api_tokens api_tokens_pkey; Type: CONSTRAINT; Schema: masterfile; Owner: postgres
--

ALTER TABLE ONLY masterfile.api_tokens
    ADD CONSTRAINT api_tokens_pkey PRIMARY KEY (token_id);

--
-- Name: api_tokens api_tokens_token_hash_key; Type: CONSTRAINT; Schema: masterfile; Owner: postgres
--

ALTER TABLE ONLY masterfile.api_tokens
    ADD CONSTRAINT api_tokens_token_hash_key UNIQUE (token_hash);

--
-- Name: dispatch_state dispatch_state_pkey; Type: CONSTRAINT; Schema: masterfile; Owner: postgres
--

ALTER TABLE ONLY masterfile.dispatch_state
    ADD CONSTRAINT dispatch_state_pkey PRIMARY KEY (singleton);

--
-- Name: installed installed_pkey; Type: CONSTRAINT; Schema: masterfile; Owner: postgres
--

ALTER TABLE ONLY masterfile.installed
    ADD CONSTRAINT installed_pkey PRIMARY KEY (singleton);

--
-- Name: tenants tenants_pkey; Type: CONSTRAINT; Schema: masterfile; Owner: postgres
--

ALTER TABLE ONLY masterfile.tenants
    ADD CONSTRAINT tenants_pkey PRIMARY KEY (client_id);

--
-- Name: tenants tenants_schema_name_key; Type: CONSTRAINT; Schema: masterfile; Owner: postgres
--

ALTER TABLE ONLY masterfile.tenants
    ADD CONSTRAINT tenants_schema_name_key UNIQUE (schema_name);

--
-- Name: work_hints work_hints_pkey; Type: CONSTRAINT; Schema: masterfile; Owner: postgres
--

ALTER TABLE ONLY masterfile.work_hints
    ADD CONSTRAINT work_hints_pkey PRIMARY KEY (hint_id);

--
-- Name: _private_dirty_keys _private_dirty_keys_pkey; Type: CONSTRAINT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

ALTER TABLE ONLY t_schema_dump._private_dirty_keys
    ADD CONSTRAINT _private_dirty_keys_pkey PRIMARY KEY (mark_id);

--
-- Name: _private_failed_keys _private_failed_keys_pkey; Type: CONSTRAINT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

ALTER TABLE ONLY t_schema_dump._private_failed_keys
    ADD CONSTRAINT _private_failed_keys_pkey PRIMARY KEY (product_id, location_id);

--
-- Name: _private_feature_batch _private_feature_batch_pkey; Type: CONSTRAINT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

ALTER TABLE ONLY t_schema_dump._private_feature_batch
    ADD CONSTRAINT _private_feature_batch_pkey PRIMARY KEY (runner, product_id, location_id);

--
-- Name: _private_feature_keys _private_feature_keys_pkey; Type: CONSTRAINT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

ALTER TABLE ONLY t_schema_dump._private_feature_keys
    ADD CONSTRAINT _private_feature_keys_pkey PRIMARY KEY (product_id, location_id);

--
-- Name: _private_pipeline_state _private_pipeline_state_pkey; Type: CONSTRAINT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

ALTER TABLE ONLY t_schema_dump._private_pipeline_state
    ADD CONSTRAINT _private_pipeline_state_pkey PRIMARY KEY (singleton);

--
-- Name: _private_plan_batch _private_plan_batch_pkey; Type: CONSTRAINT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

ALTER TABLE ONLY t_schema_dump._private_plan_batch
    ADD CONSTRAINT _private_plan_batch_pkey PRIMARY KEY (runner, product_id, location_id);

--
-- Name: alembic_version alembic_version_pkc; Type: CONSTRAINT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

ALTER TABLE ONLY t_schema_dump.alembic_version
    ADD CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num);

--
-- Name: conflicts conflicts_one_per_erp_change; Type: CONSTRAINT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

ALTER TABLE ONLY t_schema_dump.conflicts
    ADD CONSTRAINT conflicts_one_per_erp_change UNIQUE (entity, entity_key, field, erp_updated_at);

--
-- Name: conflicts conflicts_pkey; Type: CONSTRAINT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

ALTER TABLE ONLY t_schema_dump.conflicts
    ADD CONSTRAINT conflicts_pkey PRIMARY KEY (conflict_id);

--
-- Name: erp_invoice_lines erp_invoice_lines_pkey; Type: CONSTRAINT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

ALTER TABLE ONLY t_schema_dump.erp_invoice_lines
    ADD CONSTRAINT erp_invoice_lines_pkey PRIMARY KEY (invoice_id, line_no);

--
-- Name: erp_locations erp_locations_pkey; Type: CONSTRAINT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

ALTER TABLE ONLY t_schema_dump.erp_locations
    ADD CONSTRAINT erp_locations_pkey PRIMARY KEY (location_id);

--
-- Name: erp_products erp_products_pkey; Type: CONSTRAINT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

ALTER TABLE ONLY t_schema_dump.erp_products
    ADD CONSTRAINT erp_products_pkey PRIMARY KEY (product_id);

--
-- Name: erp_purchase_order_lines erp_purchase_order_lines_pkey; Type: CONSTRAINT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

ALTER TABLE ONLY t_schema_dump.erp_purchase_order_lines
    ADD CONSTRAINT erp_purchase_order_lines_pkey PRIMARY KEY (po_id, line_no);

--
-- Name: erp_receipt_lines erp_receipt_lines_pkey; Type: CONSTRAINT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

ALTER TABLE ONLY t_schema_dump.erp_receipt_lines
    ADD CONSTRAINT erp_receipt_lines_pkey PRIMARY KEY (receipt_id, line_no);

--
-- Name: erp_sales_lines erp_sales_lines_pkey; Type: CONSTRAINT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

ALTER TABLE ONLY t_schema_dump.erp_sales_lines
    ADD CONSTRAINT erp_sales_lines_pkey PRIMARY KEY (txn_id, line_no);

--
-- Name: erp_suppliers erp_suppliers_pkey; Type: CONSTRAINT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

ALTER TABLE ONLY t_schema_dump.erp_suppliers
    ADD CONSTRAINT erp_suppliers_pkey PRIMARY KEY (supplier_id);

--
-- Name: features features_pkey; Type: CONSTRAINT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

ALTER TABLE ONLY t_schema_dump.features
    ADD CONSTRAINT features_pkey PRIMARY KEY (product_id, location_id, week_start) INCLUDE (units_sold, revenue);

--
-- Name: loader_config loader_config_pkey; Type: CONSTRAINT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

ALTER TABLE ONLY t_schema_dump.loader_config
    ADD CONSTRAINT loader_config_pkey PRIMARY KEY (singleton);

--
-- Name: loads loads_pkey; Type: CONSTRAINT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

ALTER TABLE ONLY t_schema_dump.loads
    ADD CONSTRAINT loads_pkey PRIMARY KEY (load_id);

--
-- Name: recommendations recommendations_pkey; Type: CONSTRAINT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

ALTER TABLE ONLY t_schema_dump.recommendations
    ADD CONSTRAINT recommendations_pkey PRIMARY KEY (product_id, location_id);

--
-- Name: rejects rejects_pkey; Type: CONSTRAINT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

ALTER TABLE ONLY t_schema_dump.rejects
    ADD CONSTRAINT rejects_pkey PRIMARY KEY (reject_id);

--
-- Name: retention_policy retention_policy_pkey; Type: CONSTRAINT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

ALTER TABLE ONLY t_schema_dump.retention_policy
    ADD CONSTRAINT retention_policy_pkey PRIMARY KEY (singleton);

--
-- Name: runs runs_pkey; Type: CONSTRAINT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

ALTER TABLE ONLY t_schema_dump.runs
    ADD CONSTRAINT runs_pkey PRIMARY KEY (run_id);

--
-- Name: settings settings_pkey; Type: CONSTRAINT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

ALTER TABLE ONLY t_schema_dump.settings
    ADD CONSTRAINT settings_pkey PRIMARY KEY (singleton);

--
-- Name: ui_assortments ui_assortments_pkey; Type: CONSTRAINT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

ALTER TABLE ONLY t_schema_dump.ui_assortments
    ADD CONSTRAINT ui_assortments_pkey PRIMARY KEY (product_id, location_id);

--
-- Name: ui_location_settings ui_location_settings_pkey; Type: CONSTRAINT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

ALTER TABLE ONLY t_schema_dump.ui_location_settings
    ADD CONSTRAINT ui_location_settings_pkey PRIMARY KEY (location_id);

--
-- Name: ui_product_settings ui_product_settings_pkey; Type: CONSTRAINT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

ALTER TABLE ONLY t_schema_dump.ui_product_settings
    ADD CONSTRAINT ui_product_settings_pkey PRIMARY KEY (product_id);

--
-- Name: ui_supplier_settings ui_supplier_settings_pkey; Type: CONSTRAINT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

ALTER TABLE ONLY t_schema_dump.ui_supplier_settings
    ADD CONSTRAINT ui_supplier_settings_pkey PRIMARY KEY (supplier_id);

--
-- Name: watermarks watermarks_pkey; Type: CONSTRAINT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

ALTER TABLE ONLY t_schema_dump.watermarks
    ADD CONSTRAINT watermarks_pkey PRIMARY KEY (entity);

--
-- Name: api_tokens_live_name; Type: INDEX; Schema: masterfile; Owner: postgres
--

CREATE UNIQUE INDEX api_tokens_live_name ON masterfile.api_tokens USING btree (client_id, name) WHERE (revoked_at IS NULL);

--
-- Name: work_hints_schema; Type: INDEX; Schema: masterfile; Owner: postgres
--

CREATE INDEX work_hints_schema ON masterfile.work_hints USING btree (schema_name, hint_id);

--
-- Name: _private_dirty_keys_key; Type: INDEX; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE INDEX _private_dirty_keys_key ON t_schema_dump._private_dirty_keys USING btree (product_id, location_id);

--
-- Name: conflicts_detected_at; Type: INDEX; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE INDEX conflicts_detected_at ON t_schema_dump.conflicts USING btree (detected_at);

--
-- Name: conflicts_open; Type: INDEX; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE INDEX conflicts_open ON t_schema_dump.conflicts USING btree (conflict_id) WHERE (acknowledged_at IS NULL);

--
-- Name: erp_invoice_lines_key_date; Type: INDEX; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE INDEX erp_invoice_lines_key_date ON t_schema_dump.erp_invoice_lines USING btree (product_id, location_id, invoice_date) INCLUDE (invoice_id, line_no, qty_invoiced, line_amount, deleted);

--
-- Name: erp_purchase_order_lines_key_date; Type: INDEX; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE INDEX erp_purchase_order_lines_key_date ON t_schema_dump.erp_purchase_order_lines USING btree (product_id, location_id, order_date) INCLUDE (qty_ordered, status, deleted);

--
-- Name: erp_receipt_lines_key_date; Type: INDEX; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE INDEX erp_receipt_lines_key_date ON t_schema_dump.erp_receipt_lines USING btree (product_id, location_id, received_date) INCLUDE (qty_received, deleted);

--
-- Name: erp_sales_lines_key_date; Type: INDEX; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE INDEX erp_sales_lines_key_date ON t_schema_dump.erp_sales_lines USING btree (product_id, location_id, business_date) INCLUDE (qty, net_amount, deleted);

--
-- Name: loads_finished_at; Type: INDEX; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE INDEX loads_finished_at ON t_schema_dump.loads USING btree (finished_at);

--
-- Name: recommendations_by_recommended_qty; Type: INDEX; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE INDEX recommendations_by_recommended_qty ON t_schema_dump.recommendations USING btree (COALESCE(recommended_qty, '-Infinity'::double precision) DESC, product_id, location_id);

--
-- Name: recommendations_computed_at; Type: INDEX; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE INDEX recommendations_computed_at ON t_schema_dump.recommendations USING btree (computed_at);

--
-- Name: rejects_load_id; Type: INDEX; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE INDEX rejects_load_id ON t_schema_dump.rejects USING btree (load_id);

--
-- Name: rejects_rejected_at; Type: INDEX; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE INDEX rejects_rejected_at ON t_schema_dump.rejects USING btree (rejected_at);

--
-- Name: runs_finished_at; Type: INDEX; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE INDEX runs_finished_at ON t_schema_dump.runs USING btree (finished_at);

--
-- Name: ui_assortments_location_id; Type: INDEX; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE INDEX ui_assortments_location_id ON t_schema_dump.ui_assortments USING btree (location_id);

--
-- Name: work_hints notify_work_hinted; Type: TRIGGER; Schema: masterfile; Owner: postgres
--

CREATE TRIGGER notify_work_hinted AFTER INSERT ON masterfile.work_hints FOR EACH STATEMENT EXECUTE FUNCTION masterfile.notify_work_hinted();

--
-- Name: erp_locations conflicts_from_locations_insert; Type: TRIGGER; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TRIGGER conflicts_from_locations_insert AFTER INSERT ON t_schema_dump.erp_locations REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION t_schema_dump.record_conflicts_from_erp('location', 'location_id', 'ui_location_settings', 'enabled', 'status', 'open');

--
-- Name: erp_locations conflicts_from_locations_update; Type: TRIGGER; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TRIGGER conflicts_from_locations_update AFTER UPDATE ON t_schema_dump.erp_locations REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION t_schema_dump.record_conflicts_from_erp('location', 'location_id', 'ui_location_settings', 'enabled', 'status', 'open');

--
-- Name: erp_products conflicts_from_products_insert; Type: TRIGGER; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TRIGGER conflicts_from_products_insert AFTER INSERT ON t_schema_dump.erp_products REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION t_schema_dump.record_conflicts_from_erp('product', 'product_id', 'ui_product_settings', 'discontinued', 'status', 'discontinued');

--
-- Name: erp_products conflicts_from_products_update; Type: TRIGGER; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TRIGGER conflicts_from_products_update AFTER UPDATE ON t_schema_dump.erp_products REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION t_schema_dump.record_conflicts_from_erp('product', 'product_id', 'ui_product_settings', 'discontinued', 'status', 'discontinued');

--
-- Name: erp_suppliers conflicts_from_suppliers_insert; Type: TRIGGER; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TRIGGER conflicts_from_suppliers_insert AFTER INSERT ON t_schema_dump.erp_suppliers REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION t_schema_dump.record_conflicts_from_erp('supplier', 'supplier_id', 'ui_supplier_settings', 'lead_time_days', 'lead_time_days', '', 'min_order_qty', 'min_order_qty', '', 'order_multiple', 'order_multiple', '');

--
-- Name: erp_suppliers conflicts_from_suppliers_update; Type: TRIGGER; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TRIGGER conflicts_from_suppliers_update AFTER UPDATE ON t_schema_dump.erp_suppliers REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION t_schema_dump.record_conflicts_from_erp('supplier', 'supplier_id', 'ui_supplier_settings', 'lead_time_days', 'lead_time_days', '', 'min_order_qty', 'min_order_qty', '', 'order_multiple', 'order_multiple', '');

--
-- Name: conflicts guard_shared_columns; Type: TRIGGER; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TRIGGER guard_shared_columns BEFORE INSERT OR UPDATE ON t_schema_dump.conflicts FOR EACH ROW EXECUTE FUNCTION t_schema_dump.guard_shared_columns('{acknowledged_by,acknowledged_at}', 'conflicts');

--
-- Name: recommendations guard_shared_columns; Type: TRIGGER; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TRIGGER guard_shared_columns BEFORE INSERT OR UPDATE ON t_schema_dump.recommendations FOR EACH ROW EXECUTE FUNCTION t_schema_dump.guard_shared_columns('{decision,approved_qty,decided_by,decided_at,note}', 'recommendations');

--
-- Name: recommendations keep_decided_recommendations; Type: TRIGGER; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TRIGGER keep_decided_recommendations BEFORE DELETE ON t_schema_dump.recommendations FOR EACH ROW WHEN (t_schema_dump.recommendation_has_decision(old.decision, old.approved_qty, old.decided_by, old.decided_at, old.note)) EXECUTE FUNCTION t_schema_dump.refuse_deleting_decided_recommendation();

--
-- Name: settings mark_dirty_on_as_of_date; Type: TRIGGER; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TRIGGER mark_dirty_on_as_of_date AFTER UPDATE OF as_of_date ON t_schema_dump.settings FOR EACH ROW WHEN ((old.as_of_date IS DISTINCT FROM new.as_of_date)) EXECUTE FUNCTION t_schema_dump.mark_dirty_from_as_of_date();

--
-- Name: erp_invoice_lines mark_dirty_on_delete; Type: TRIGGER; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TRIGGER mark_dirty_on_delete AFTER DELETE ON t_schema_dump.erp_invoice_lines REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION t_schema_dump.mark_dirty_from_lines('invoice_date', 'invoice_id,line_no', 'product_id,location_id,invoice_date,qty_invoiced,line_amount,deleted');

--
-- Name: erp_purchase_order_lines mark_dirty_on_delete; Type: TRIGGER; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TRIGGER mark_dirty_on_delete AFTER DELETE ON t_schema_dump.erp_purchase_order_lines REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION t_schema_dump.mark_dirty_from_lines('order_date', 'po_id,line_no', 'product_id,location_id,order_date,qty_ordered,status,deleted');

--
-- Name: erp_receipt_lines mark_dirty_on_delete; Type: TRIGGER; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TRIGGER mark_dirty_on_delete AFTER DELETE ON t_schema_dump.erp_receipt_lines REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION t_schema_dump.mark_dirty_from_lines('received_date', 'receipt_id,line_no', 'product_id,location_id,received_date,qty_received,deleted');

--
-- Name: erp_sales_lines mark_dirty_on_delete; Type: TRIGGER; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TRIGGER mark_dirty_on_delete AFTER DELETE ON t_schema_dump.erp_sales_lines REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION t_schema_dump.mark_dirty_from_lines('business_date', 'txn_id,line_no', 'product_id,location_id,business_date,qty,net_amount,deleted');

--
-- Name: erp_invoice_lines mark_dirty_on_insert; Type: TRIGGER; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TRIGGER mark_dirty_on_insert AFTER INSERT ON t_schema_dump.erp_invoice_lines REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION t_schema_dump.mark_dirty_from_lines('invoice_date', 'invoice_id,line_no', 'product_id,location_id,invoice_date,qty_invoiced,line_amount,deleted');

--
-- Name: erp_purchase_order_lines mark_dirty_on_insert; Type: TRIGGER; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TRIGGER mark_dirty_on_insert AFTER INSERT ON t_schema_dump.erp_purchase_order_lines REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION t_schema_dump.mark_dirty_from_lines('order_date', 'po_id,line_no', 'product_id,location_id,order_date,qty_ordered,status,deleted');

--
-- Name: erp_receipt_lines mark_dirty_on_insert; Type: TRIGGER; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TRIGGER mark_dirty_on_insert AFTER INSERT ON t_schema_dump.erp_receipt_lines REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION t_schema_dump.mark_dirty_from_lines('received_date', 'receipt_id,line_no', 'product_id,location_id,received_date,qty_received,deleted');

--
-- Name: erp_sales_lines mark_dirty_on_insert; Type: TRIGGER; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TRIGGER mark_dirty_on_insert AFTER INSERT ON t_schema_dump.erp_sales_lines REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION t_schema_dump.mark_dirty_from_lines('business_date', 'txn_id,line_no', 'product_id,location_id,business_date,qty,net_amount,deleted');

--
-- Name: erp_invoice_lines mark_dirty_on_truncate; Type: TRIGGER; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TRIGGER mark_dirty_on_truncate AFTER TRUNCATE ON t_schema_dump.erp_invoice_lines FOR EACH STATEMENT EXECUTE FUNCTION t_schema_dump.mark_dirty_from_lines('invoice_date', 'invoice_id,line_no', 'product_id,location_id,invoice_date,qty_invoiced,line_amount,deleted');

--
-- Name: erp_purchase_order_lines mark_dirty_on_truncate; Type: TRIGGER; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TRIGGER mark_dirty_on_truncate AFTER TRUNCATE ON t_schema_dump.erp_purchase_order_lines FOR EACH STATEMENT EXECUTE FUNCTION t_schema_dump.mark_dirty_from_lines('order_date', 'po_id,line_no', 'product_id,location_id,order_date,qty_ordered,status,deleted');

--
-- Name: erp_receipt_lines mark_dirty_on_truncate; Type: TRIGGER; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TRIGGER mark_dirty_on_truncate AFTER TRUNCATE ON t_schema_dump.erp_receipt_lines FOR EACH STATEMENT EXECUTE FUNCTION t_schema_dump.mark_dirty_from_lines('received_date', 'receipt_id,line_no', 'product_id,location_id,received_date,qty_received,deleted');

--
-- Name: erp_sales_lines mark_dirty_on_truncate; Type: TRIGGER; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TRIGGER mark_dirty_on_truncate AFTER TRUNCATE ON t_schema_dump.erp_sales_lines FOR EACH STATEMENT EXECUTE FUNCTION t_schema_dump.mark_dirty_from_lines('business_date', 'txn_id,line_no', 'product_id,location_id,business_date,qty,net_amount,deleted');

--
-- Name: erp_invoice_lines mark_dirty_on_update; Type: TRIGGER; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TRIGGER mark_dirty_on_update AFTER UPDATE ON t_schema_dump.erp_invoice_lines REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION t_schema_dump.mark_dirty_from_lines('invoice_date', 'invoice_id,line_no', 'product_id,location_id,invoice_date,qty_invoiced,line_amount,deleted');

--
-- Name: erp_purchase_order_lines mark_dirty_on_update; Type: TRIGGER; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TRIGGER mark_dirty_on_update AFTER UPDATE ON t_schema_dump.erp_purchase_order_lines REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION t_schema_dump.mark_dirty_from_lines('order_date', 'po_id,line_no', 'product_id,location_id,order_date,qty_ordered,status,deleted');

--
-- Name: erp_receipt_lines mark_dirty_on_update; Type: TRIGGER; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TRIGGER mark_dirty_on_update AFTER UPDATE ON t_schema_dump.erp_receipt_lines REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION t_schema_dump.mark_dirty_from_lines('received_date', 'receipt_id,line_no', 'product_id,location_id,received_date,qty_received,deleted');

--
-- Name: erp_sales_lines mark_dirty_on_update; Type: TRIGGER; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TRIGGER mark_dirty_on_update AFTER UPDATE ON t_schema_dump.erp_sales_lines REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION t_schema_dump.mark_dirty_from_lines('business_date', 'txn_id,line_no', 'product_id,location_id,business_date,qty,net_amount,deleted');

--
-- Name: erp_locations mark_plans_on_delete; Type: TRIGGER; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TRIGGER mark_plans_on_delete AFTER DELETE ON t_schema_dump.erp_locations REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION t_schema_dump.mark_plans_from_master_data('status,deleted', 'location_id');

--
-- Name: erp_products mark_plans_on_delete; Type: TRIGGER; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TRIGGER mark_plans_on_delete AFTER DELETE ON t_schema_dump.erp_products REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION t_schema_dump.mark_plans_from_master_data('supplier_id,status,deleted', 'product_id');

--
-- Name: erp_suppliers mark_plans_on_delete; Type: TRIGGER; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TRIGGER mark_plans_on_delete AFTER DELETE ON t_schema_dump.erp_suppliers REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION t_schema_dump.mark_plans_from_master_data('lead_time_days,min_order_qty,order_multiple,deleted', 'supplier_id');

--
-- Name: ui_assortments mark_plans_on_delete; Type: TRIGGER; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TRIGGER mark_plans_on_delete AFTER DELETE ON t_schema_dump.ui_assortments REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION t_schema_dump.mark_plans_from_master_data('assorted', 'product_id,location_id');

--
-- Name: ui_location_settings mark_plans_on_delete; Type: TRIGGER; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TRIGGER mark_plans_on_delete AFTER DELETE ON t_schema_dump.ui_location_settings REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION t_schema_dump.mark_plans_from_master_data('enabled', 'location_id');

--
-- Name: ui_product_settings mark_plans_on_delete; Type: TRIGGER; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TRIGGER mark_plans_on_delete AFTER DELETE ON t_schema_dump.ui_product_settings REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION t_schema_dump.mark_plans_from_master_data('discontinued,service_level', 'product_id');

--
-- Name: ui_supplier_settings mark_plans_on_delete; Type: TRIGGER; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TRIGGER mark_plans_on_delete AFTER DELETE ON t_schema_dump.ui_supplier_settings REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION t_schema_dump.mark_plans_from_master_data('lead_time_days,min_order_qty,order_multiple,review_period_weeks', 'supplier_id');

--
-- Name: erp_locations mark_plans_on_insert; Type: TRIGGER; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TRIGGER mark_plans_on_insert AFTER INSERT ON t_schema_dump.erp_locations REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION t_schema_dump.mark_plans_from_master_data('status,deleted', 'location_id');

--
-- Name: erp_products mark_plans_on_insert; Type: TRIGGER; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TRIGGER mark_plans_on_insert AFTER INSERT ON t_schema_dump.erp_products REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION t_schema_dump.mark_plans_from_master_data('supplier_id,status,deleted', 'product_id');

--
-- Name: erp_suppliers mark_plans_on_insert; Type: TRIGGER; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TRIGGER mark_plans_on_insert AFTER INSERT ON t_schema_dump.erp_suppliers REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION t_schema_dump.mark_plans_from_master_data('lead_time_days,min_order_qty,order_multiple,deleted', 'supplier_id');

--
-- Name: ui_assortments mark_plans_on_insert; Type: TRIGGER; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TRIGGER mark_plans_on_insert AFTER INSERT ON t_schema_dump.ui_assortments REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION t_schema_dump.mark_plans_from_master_data('assorted', 'product_id,location_id');

--
-- Name: ui_location_settings mark_plans_on_insert; Type: TRIGGER; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TRIGGER mark_plans_on_insert AFTER INSERT ON t_schema_dump.ui_location_settings REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION t_schema_dump.mark_plans_from_master_data('enabled', 'location_id');

--
-- Name: ui_product_settings mark_plans_on_insert; Type: TRIGGER; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TRIGGER mark_plans_on_insert AFTER INSERT ON t_schema_dump.ui_product_settings REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION t_schema_dump.mark_plans_from_master_data('discontinued,service_level', 'product_id');

--
-- Name: ui_supplier_settings mark_plans_on_insert; Type: TRIGGER; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TRIGGER mark_plans_on_insert AFTER INSERT ON t_schema_dump.ui_supplier_settings REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION t_schema_dump.mark_plans_from_master_data('lead_time_days,min_order_qty,order_multiple,review_period_weeks', 'supplier_id');

--
-- Name: erp_locations mark_plans_on_truncate; Type: TRIGGER; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TRIGGER mark_plans_on_truncate AFTER TRUNCATE ON t_schema_dump.erp_locations FOR EACH STATEMENT EXECUTE FUNCTION t_schema_dump.mark_plans_from_master_data('status,deleted', 'location_id');

--
-- Name: erp_products mark_plans_on_truncate; Type: TRIGGER; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TRIGGER mark_plans_on_truncate AFTER TRUNCATE ON t_schema_dump.erp_products FOR EACH STATEMENT EXECUTE FUNCTION t_schema_dump.mark_plans_from_master_data('supplier_id,status,deleted', 'product_id');

--
-- Name: erp_suppliers mark_plans_on_truncate; Type: TRIGGER; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TRIGGER mark_plans_on_truncate AFTER TRUNCATE ON t_schema_dump.erp_suppliers FOR EACH STATEMENT EXECUTE FUNCTION t_schema_dump.mark_plans_from_master_data('lead_time_days,min_order_qty,order_multiple,deleted', 'supplier_id');

--
-- Name: ui_assortments mark_plans_on_truncate; Type: TRIGGER; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TRIGGER mark_plans_on_truncate AFTER TRUNCATE ON t_schema_dump.ui_assortments FOR EACH STATEMENT EXECUTE FUNCTION t_schema_dump.mark_plans_from_master_data('assorted', 'product_id,location_id');

--
-- Name: ui_location_settings mark_plans_on_truncate; Type: TRIGGER; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TRIGGER mark_plans_on_truncate AFTER TRUNCATE ON t_schema_dump.ui_location_settings FOR EACH STATEMENT EXECUTE FUNCTION t_schema_dump.mark_plans_from_master_data('enabled', 'location_id');

--
-- Name: ui_product_settings mark_plans_on_truncate; Type: TRIGGER; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TRIGGER mark_plans_on_truncate AFTER TRUNCATE ON t_schema_dump.ui_product_settings FOR EACH STATEMENT EXECUTE FUNCTION t_schema_dump.mark_plans_from_master_data('discontinued,service_level', 'product_id');

--
-- Name: ui_supplier_settings mark_plans_on_truncate; Type: TRIGGER; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TRIGGER mark_plans_on_truncate AFTER TRUNCATE ON t_schema_dump.ui_supplier_settings FOR EACH STATEMENT EXECUTE FUNCTION t_schema_dump.mark_plans_from_master_data('lead_time_days,min_order_qty,order_multiple,review_period_weeks', 'supplier_id');

--
-- Name: erp_locations mark_plans_on_update; Type: TRIGGER; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TRIGGER mark_plans_on_update AFTER UPDATE ON t_schema_dump.erp_locations REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION t_schema_dump.mark_plans_from_master_data('status,deleted', 'location_id');

--
-- Name: erp_products mark_plans_on_update; Type: TRIGGER; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TRIGGER mark_plans_on_update AFTER UPDATE ON t_schema_dump.erp_products REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION t_schema_dump.mark_plans_from_master_data('supplier_id,status,deleted', 'product_id');

--
-- Name: erp_suppliers mark_plans_on_update; Type: TRIGGER; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TRIGGER mark_plans_on_update AFTER UPDATE ON t_schema_dump.erp_suppliers REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION t_schema_dump.mark_plans_from_master_data('lead_time_days,min_order_qty,order_multiple,deleted', 'supplier_id');

--
-- Name: settings mark_plans_on_update; Type: TRIGGER; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TRIGGER mark_plans_on_update AFTER UPDATE ON t_schema_dump.settings REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION t_schema_dump.mark_plans_from_settings();

--
-- Name: ui_assortments mark_plans_on_update; Type: TRIGGER; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TRIGGER mark_plans_on_update AFTER UPDATE ON t_schema_dump.ui_assortments REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION t_schema_dump.mark_plans_from_master_data('assorted', 'product_id,location_id');

--
-- Name: ui_location_settings mark_plans_on_update; Type: TRIGGER; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TRIGGER mark_plans_on_update AFTER UPDATE ON t_schema_dump.ui_location_settings REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION t_schema_dump.mark_plans_from_master_data('enabled', 'location_id');

--
-- Name: ui_product_settings mark_plans_on_update; Type: TRIGGER; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TRIGGER mark_plans_on_update AFTER UPDATE ON t_schema_dump.ui_product_settings REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION t_schema_dump.mark_plans_from_master_data('discontinued,service_level', 'product_id');

--
-- Name: ui_supplier_settings mark_plans_on_update; Type: TRIGGER; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TRIGGER mark_plans_on_update AFTER UPDATE ON t_schema_dump.ui_supplier_settings REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION t_schema_dump.mark_plans_from_master_data('lead_time_days,min_order_qty,order_multiple,review_period_weeks', 'supplier_id');

--
-- Name: settings refuse_far_as_of_date; Type: TRIGGER; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TRIGGER refuse_far_as_of_date BEFORE INSERT OR UPDATE OF as_of_date ON t_schema_dump.settings FOR EACH ROW WHEN ((new.as_of_date IS NOT NULL)) EXECUTE FUNCTION t_schema_dump.refuse_far_as_of_date();

--
-- Name: settings stamp_1_named_updated_at; Type: TRIGGER; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TRIGGER stamp_1_named_updated_at BEFORE UPDATE OF updated_at ON t_schema_dump.settings FOR EACH ROW EXECUTE FUNCTION t_schema_dump.note_explicit_stamp('updated_at');

--
-- Name: ui_assortments stamp_1_named_updated_at; Type: TRIGGER; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TRIGGER stamp_1_named_updated_at BEFORE UPDATE OF updated_at ON t_schema_dump.ui_assortments FOR EACH ROW EXECUTE FUNCTION t_schema_dump.note_explicit_stamp('updated_at');

--
-- Name: ui_location_settings stamp_1_named_updated_at; Type: TRIGGER; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TRIGGER stamp_1_named_updated_at BEFORE UPDATE OF updated_at ON t_schema_dump.ui_location_settings FOR EACH ROW EXECUTE FUNCTION t_schema_dump.note_explicit_stamp('updated_at');

--
-- Name: ui_product_settings stamp_1_named_updated_at; Type: TRIGGER; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TRIGGER stamp_1_named_updated_at BEFORE UPDATE OF updated_at ON t_schema_dump.ui_product_settings FOR EACH ROW EXECUTE FUNCTION t_schema_dump.note_explicit_stamp('updated_at');

--
-- Name: ui_supplier_settings stamp_1_named_updated_at; Type: TRIGGER; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TRIGGER stamp_1_named_updated_at BEFORE UPDATE OF updated_at ON t_schema_dump.ui_supplier_settings FOR EACH ROW EXECUTE FUNCTION t_schema_dump.note_explicit_stamp('updated_at');

--
-- Name: settings stamp_1_named_updated_by; Type: TRIGGER; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TRIGGER stamp_1_named_updated_by BEFORE UPDATE OF updated_by ON t_schema_dump.settings FOR EACH ROW EXECUTE FUNCTION t_schema_dump.note_explicit_stamp('updated_by');

--
-- Name: ui_assortments stamp_1_named_updated_by; Type: TRIGGER; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TRIGGER stamp_1_named_updated_by BEFORE UPDATE OF updated_by ON t_schema_dump.ui_assortments FOR EACH ROW EXECUTE FUNCTION t_schema_dump.note_explicit_stamp('updated_by');

--
-- Name: ui_location_settings stamp_1_named_updated_by; Type: TRIGGER; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TRIGGER stamp_1_named_updated_by BEFORE UPDATE OF updated_by ON t_schema_dump.ui_location_settings FOR EACH ROW EXECUTE FUNCTION t_schema_dump.note_explicit_stamp('updated_by');

--
-- Name: ui_product_settings stamp_1_named_updated_by; Type: TRIGGER; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TRIGGER stamp_1_named_updated_by BEFORE UPDATE OF updated_by ON t_schema_dump.ui_product_settings FOR EACH ROW EXECUTE FUNCTION t_schema_dump.note_explicit_stamp('updated_by');

--
-- Name: ui_supplier_settings stamp_1_named_updated_by; Type: TRIGGER; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TRIGGER stamp_1_named_updated_by BEFORE UPDATE OF updated_by ON t_schema_dump.ui_supplier_settings FOR EACH ROW EXECUTE FUNCTION t_schema_dump.note_explicit_stamp('updated_by');

--
-- Name: settings stamp_2_updated; Type: TRIGGER; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TRIGGER stamp_2_updated BEFORE UPDATE ON t_schema_dump.settings FOR EACH ROW EXECUTE FUNCTION t_schema_dump.stamp_ui_update();

--
-- Name: ui_assortments stamp_2_updated; Type: TRIGGER; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TRIGGER stamp_2_updated BEFORE UPDATE ON t_schema_dump.ui_assortments FOR EACH ROW EXECUTE FUNCTION t_schema_dump.stamp_ui_update();

--
-- Name: ui_location_settings stamp_2_updated; Type: TRIGGER; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TRIGGER stamp_2_updated BEFORE UPDATE ON t_schema_dump.ui_location_settings FOR EACH ROW EXECUTE FUNCTION t_schema_dump.stamp_ui_update();

--
-- Name: ui_product_settings stamp_2_updated; Type: TRIGGER; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TRIGGER stamp_2_updated BEFORE UPDATE ON t_schema_dump.ui_product_settings FOR EACH ROW EXECUTE FUNCTION t_schema_dump.stamp_ui_update();

--
-- Name: ui_supplier_settings stamp_2_updated; Type: TRIGGER; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

CREATE TRIGGER stamp_2_updated BEFORE UPDATE ON t_schema_dump.ui_supplier_settings FOR EACH ROW EXECUTE FUNCTION t_schema_dump.stamp_ui_update();

--
-- Name: api_tokens api_tokens_client_id_fkey; Type: FK CONSTRAINT; Schema: masterfile; Owner: postgres
--

ALTER TABLE ONLY masterfile.api_tokens
    ADD CONSTRAINT api_tokens_client_id_fkey FOREIGN KEY (client_id) REFERENCES masterfile.tenants(client_id) ON DELETE CASCADE;

--
-- Name: rejects rejects_load_id_fkey; Type: FK CONSTRAINT; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

ALTER TABLE ONLY t_schema_dump.rejects
    ADD CONSTRAINT rejects_load_id_fkey FOREIGN KEY (load_id) REFERENCES t_schema_dump.loads(load_id);

--
-- Name: work_hints dispatcher; Type: POLICY; Schema: masterfile; Owner: postgres
--

CREATE POLICY dispatcher ON masterfile.work_hints TO masterfile_app USING (true) WITH CHECK (true);

--
-- Name: work_hints own_schema; Type: POLICY; Schema: masterfile; Owner: postgres
--

CREATE POLICY own_schema ON masterfile.work_hints USING (((schema_name || '_owner'::text) = CURRENT_USER)) WITH CHECK (((schema_name || '_owner'::text) = CURRENT_USER));

--
-- Name: work_hints; Type: ROW SECURITY; Schema: masterfile; Owner: postgres
--

ALTER TABLE masterfile.work_hints ENABLE ROW LEVEL SECURITY;

--
-- Name: SCHEMA masterfile; Type: ACL; Schema: -; Owner: postgres
--

GRANT USAGE ON SCHEMA masterfile TO masterfile_app;
GRANT USAGE ON SCHEMA masterfile TO masterfile_token_resolver;
GRANT USAGE ON SCHEMA masterfile TO t_schema_dump;
GRANT USAGE ON SCHEMA masterfile TO t_schema_dump_owner;

--
-- Name: SCHEMA t_schema_dump; Type: ACL; Schema: -; Owner: t_schema_dump_owner
--

GRANT USAGE ON SCHEMA t_schema_dump TO t_schema_dump;

--
-- Name: PROCEDURE dispatch(IN p_max_seconds double precision, IN p_slice_seconds double precision, IN p_batch_size integer, IN p_trigger text, IN p_only text, INOUT turns integer, INOUT keys_done bigint, INOUT rows_written bigint); Type: ACL; Schema: masterfile; Owner: postgres
--

REVOKE ALL ON PROCEDURE masterfile.dispatch(IN p_max_seconds double precision, IN p_slice_seconds double precision, IN p_batch_size integer, IN p_trigger text, IN p_only text, INOUT turns integer, INOUT keys_done bigint, INOUT rows_written bigint) FROM PUBLIC;
GRANT ALL ON PROCEDURE masterfile.dispatch(IN p_max_seconds double precision, IN p_slice_seconds double precision, IN p_batch_size integer, IN p_trigger text, IN p_only text, INOUT turns integer, INOUT keys_done bigint, INOUT rows_written bigint) TO masterfile_app;

--
-- Name: FUNCTION ensure_tenant_roles(p_schema text, p_adopt boolean); Type: ACL; Schema: masterfile; Owner: postgres
--

REVOKE ALL ON FUNCTION masterfile.ensure_tenant_roles(p_schema text, p_adopt boolean) FROM PUBLIC;

--
-- Name: FUNCTION features_kernel(p_kinds text[], p_inputs text[], p_params integer[], p_first_week date, p_start_index integer, p_stop_index integer, p_i integer[], p_sold double precision[], p_returned double precision[], p_revenue double precision[], p_received double precision[], p_ordered double precision[], p_invoiced double precision[], p_invoiced_amount double precision[], p_unit_cost double precision[], p_has_cost boolean[], p_seed double precision[], p_prior_sold bytea, p_prior_revenue bytea); Type: ACL; Schema: masterfile; Owner: postgres
--

REVOKE ALL ON FUNCTION masterfile.features_kernel(p_kinds text[], p_inputs text[], p_params integer[], p_first_week date, p_start_index integer, p_stop_index integer, p_i integer[], p_sold double precision[], p_returned double precision[], p_revenue double precision[], p_received double precision[], p_ordered double precision[], p_invoiced double precision[], p_invoiced_amount double precision[], p_unit_cost double precision[], p_has_cost boolean[], p_seed double precision[], p_prior_sold bytea, p_prior_revenue bytea) FROM PUBLIC;
GRANT ALL ON FUNCTION masterfile.features_kernel(p_kinds text[], p_inputs text[], p_params integer[], p_first_week date, p_start_index integer, p_stop_index integer, p_i integer[], p_sold double precision[], p_returned double precision[], p_revenue double precision[], p_received double precision[], p_ordered double precision[], p_invoiced double precision[], p_invoiced_amount double precision[], p_unit_cost double precision[], p_has_cost boolean[], p_seed double precision[], p_prior_sold bytea, p_prior_revenue bytea) TO t_schema_dump_pipeline;

--
-- Name: FUNCTION forecast_batch(p_y_flat bytea, p_lengths integer[], p_sigma double precision[], p_est_on_hand double precision[], p_on_order double precision[], p_lead_time_days double precision[], p_review_period_weeks double precision[], p_service_level double precision[], p_min_order_qty double precision[], p_order_multiple double precision[], p_discontinued boolean[], p_assorted boolean[], p_location_enabled boolean[], OUT demand_class text[], OUT method text[], OUT forecast_per_week double precision[], OUT sigma double precision[], OUT lead_time_weeks double precision[], OUT review_period_weeks double precision[], OUT service_level double precision[], OUT z double precision[], OUT safety_stock double precision[], OUT order_up_to double precision[], OUT inventory_position double precision[], OUT raw_qty double precision[], OUT recommended_qty double precision[], OUT reason text[]); Type: ACL; Schema: masterfile; Owner: postgres
--

REVOKE ALL ON FUNCTION masterfile.forecast_batch(p_y_flat bytea, p_lengths integer[], p_sigma double precision[], p_est_on_hand double precision[], p_on_order double precision[], p_lead_time_days double precision[], p_review_period_weeks double precision[], p_service_level double precision[], p_min_order_qty double precision[], p_order_multiple double precision[], p_discontinued boolean[], p_assorted boolean[], p_location_enabled boolean[], OUT demand_class text[], OUT method text[], OUT forecast_per_week double precision[], OUT sigma double precision[], OUT lead_time_weeks double precision[], OUT review_period_weeks double precision[], OUT service_level double precision[], OUT z double precision[], OUT safety_stock double precision[], OUT order_up_to double precision[], OUT inventory_position double precision[], OUT raw_qty double precision[], OUT recommended_qty double precision[], OUT reason text[]) FROM PUBLIC;
GRANT ALL ON FUNCTION masterfile.forecast_batch(p_y_flat bytea, p_lengths integer[], p_sigma double precision[], p_est_on_hand double precision[], p_on_order double precision[], p_lead_time_days double precision[], p_review_period_weeks double precision[], p_service_level double precision[], p_min_order_qty double precision[], p_order_multiple double precision[], p_discontinued boolean[], p_assorted boolean[], p_location_enabled boolean[], OUT demand_class text[], OUT method text[], OUT forecast_per_week double precision[], OUT sigma double precision[], OUT lead_time_weeks double precision[], OUT review_period_weeks double precision[], OUT service_level double precision[], OUT z double precision[], OUT safety_stock double precision[], OUT order_up_to double precision[], OUT inventory_position double precision[], OUT raw_qty double precision[], OUT recommended_qty double precision[], OUT reason text[]) TO t_schema_dump_pipeline;

--
-- Name: FUNCTION notify_work_hinted(); Type: ACL; Schema: masterfile; Owner: postgres
--

REVOKE ALL ON FUNCTION masterfile.notify_work_hinted() FROM PUBLIC;

--
-- Name: PROCEDURE process_tenant(IN p_schema text, IN p_batch_size integer, IN p_max_seconds double precision, IN p_trigger text); Type: ACL; Schema: masterfile; Owner: postgres
--

REVOKE ALL ON PROCEDURE masterfile.process_tenant(IN p_schema text, IN p_batch_size integer, IN p_max_seconds double precision, IN p_trigger text) FROM PUBLIC;
GRANT ALL ON PROCEDURE masterfile.process_tenant(IN p_schema text, IN p_batch_size integer, IN p_max_seconds double precision, IN p_trigger text) TO t_schema_dump_pipeline;

--
-- Name: FUNCTION resolve_api_token(p_token_hash bytea); Type: ACL; Schema: masterfile; Owner: masterfile_token_resolver
--

REVOKE ALL ON FUNCTION masterfile.resolve_api_token(p_token_hash bytea) FROM PUBLIC;
GRANT ALL ON FUNCTION masterfile.resolve_api_token(p_token_hash bytea) TO masterfile_app;

--
-- Name: FUNCTION tenant_role_collisions(p_schema text); Type: ACL; Schema: masterfile; Owner: postgres
--

REVOKE ALL ON FUNCTION masterfile.tenant_role_collisions(p_schema text) FROM PUBLIC;

--
-- Name: FUNCTION apply_retention(); Type: ACL; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

REVOKE ALL ON FUNCTION t_schema_dump.apply_retention() FROM PUBLIC;
GRANT ALL ON FUNCTION t_schema_dump.apply_retention() TO t_schema_dump_pipeline;

--
-- Name: FUNCTION attach_statement_triggers(p_table text, p_prefix text, p_function text, p_args text[], p_events text[]); Type: ACL; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

REVOKE ALL ON FUNCTION t_schema_dump.attach_statement_triggers(p_table text, p_prefix text, p_function text, p_args text[], p_events text[]) FROM PUBLIC;

--
-- Name: FUNCTION changed_rows_query(p_op text, p_join_cols text[], p_cols text[], p_out_cols text[], p_skip_col text); Type: ACL; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

REVOKE ALL ON FUNCTION t_schema_dump.changed_rows_query(p_op text, p_join_cols text[], p_cols text[], p_out_cols text[], p_skip_col text) FROM PUBLIC;

--
-- Name: FUNCTION check_end_week(); Type: ACL; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

REVOKE ALL ON FUNCTION t_schema_dump.check_end_week() FROM PUBLIC;
GRANT ALL ON FUNCTION t_schema_dump.check_end_week() TO t_schema_dump_pipeline;

--
-- Name: FUNCTION delete_stale_features(p_end date); Type: ACL; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

REVOKE ALL ON FUNCTION t_schema_dump.delete_stale_features(p_end date) FROM PUBLIC;
GRANT ALL ON FUNCTION t_schema_dump.delete_stale_features(p_end date) TO t_schema_dump_pipeline;

--
-- Name: FUNCTION delete_undecided_recommendations(p_product_ids text[], p_location_ids text[]); Type: ACL; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

REVOKE ALL ON FUNCTION t_schema_dump.delete_undecided_recommendations(p_product_ids text[], p_location_ids text[]) FROM PUBLIC;
GRANT ALL ON FUNCTION t_schema_dump.delete_undecided_recommendations(p_product_ids text[], p_location_ids text[]) TO t_schema_dump_pipeline;

--
-- Name: FUNCTION end_week(); Type: ACL; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

REVOKE ALL ON FUNCTION t_schema_dump.end_week() FROM PUBLIC;
GRANT ALL ON FUNCTION t_schema_dump.end_week() TO t_schema_dump;

--
-- Name: FUNCTION end_week_moved(); Type: ACL; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

REVOKE ALL ON FUNCTION t_schema_dump.end_week_moved() FROM PUBLIC;
GRANT ALL ON FUNCTION t_schema_dump.end_week_moved() TO t_schema_dump_pipeline;

--
-- Name: FUNCTION ensure_work_tables(); Type: ACL; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

REVOKE ALL ON FUNCTION t_schema_dump.ensure_work_tables() FROM PUBLIC;
GRANT ALL ON FUNCTION t_schema_dump.ensure_work_tables() TO t_schema_dump_pipeline;

--
-- Name: FUNCTION expand_global_marks(); Type: ACL; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

REVOKE ALL ON FUNCTION t_schema_dump.expand_global_marks() FROM PUBLIC;
GRANT ALL ON FUNCTION t_schema_dump.expand_global_marks() TO t_schema_dump_pipeline;

--
-- Name: FUNCTION guard_shared_columns(); Type: ACL; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

REVOKE ALL ON FUNCTION t_schema_dump.guard_shared_columns() FROM PUBLIC;

--
-- Name: FUNCTION hint_work(); Type: ACL; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

REVOKE ALL ON FUNCTION t_schema_dump.hint_work() FROM PUBLIC;
GRANT ALL ON FUNCTION t_schema_dump.hint_work() TO t_schema_dump_loader;
GRANT ALL ON FUNCTION t_schema_dump.hint_work() TO t_schema_dump_ui;
GRANT ALL ON FUNCTION t_schema_dump.hint_work() TO t_schema_dump_pipeline;

--
-- Name: FUNCTION mark_all_keys(p_from_week date, p_scope text); Type: ACL; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

REVOKE ALL ON FUNCTION t_schema_dump.mark_all_keys(p_from_week date, p_scope text) FROM PUBLIC;
GRANT ALL ON FUNCTION t_schema_dump.mark_all_keys(p_from_week date, p_scope text) TO t_schema_dump_pipeline;

--
-- Name: FUNCTION mark_continuations(p_product_ids text[], p_location_ids text[], p_from_weeks date[]); Type: ACL; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

REVOKE ALL ON FUNCTION t_schema_dump.mark_continuations(p_product_ids text[], p_location_ids text[], p_from_weeks date[]) FROM PUBLIC;
GRANT ALL ON FUNCTION t_schema_dump.mark_continuations(p_product_ids text[], p_location_ids text[], p_from_weeks date[]) TO t_schema_dump_pipeline;

--
-- Name: FUNCTION mark_dirty_from_as_of_date(); Type: ACL; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

REVOKE ALL ON FUNCTION t_schema_dump.mark_dirty_from_as_of_date() FROM PUBLIC;

--
-- Name: FUNCTION mark_dirty_from_lines(); Type: ACL; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

REVOKE ALL ON FUNCTION t_schema_dump.mark_dirty_from_lines() FROM PUBLIC;

--
-- Name: FUNCTION mark_keys(p_product_ids text[], p_location_ids text[], p_from_weeks date[], p_scope text); Type: ACL; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

REVOKE ALL ON FUNCTION t_schema_dump.mark_keys(p_product_ids text[], p_location_ids text[], p_from_weeks date[], p_scope text) FROM PUBLIC;

--
-- Name: FUNCTION mark_plans(p_product_ids text[], p_location_ids text[]); Type: ACL; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

REVOKE ALL ON FUNCTION t_schema_dump.mark_plans(p_product_ids text[], p_location_ids text[]) FROM PUBLIC;

--
-- Name: FUNCTION mark_plans_from_master_data(); Type: ACL; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

REVOKE ALL ON FUNCTION t_schema_dump.mark_plans_from_master_data() FROM PUBLIC;

--
-- Name: FUNCTION mark_plans_from_settings(); Type: ACL; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

REVOKE ALL ON FUNCTION t_schema_dump.mark_plans_from_settings() FROM PUBLIC;

--
-- Name: FUNCTION note_explicit_stamp(); Type: ACL; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

REVOKE ALL ON FUNCTION t_schema_dump.note_explicit_stamp() FROM PUBLIC;

--
-- Name: FUNCTION prepare_queue(); Type: ACL; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

REVOKE ALL ON FUNCTION t_schema_dump.prepare_queue() FROM PUBLIC;
GRANT ALL ON FUNCTION t_schema_dump.prepare_queue() TO t_schema_dump_pipeline;

--
-- Name: FUNCTION process_batch(p_batch_size integer, OUT keys_done bigint, OUT feature_rows bigint, OUT plan_rows bigint, OUT keys_failed bigint, OUT feature_seconds double precision, OUT plan_seconds double precision); Type: ACL; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

REVOKE ALL ON FUNCTION t_schema_dump.process_batch(p_batch_size integer, OUT keys_done bigint, OUT feature_rows bigint, OUT plan_rows bigint, OUT keys_failed bigint, OUT feature_seconds double precision, OUT plan_seconds double precision) FROM PUBLIC;
GRANT ALL ON FUNCTION t_schema_dump.process_batch(p_batch_size integer, OUT keys_done bigint, OUT feature_rows bigint, OUT plan_rows bigint, OUT keys_failed bigint, OUT feature_seconds double precision, OUT plan_seconds double precision) TO t_schema_dump_pipeline;

--
-- Name: PROCEDURE process_dirty(IN p_batch_size integer, IN p_max_seconds double precision, IN p_trigger text); Type: ACL; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

REVOKE ALL ON PROCEDURE t_schema_dump.process_dirty(IN p_batch_size integer, IN p_max_seconds double precision, IN p_trigger text) FROM PUBLIC;
GRANT ALL ON PROCEDURE t_schema_dump.process_dirty(IN p_batch_size integer, IN p_max_seconds double precision, IN p_trigger text) TO t_schema_dump_pipeline;

--
-- Name: FUNCTION recommendation_has_decision(p_decision text, p_approved_qty double precision, p_decided_by text, p_decided_at timestamp with time zone, p_note text); Type: ACL; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

REVOKE ALL ON FUNCTION t_schema_dump.recommendation_has_decision(p_decision text, p_approved_qty double precision, p_decided_by text, p_decided_at timestamp with time zone, p_note text) FROM PUBLIC;
GRANT ALL ON FUNCTION t_schema_dump.recommendation_has_decision(p_decision text, p_approved_qty double precision, p_decided_by text, p_decided_at timestamp with time zone, p_note text) TO t_schema_dump;

--
-- Name: FUNCTION record_conflicts_from_erp(); Type: ACL; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

REVOKE ALL ON FUNCTION t_schema_dump.record_conflicts_from_erp() FROM PUBLIC;

--
-- Name: FUNCTION refresh_batch(p_product_ids text[], p_location_ids text[], p_from_weeks date[], p_features boolean[]); Type: ACL; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

REVOKE ALL ON FUNCTION t_schema_dump.refresh_batch(p_product_ids text[], p_location_ids text[], p_from_weeks date[], p_features boolean[]) FROM PUBLIC;
GRANT ALL ON FUNCTION t_schema_dump.refresh_batch(p_product_ids text[], p_location_ids text[], p_from_weeks date[], p_features boolean[]) TO t_schema_dump_pipeline;

--
-- Name: FUNCTION refresh_features(p_product_ids text[], p_location_ids text[], p_from_weeks date[]); Type: ACL; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

REVOKE ALL ON FUNCTION t_schema_dump.refresh_features(p_product_ids text[], p_location_ids text[], p_from_weeks date[]) FROM PUBLIC;
GRANT ALL ON FUNCTION t_schema_dump.refresh_features(p_product_ids text[], p_location_ids text[], p_from_weeks date[]) TO t_schema_dump_pipeline;

--
-- Name: FUNCTION refresh_plans(p_product_ids text[], p_location_ids text[]); Type: ACL; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

REVOKE ALL ON FUNCTION t_schema_dump.refresh_plans(p_product_ids text[], p_location_ids text[]) FROM PUBLIC;
GRANT ALL ON FUNCTION t_schema_dump.refresh_plans(p_product_ids text[], p_location_ids text[]) TO t_schema_dump_pipeline;

--
-- Name: FUNCTION refuse_deleting_decided_recommendation(); Type: ACL; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

REVOKE ALL ON FUNCTION t_schema_dump.refuse_deleting_decided_recommendation() FROM PUBLIC;

--
-- Name: FUNCTION refuse_far_as_of_date(); Type: ACL; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

REVOKE ALL ON FUNCTION t_schema_dump.refuse_far_as_of_date() FROM PUBLIC;

--
-- Name: FUNCTION release_load_lock(); Type: ACL; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

REVOKE ALL ON FUNCTION t_schema_dump.release_load_lock() FROM PUBLIC;
GRANT ALL ON FUNCTION t_schema_dump.release_load_lock() TO t_schema_dump_loader;

--
-- Name: PROCEDURE run_scheduled(); Type: ACL; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

REVOKE ALL ON PROCEDURE t_schema_dump.run_scheduled() FROM PUBLIC;
GRANT ALL ON PROCEDURE t_schema_dump.run_scheduled() TO t_schema_dump_pipeline;

--
-- Name: FUNCTION settle_work_hints(p_max_hint bigint, p_stalled boolean); Type: ACL; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

REVOKE ALL ON FUNCTION t_schema_dump.settle_work_hints(p_max_hint bigint, p_stalled boolean) FROM PUBLIC;
GRANT ALL ON FUNCTION t_schema_dump.settle_work_hints(p_max_hint bigint, p_stalled boolean) TO t_schema_dump_pipeline;

--
-- Name: FUNCTION stage_feature_batch(p_product_ids text[], p_location_ids text[], p_from_weeks date[], p_end date); Type: ACL; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

REVOKE ALL ON FUNCTION t_schema_dump.stage_feature_batch(p_product_ids text[], p_location_ids text[], p_from_weeks date[], p_end date) FROM PUBLIC;
GRANT ALL ON FUNCTION t_schema_dump.stage_feature_batch(p_product_ids text[], p_location_ids text[], p_from_weeks date[], p_end date) TO t_schema_dump_pipeline;

--
-- Name: FUNCTION stamp_ui_update(); Type: ACL; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

REVOKE ALL ON FUNCTION t_schema_dump.stamp_ui_update() FROM PUBLIC;

--
-- Name: FUNCTION store_feature_tails(p_end date, p_new_p text[], p_new_l text[], p_new_lo date[], p_new_n integer[], p_new_sold bytea[], p_new_revenue bytea[]); Type: ACL; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

REVOKE ALL ON FUNCTION t_schema_dump.store_feature_tails(p_end date, p_new_p text[], p_new_l text[], p_new_lo date[], p_new_n integer[], p_new_sold bytea[], p_new_revenue bytea[]) FROM PUBLIC;
GRANT ALL ON FUNCTION t_schema_dump.store_feature_tails(p_end date, p_new_p text[], p_new_l text[], p_new_lo date[], p_new_n integer[], p_new_sold bytea[], p_new_revenue bytea[]) TO t_schema_dump_pipeline;

--
-- Name: FUNCTION try_load_lock(); Type: ACL; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

REVOKE ALL ON FUNCTION t_schema_dump.try_load_lock() FROM PUBLIC;
GRANT ALL ON FUNCTION t_schema_dump.try_load_lock() TO t_schema_dump_loader;

--
-- Name: FUNCTION wait_for_global_marks(); Type: ACL; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

REVOKE ALL ON FUNCTION t_schema_dump.wait_for_global_marks() FROM PUBLIC;
GRANT ALL ON FUNCTION t_schema_dump.wait_for_global_marks() TO t_schema_dump_pipeline;

--
-- Name: FUNCTION write_feature_rows(OUT rows_written bigint, OUT new_p text[], OUT new_l text[], OUT new_lo date[], OUT new_n integer[], OUT new_sold bytea[], OUT new_revenue bytea[]); Type: ACL; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

REVOKE ALL ON FUNCTION t_schema_dump.write_feature_rows(OUT rows_written bigint, OUT new_p text[], OUT new_l text[], OUT new_lo date[], OUT new_n integer[], OUT new_sold bytea[], OUT new_revenue bytea[]) FROM PUBLIC;
GRANT ALL ON FUNCTION t_schema_dump.write_feature_rows(OUT rows_written bigint, OUT new_p text[], OUT new_l text[], OUT new_lo date[], OUT new_n integer[], OUT new_sold bytea[], OUT new_revenue bytea[]) TO t_schema_dump_pipeline;

--
-- Name: TABLE api_tokens; Type: ACL; Schema: masterfile; Owner: postgres
--

GRANT SELECT ON TABLE masterfile.api_tokens TO masterfile_token_resolver;

--
-- Name: COLUMN api_tokens.last_used_at; Type: ACL; Schema: masterfile; Owner: postgres
--

GRANT UPDATE(last_used_at) ON TABLE masterfile.api_tokens TO masterfile_token_resolver;

--
-- Name: TABLE dispatch_state; Type: ACL; Schema: masterfile; Owner: postgres
--

GRANT SELECT,UPDATE ON TABLE masterfile.dispatch_state TO masterfile_app;

--
-- Name: TABLE tenants; Type: ACL; Schema: masterfile; Owner: postgres
--

GRANT SELECT ON TABLE masterfile.tenants TO masterfile_app;
GRANT SELECT ON TABLE masterfile.tenants TO masterfile_token_resolver;

--
-- Name: TABLE work_hints; Type: ACL; Schema: masterfile; Owner: postgres
--

GRANT SELECT,INSERT,DELETE ON TABLE masterfile.work_hints TO masterfile_app;
GRANT SELECT,INSERT,DELETE ON TABLE masterfile.work_hints TO t_schema_dump_owner;

--
-- Name: TABLE due_work; Type: ACL; Schema: masterfile; Owner: postgres
--

GRANT SELECT ON TABLE masterfile.due_work TO masterfile_app;

--
-- Name: TABLE _private_dirty_keys; Type: ACL; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE t_schema_dump._private_dirty_keys TO t_schema_dump_pipeline;

--
-- Name: SEQUENCE _private_dirty_keys_mark_id_seq; Type: ACL; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

GRANT USAGE ON SEQUENCE t_schema_dump._private_dirty_keys_mark_id_seq TO t_schema_dump_pipeline;

--
-- Name: TABLE _private_failed_keys; Type: ACL; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE t_schema_dump._private_failed_keys TO t_schema_dump_pipeline;

--
-- Name: TABLE _private_feature_batch; Type: ACL; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

GRANT SELECT,INSERT,DELETE ON TABLE t_schema_dump._private_feature_batch TO t_schema_dump_pipeline;

--
-- Name: TABLE _private_feature_keys; Type: ACL; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE t_schema_dump._private_feature_keys TO t_schema_dump_pipeline;

--
-- Name: TABLE _private_pipeline_state; Type: ACL; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

GRANT SELECT,UPDATE ON TABLE t_schema_dump._private_pipeline_state TO t_schema_dump_pipeline;

--
-- Name: TABLE _private_plan_batch; Type: ACL; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

GRANT SELECT,INSERT,DELETE ON TABLE t_schema_dump._private_plan_batch TO t_schema_dump_pipeline;

--
-- Name: TABLE alembic_version; Type: ACL; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

GRANT SELECT ON TABLE t_schema_dump.alembic_version TO t_schema_dump;

--
-- Name: TABLE conflicts; Type: ACL; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

GRANT SELECT ON TABLE t_schema_dump.conflicts TO t_schema_dump;
GRANT UPDATE ON TABLE t_schema_dump.conflicts TO t_schema_dump_ui;

--
-- Name: TABLE ui_assortments; Type: ACL; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

GRANT SELECT ON TABLE t_schema_dump.ui_assortments TO t_schema_dump;
GRANT INSERT,DELETE,UPDATE ON TABLE t_schema_dump.ui_assortments TO t_schema_dump_ui;

--
-- Name: TABLE effective_assortments; Type: ACL; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

GRANT SELECT ON TABLE t_schema_dump.effective_assortments TO t_schema_dump;

--
-- Name: TABLE erp_locations; Type: ACL; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

GRANT SELECT ON TABLE t_schema_dump.erp_locations TO t_schema_dump;
GRANT INSERT,UPDATE ON TABLE t_schema_dump.erp_locations TO t_schema_dump_loader;

--
-- Name: TABLE ui_location_settings; Type: ACL; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

GRANT SELECT ON TABLE t_schema_dump.ui_location_settings TO t_schema_dump;
GRANT INSERT,DELETE,UPDATE ON TABLE t_schema_dump.ui_location_settings TO t_schema_dump_ui;

--
-- Name: TABLE effective_locations; Type: ACL; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

GRANT SELECT ON TABLE t_schema_dump.effective_locations TO t_schema_dump;

--
-- Name: TABLE erp_products; Type: ACL; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

GRANT SELECT ON TABLE t_schema_dump.erp_products TO t_schema_dump;
GRANT INSERT,UPDATE ON TABLE t_schema_dump.erp_products TO t_schema_dump_loader;

--
-- Name: TABLE settings; Type: ACL; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

GRANT SELECT ON TABLE t_schema_dump.settings TO t_schema_dump;
GRANT UPDATE ON TABLE t_schema_dump.settings TO t_schema_dump_ui;

--
-- Name: TABLE ui_product_settings; Type: ACL; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

GRANT SELECT ON TABLE t_schema_dump.ui_product_settings TO t_schema_dump;
GRANT INSERT,DELETE,UPDATE ON TABLE t_schema_dump.ui_product_settings TO t_schema_dump_ui;

--
-- Name: TABLE effective_products; Type: ACL; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

GRANT SELECT ON TABLE t_schema_dump.effective_products TO t_schema_dump;

--
-- Name: TABLE erp_suppliers; Type: ACL; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

GRANT SELECT ON TABLE t_schema_dump.erp_suppliers TO t_schema_dump;
GRANT INSERT,UPDATE ON TABLE t_schema_dump.erp_suppliers TO t_schema_dump_loader;

--
-- Name: TABLE ui_supplier_settings; Type: ACL; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

GRANT SELECT ON TABLE t_schema_dump.ui_supplier_settings TO t_schema_dump;
GRANT INSERT,DELETE,UPDATE ON TABLE t_schema_dump.ui_supplier_settings TO t_schema_dump_ui;

--
-- Name: TABLE effective_suppliers; Type: ACL; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

GRANT SELECT ON TABLE t_schema_dump.effective_suppliers TO t_schema_dump;

--
-- Name: TABLE erp_invoice_lines; Type: ACL; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

GRANT SELECT ON TABLE t_schema_dump.erp_invoice_lines TO t_schema_dump;
GRANT INSERT,UPDATE ON TABLE t_schema_dump.erp_invoice_lines TO t_schema_dump_loader;

--
-- Name: TABLE erp_purchase_order_lines; Type: ACL; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

GRANT SELECT ON TABLE t_schema_dump.erp_purchase_order_lines TO t_schema_dump;
GRANT INSERT,UPDATE ON TABLE t_schema_dump.erp_purchase_order_lines TO t_schema_dump_loader;

--
-- Name: TABLE erp_receipt_lines; Type: ACL; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

GRANT SELECT ON TABLE t_schema_dump.erp_receipt_lines TO t_schema_dump;
GRANT INSERT,UPDATE ON TABLE t_schema_dump.erp_receipt_lines TO t_schema_dump_loader;

--
-- Name: TABLE erp_sales_lines; Type: ACL; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

GRANT SELECT ON TABLE t_schema_dump.erp_sales_lines TO t_schema_dump;
GRANT INSERT,UPDATE ON TABLE t_schema_dump.erp_sales_lines TO t_schema_dump_loader;

--
-- Name: TABLE features; Type: ACL; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

GRANT SELECT ON TABLE t_schema_dump.features TO t_schema_dump;
GRANT INSERT,DELETE,UPDATE ON TABLE t_schema_dump.features TO t_schema_dump_pipeline;

--
-- Name: TABLE recommendations; Type: ACL; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

GRANT SELECT ON TABLE t_schema_dump.recommendations TO t_schema_dump;
GRANT INSERT,DELETE,UPDATE ON TABLE t_schema_dump.recommendations TO t_schema_dump_pipeline;
GRANT UPDATE ON TABLE t_schema_dump.recommendations TO t_schema_dump_ui;

--
-- Name: TABLE forecasts; Type: ACL; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

GRANT SELECT ON TABLE t_schema_dump.forecasts TO t_schema_dump;

--
-- Name: TABLE key_attributes; Type: ACL; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

GRANT SELECT ON TABLE t_schema_dump.key_attributes TO t_schema_dump;

--
-- Name: TABLE loader_config; Type: ACL; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

GRANT SELECT ON TABLE t_schema_dump.loader_config TO t_schema_dump_loader;

--
-- Name: TABLE loads; Type: ACL; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

GRANT SELECT ON TABLE t_schema_dump.loads TO t_schema_dump;
GRANT INSERT,UPDATE ON TABLE t_schema_dump.loads TO t_schema_dump_loader;

--
-- Name: SEQUENCE loads_load_id_seq; Type: ACL; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

GRANT USAGE ON SEQUENCE t_schema_dump.loads_load_id_seq TO t_schema_dump_loader;

--
-- Name: TABLE master_file; Type: ACL; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

GRANT SELECT ON TABLE t_schema_dump.master_file TO t_schema_dump;

--
-- Name: TABLE queue_status; Type: ACL; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

GRANT SELECT ON TABLE t_schema_dump.queue_status TO t_schema_dump;

--
-- Name: TABLE rejects; Type: ACL; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

GRANT SELECT ON TABLE t_schema_dump.rejects TO t_schema_dump;
GRANT INSERT ON TABLE t_schema_dump.rejects TO t_schema_dump_loader;

--
-- Name: SEQUENCE rejects_reject_id_seq; Type: ACL; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

GRANT USAGE ON SEQUENCE t_schema_dump.rejects_reject_id_seq TO t_schema_dump_loader;

--
-- Name: TABLE retention_policy; Type: ACL; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

GRANT SELECT ON TABLE t_schema_dump.retention_policy TO t_schema_dump;

--
-- Name: TABLE runs; Type: ACL; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

GRANT SELECT ON TABLE t_schema_dump.runs TO t_schema_dump;
GRANT INSERT,UPDATE ON TABLE t_schema_dump.runs TO t_schema_dump_pipeline;

--
-- Name: SEQUENCE runs_run_id_seq; Type: ACL; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

GRANT USAGE ON SEQUENCE t_schema_dump.runs_run_id_seq TO t_schema_dump_pipeline;

--
-- Name: TABLE watermarks; Type: ACL; Schema: t_schema_dump; Owner: t_schema_dump_owner
--

GRANT SELECT ON TABLE t_schema_dump.watermarks TO t_schema_dump;
GRANT INSERT,UPDATE ON TABLE t_schema_dump.watermarks TO t_schema_dump_loader;

--
-- PostgreSQL database dump complete
--
