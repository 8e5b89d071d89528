-- Scheduling every tenant of the database with a bounded number of
-- sessions: work hints say which tenants have queued work, dispatch() takes
-- them in turn (oldest hint first, one slice each), process_tenant() is the
-- one loop that processes a tenant's queue, whoever calls it (pg_cron's
-- dispatcher jobs, the worker, `pyloader run`, the tenant's own
-- process_dirty()).

-- Hints: each tenant's owner (its definer marking functions) adds its own;
-- the authenticator (dispatch, the worker) reads and settles them.
DROP POLICY IF EXISTS own_schema ON masterfile.work_hints;
CREATE POLICY own_schema ON masterfile.work_hints
    USING (schema_name || '_owner' = current_user) WITH CHECK (schema_name || '_owner' = current_user);
DROP POLICY IF EXISTS dispatcher ON masterfile.work_hints;
CREATE POLICY dispatcher ON masterfile.work_hints TO masterfile_app USING (true) WITH CHECK (true);
GRANT SELECT, INSERT, DELETE ON masterfile.work_hints TO masterfile_app;
GRANT SELECT, UPDATE ON masterfile.dispatch_state TO masterfile_app;

-- A hint wakes listening workers (pyloader/worker.py): NOTIFY
-- masterfile_dirty, delivered when the hint commits. Sent by this table's
-- trigger, so only where the control schema is: a tenant's marking
-- triggers may run on a Citus worker, where a NOTIFY would break the
-- two-phase commit and nobody listens (docs/scale-out.md). The notification
-- carries nothing: any role can send one on any channel, so a worker trusts
-- only the hints and the queue.
CREATE OR REPLACE FUNCTION masterfile.notify_work_hinted()
RETURNS trigger
LANGUAGE plpgsql
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, masterfile, pg_temp
AS $$
BEGIN
    -- guarantees: one wake-up per statement that added hints
    PERFORM pg_catalog.pg_notify('masterfile_dirty', '');
    RETURN NULL;
END;
$$;
REVOKE ALL ON FUNCTION masterfile.notify_work_hinted() FROM PUBLIC;
CREATE OR REPLACE TRIGGER notify_work_hinted AFTER INSERT ON masterfile.work_hints
    FOR EACH STATEMENT EXECUTE FUNCTION masterfile.notify_work_hinted();

-- The key of a session-level advisory lock naming one thing of one tenant
-- (its dispatch turn, a run's liveness). Only the roles granted the advisory
-- functions (030_hardening.sql) can take it.
CREATE OR REPLACE FUNCTION masterfile.lock_key(p_schema text, p_thing text)
RETURNS bigint
LANGUAGE sql
IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, masterfile, pg_temp
AS $$
    SELECT pg_catalog.hashtextextended('masterfile/' || p_schema || '/' || p_thing, 0)
$$;
GRANT EXECUTE ON FUNCTION masterfile.lock_key(text, text) TO PUBLIC;

-- The key of this transaction's rows in a tenant's work tables
-- (_private_feature_batch, _private_plan_batch, migration t0019): its
-- transaction id's 32 bits, shifted into an integer's range. No transaction
-- in flight beside it shares them: the xids of transactions in flight lie
-- within 2^31 of each other (the wraparound limit), so they differ in their
-- low 32 bits. Each batch deletes its rows before it
-- commits, and the dead rows stay in the table and its key index until
-- autovacuum comes, which in a run of many batches it does not: keyed by the
-- session (pg_backend_pid()), a batch's `runner = ...` found every earlier
-- batch's dead rows of the run in its index range and visited their pages,
-- so a run's cost grew with the square of its batches; keyed by the
-- transaction, a batch's range holds only its own rows.
CREATE OR REPLACE FUNCTION masterfile.work_runner()
RETURNS integer
LANGUAGE sql
VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, masterfile, pg_temp
AS $$
    SELECT (pg_catalog.txid_current() % 4294967296 - 2147483648)::integer
$$;
GRANT EXECUTE ON FUNCTION masterfile.work_runner() TO PUBLIC;

-- Process one tenant's queue: batches of keys until the queue is empty or
-- p_max_seconds have passed, each committed with exactly its claimed marks
-- removed. Runs as the tenant's pipeline role (the caller's). A procedure
-- that commits may have no SET clause, so every tenant object is named
-- through format('%I').
CREATE OR REPLACE PROCEDURE masterfile.process_tenant(p_schema text, p_batch_size integer DEFAULT 500,
                                                      p_max_seconds double precision DEFAULT 50,
                                                      p_trigger text DEFAULT 'manual')
LANGUAGE plpgsql
AS $$
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
$$;
REVOKE ALL ON PROCEDURE masterfile.process_tenant(text, integer, double precision, text) FROM PUBLIC;

-- The work a dispatcher may take now: each enabled tenant with hints that
-- are due, its oldest and newest hint. dispatch() takes from it in order of
-- the oldest hint; the worker asks it whether to call dispatch() again. One
-- definition, so the two cannot disagree on what is due. It reads as its
-- caller (security_invoker), so work_hints' row security still applies.
CREATE OR REPLACE VIEW masterfile.due_work WITH (security_invoker = true) AS
SELECT h.schema_name, pg_catalog.min(h.hint_id) AS first_hint, pg_catalog.max(h.hint_id) AS max_hint
FROM masterfile.work_hints h
JOIN masterfile.tenants t ON t.schema_name = h.schema_name AND t.enabled
WHERE h.not_before <= pg_catalog.now()
GROUP BY h.schema_name;
REVOKE ALL ON masterfile.due_work FROM PUBLIC;
GRANT SELECT ON masterfile.due_work TO masterfile_app;

-- The scheduler: take tenants with hints in turn, oldest hint first, one
-- slice of at most p_slice_seconds each, until none is left or
-- p_max_seconds have passed. Runs as the authenticator (pg_cron's
-- dispatcher jobs, the worker's pool), switching to each tenant's pipeline
-- role for its slice. Any number of dispatchers may run at once: a
-- tenant's turn is a session lock, so two never process one tenant, and
-- each takes the next free one. An idle call reads one index and writes
-- nothing.
CREATE OR REPLACE PROCEDURE masterfile.dispatch(p_max_seconds double precision DEFAULT 50,
                                                p_slice_seconds double precision DEFAULT 5,
                                                p_batch_size integer DEFAULT 500,
                                                p_trigger text DEFAULT 'cron',
                                                p_only text DEFAULT NULL,
                                                INOUT turns integer DEFAULT 0,
                                                INOUT keys_done bigint DEFAULT 0,
                                                INOUT rows_written bigint DEFAULT 0)
LANGUAGE plpgsql
AS $$
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
$$;
REVOKE ALL ON PROCEDURE masterfile.dispatch(double precision, double precision, integer, text, text, integer, bigint,
    bigint) FROM PUBLIC;
GRANT EXECUTE ON PROCEDURE masterfile.dispatch(double precision, double precision, integer, text, text, integer, bigint,
    bigint) TO masterfile_app;
