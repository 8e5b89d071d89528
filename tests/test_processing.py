"""Queue processing under concurrency and faults, with real sessions, and the
incremental result equal to a from-scratch rebuild (issue 5)."""
from __future__ import annotations

import datetime as dt
import json
import re
import threading
import time

import psycopg
import psycopg.sql
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from pyloader import features as declaration
from tests import lines
from tests.conftest import CITUS, CITUS_SHARDING, pyloader, scalar, wait_for_cron
from tests.test_features import AS_OF, check_against_reference, process

LATER = lines.UPDATED_AT + dt.timedelta(days=1)


@pytest.fixture
def loaded(tenant):
    with tenant.connect() as admin:
        admin.execute("UPDATE settings SET as_of_date = %s", (AS_OF,))
    with tenant.connect("loader") as conn:
        for table, rows in lines.generate(11, products=6, locations=4).items():
            lines.insert(conn, table, rows)
    return tenant


def queued_keys(conn) -> int:
    return scalar(conn, "SELECT count(*) FROM (SELECT DISTINCT product_id, location_id FROM _private_dirty_keys) d")


def test_change_committed_during_a_run_is_processed_by_the_next(loaded):
    with loaded.connect("pipeline", autocommit=False) as run:
        batch = run.execute("SELECT * FROM process_batch(1000)").fetchone()
        assert batch[0] > 0  # claimed and computed, not committed
        with loaded.connect("loader") as writer:  # commits while the run holds its claim
            lines.insert(writer, "erp_sales_lines", [dict(
                txn_id="DURING", line_no=1, product_id="P0", location_id="L0",
                business_date=dt.date(2025, 5, 5), qty=50, net_amount=100)], updated_at=LATER)
        run.commit()
    with loaded.connect() as conn:
        assert scalar(conn, "SELECT count(*) FROM _private_dirty_keys WHERE product_id = 'P0' AND location_id = 'L0'") == 1
    process(loaded)
    check_against_reference(loaded)


def test_killed_run_loses_no_dirty_key(loaded):
    with loaded.connect() as admin:
        keys_before = queued_keys(admin)
    assert keys_before > 5
    victim = loaded.connect("pipeline")
    pid = victim.info.backend_pid

    def run():
        try:
            victim.execute("CALL process_dirty(1, 600)")  # one key per committed batch
        except psycopg.Error:
            pass

    t = threading.Thread(target=run)
    t.start()
    with loaded.connect() as admin:
        deadline = time.monotonic() + 30
        while queued_keys(admin) > keys_before - 2 and time.monotonic() < deadline:
            time.sleep(0.005)
        admin.execute("SELECT pg_terminate_backend(%s::integer)", (pid,))  # Citus adds a bigint overload
        t.join(30)
        remaining = queued_keys(admin)
        done = scalar(admin, "SELECT count(*) FROM _private_feature_keys")
    assert 0 < remaining < keys_before
    # every key is either computed (committed with its marks deleted) or still queued
    assert done + remaining >= keys_before
    process(loaded)
    check_against_reference(loaded)


def test_two_runners_at_once_do_each_key_once(loaded):
    with loaded.connect() as admin:
        keys = queued_keys(admin)
    errors = []

    def run():
        try:
            with loaded.connect("pipeline") as conn:
                conn.execute("CALL process_dirty(2, 600)")
        except Exception as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors
    with loaded.connect() as admin:
        assert queued_keys(admin) == 0
        per_run = admin.execute("SELECT keys_done FROM runs ORDER BY run_id").fetchall()
    assert len(per_run) == 2
    assert sum(r[0] for r in per_run) == keys  # no key twice, none left out
    check_against_reference(loaded)


def test_a_batch_keys_its_work_rows_by_its_transaction(loaded):
    # the work tables' rows of a batch are keyed by masterfile.work_runner():
    # the same for every step of one transaction, another for the next
    # transaction of the same session (else each batch's lookups would walk
    # every earlier batch's dead rows of the run) and for a session beside it
    with loaded.connect("pipeline", autocommit=False) as a, loaded.connect("pipeline", autocommit=False) as b:
        first = scalar(a, "SELECT masterfile.work_runner()")
        assert scalar(a, "SELECT masterfile.work_runner()") == first
        beside = scalar(b, "SELECT masterfile.work_runner()")
        a.commit()
        second = scalar(a, "SELECT masterfile.work_runner()")
        a.commit()
        b.commit()
    assert len({first, second, beside}) == 3
    # batches of one key each, one session: every key done once, nothing left
    # in the work tables, the master file as the reference has it
    with loaded.connect() as admin:
        keys = queued_keys(admin)
    with loaded.connect("pipeline") as conn:
        conn.execute("CALL process_dirty(1, 600)")
    with loaded.connect() as admin:
        assert queued_keys(admin) == 0
        assert scalar(admin, "SELECT sum(keys_done) FROM runs") == keys
        assert scalar(admin, "SELECT count(*) FROM _private_feature_batch") == 0
        assert scalar(admin, "SELECT count(*) FROM _private_plan_batch") == 0
    check_against_reference(loaded)


def queue_scans(conn) -> tuple[int, int]:
    """The session's sequential and index scans of the queue, not yet
    reported to the statistics views (read as the session's user: the
    tenant's roles do not read them)."""
    conn.execute("RESET ROLE")
    return conn.execute("SELECT seq_scan, idx_scan FROM pg_stat_xact_user_tables "
                        "WHERE relid = '_private_dirty_keys'::regclass").fetchone()


@pytest.mark.skipif(CITUS and CITUS_SHARDING, reason="on Citus the queue's scans are counted on its worker's shard")
def test_a_warm_runner_finds_the_global_marks_of_a_long_queue_through_its_index(loaded):
    # a runner's session first prepares the queue when it holds one global
    # mark on one page; later, before a batch of a long queue (a roll's
    # every key), its lookup of the global marks must not scan the queue,
    # or a run's cost grows with the square of its keys
    process(loaded)
    with loaded.connect() as admin:
        admin.execute("SELECT mark_all_keys(NULL, 'features')")
        admin.execute("VACUUM ANALYZE _private_dirty_keys")
    with loaded.connect("pipeline", autocommit=False) as warm:
        warm.execute("SELECT prepare_queue()")
        warm.commit()
        with loaded.connect() as admin:
            admin.execute("INSERT INTO _private_dirty_keys (product_id, location_id, from_week, scope) "
                          "SELECT product_id, location_id, NULL, 'features' "
                          "FROM _private_feature_keys, generate_series(1, 400)")
            # not analysed since the queue held one mark, as in a roll
            assert scalar(admin, "SELECT pg_relation_size('_private_dirty_keys') / 8192") > 20
        # the scans of the queue by this call alone (the counts read are the
        # session's not yet reported, the first call's among them)
        before = queue_scans(warm)
        warm.execute(psycopg.sql.SQL("SET ROLE {}").format(psycopg.sql.Identifier(loaded.role("pipeline"))))
        warm.execute("SELECT prepare_queue()")
        after = queue_scans(warm)
        warm.rollback()
    assert after[0] == before[0] and after[1] > before[1]


LINE_TABLES = ("erp_sales_lines", "erp_receipt_lines", "erp_purchase_order_lines", "erp_invoice_lines")


def line_reads(conn) -> dict[str, tuple[int, int]]:
    """Per line table, the session's entries read from its key index and heap
    rows fetched through it, not yet reported (read as the session's user)."""
    conn.execute("RESET ROLE")
    return {r[0]: (r[1], r[2]) for r in conn.execute(
        "SELECT t, pg_stat_get_xact_tuples_returned(i), pg_stat_get_xact_tuples_fetched(i) "
        "FROM unnest(%s::text[]) AS t, to_regclass(t || '_key_date') AS i", (list(LINE_TABLES),))}


@pytest.mark.skipif(CITUS and CITUS_SHARDING, reason="on Citus the lines' reads are counted on its worker's shards")
def test_a_rebuild_reads_the_lines_from_their_key_indexes_alone(loaded):
    # the key indexes carry what the features read of a line (migration
    # t0021): on vacuumed tables a batch's line reads fetch nothing from the
    # heap, and a column read but not in the index would make them fetch
    process(loaded)
    with loaded.connect() as admin:
        for table in LINE_TABLES:
            admin.execute(psycopg.sql.SQL("VACUUM ANALYZE {}").format(psycopg.sql.Identifier(table)))
        keys = admin.execute("SELECT product_id, location_id FROM _private_feature_keys "
                             "ORDER BY product_id, location_id LIMIT 5").fetchall()
    with loaded.connect("pipeline", autocommit=False) as conn:
        before = line_reads(conn)
        conn.execute(psycopg.sql.SQL("SET ROLE {}").format(psycopg.sql.Identifier(loaded.role("pipeline"))))
        # from their first weeks: every line of the keys is read again (the
        # rows come out equal to the stored ones, and none is written)
        conn.execute("SELECT refresh_features(%s, %s, %s)",
                     ([k[0] for k in keys], [k[1] for k in keys], [None] * len(keys)))
        after = line_reads(conn)
        conn.rollback()
    for table in LINE_TABLES:
        read, fetched = (a - b for a, b in zip(after.get(table, (0, 0)), before.get(table, (0, 0))))
        assert read > 0 and fetched == 0, (table, read, fetched)


# the session's heap rows of features fetched through its indexes, not yet
# reported (an index's count: the table's own counts the bitmap scans')
FEATURES_FETCHED = ("SELECT sum(pg_stat_get_xact_tuples_fetched(indexrelid))::bigint FROM pg_index "
                    "WHERE indrelid = 'features'::regclass")


@pytest.mark.skipif(CITUS and CITUS_SHARDING, reason="on Citus the features' reads are counted on its worker's shards")
def test_a_roll_stages_each_key_from_its_tails_and_one_stored_row(loaded):
    # a calendar roll's keys take the weeks before the start from the tails
    # and the running state from the stored row of the tail week: one row
    # fetched a key (on a vacuumed table the probe for rows past the tails
    # is index-only), staged as the kernel's seed in the declaration's order
    process(loaded)
    stored = ", ".join(f"f.{f.name}" for f in declaration.stored())
    with loaded.connect() as admin:
        admin.execute("VACUUM ANALYZE features")
        keys = admin.execute("SELECT product_id, location_id, tail_week FROM _private_feature_keys "
                             "ORDER BY product_id, location_id LIMIT 5").fetchall()
        end = scalar(admin, "SELECT end_week()")
        want = admin.execute(psycopg.sql.SQL(
            "SELECT ARRAY[{stored}]::float8[] FROM features f JOIN _private_feature_keys k USING (product_id, location_id) "
            "WHERE f.week_start = k.tail_week ORDER BY product_id, location_id LIMIT 5").format(
            stored=psycopg.sql.SQL(stored))).fetchall()
    assert all(k[2] == end for k in keys)
    with loaded.connect("pipeline", autocommit=False) as conn:
        conn.execute("RESET ROLE")
        before = scalar(conn, FEATURES_FETCHED)
        conn.execute(psycopg.sql.SQL("SET ROLE {}").format(psycopg.sql.Identifier(loaded.role("pipeline"))))
        conn.execute("SELECT ensure_work_tables()")
        # the week after the tails, as a calendar roll stages them
        assert scalar(conn, "SELECT stage_feature_batch(%s, %s, %s, %s)",
                      ([k[0] for k in keys], [k[1] for k in keys], [k[2] + dt.timedelta(weeks=1) for k in keys],
                       end + dt.timedelta(weeks=1))) == len(keys)
        staged = conn.execute("SELECT start_week, prior_sold IS NOT NULL, seed FROM _private_feature_batch "
                              "WHERE runner = masterfile.work_runner() ORDER BY product_id, location_id").fetchall()
        conn.execute("RESET ROLE")
        fetched = scalar(conn, FEATURES_FETCHED) - before
        conn.rollback()
    assert fetched == len(keys)
    assert staged == [(k[2] + dt.timedelta(weeks=1), True, w[0]) for k, w in zip(keys, want)]


def test_a_runner_starting_during_an_expansion_waits_for_it(loaded):
    """A full rebuild's global mark, being expanded by another runner, is not
    an empty queue: the runner waits for the expansion and takes keys."""
    process(loaded)
    with loaded.connect() as admin:
        keys = scalar(admin, "SELECT count(*) FROM _private_feature_keys")
        admin.execute("SELECT mark_all_keys(NULL, 'features')")
    result = {}

    def run():
        with loaded.connect("pipeline") as conn:
            conn.execute("CALL process_dirty(1000, 600)")
            result["keys"] = scalar(conn, "SELECT keys_done FROM runs ORDER BY run_id DESC LIMIT 1")

    with loaded.connect("pipeline", autocommit=False) as other:
        # another runner, in the middle of expanding the global mark
        assert other.execute("SELECT count(*) FROM (SELECT FROM _private_dirty_keys WHERE product_id IS NULL FOR UPDATE) m"
                             ).fetchone()[0] == 1
        t = threading.Thread(target=run)
        t.start()
        time.sleep(1.0)
        assert t.is_alive()  # waiting for the expansion, not finished with nothing claimed
        other.execute("SELECT expand_global_marks()")
        other.commit()
    t.join(60)
    assert result["keys"] == keys
    with loaded.connect() as admin:
        assert queued_keys(admin) == 0
    check_against_reference(loaded)


def test_pyloader_run_with_two_runners_empties_the_queue(loaded):
    with loaded.connect() as admin:
        keys = queued_keys(admin)
    out = pyloader("run", loaded.client_id, "--runners", "2", "--batch-size", "2", "--json", url=loaded.url)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["keys_done"] == keys and result["runners"] == 2  # each key once
    with loaded.connect() as admin:
        assert queued_keys(admin) == 0
        assert scalar(admin, "SELECT count(*) FROM runs WHERE trigger = 'pyloader run' AND status = 'succeeded'") >= 2
    check_against_reference(loaded)


@pytest.mark.parametrize("option", [["--runners", "0"], ["--batch-size", "0"]])
def test_pyloader_run_refuses_a_bad_setting_before_any_sql(loaded, option):
    with loaded.connect() as admin:
        keys = queued_keys(admin)
    out = pyloader("run", loaded.client_id, *option, url=loaded.url)
    assert out.returncode == 2 and "must be at least 1" in out.stderr
    with loaded.connect() as admin:
        assert queued_keys(admin) == keys
        assert scalar(admin, "SELECT count(*) FROM runs") == 0


def test_failing_key_is_set_aside_and_others_go_on(loaded):
    with loaded.connect() as admin:
        # a quantity no double precision can hold: the one bad key fails
        admin.execute("INSERT INTO erp_sales_lines (txn_id, line_no, product_id, location_id, business_date, qty, "
                      "net_amount, updated_at) VALUES ('BAD', 1, 'PBAD', 'L0', '2025-01-06', 1e400, 1, now())")
    with loaded.connect("pipeline") as conn:
        conn.execute("CALL process_dirty()")
        assert scalar(conn, "SELECT count(*) FROM _private_dirty_keys") == 0
        failed = conn.execute("SELECT product_id, error FROM _private_failed_keys").fetchall()
        assert [f[0] for f in failed] == ["PBAD"] and failed[0][1]
        assert scalar(conn, "SELECT keys_failed FROM runs ORDER BY run_id DESC LIMIT 1") == 1
    with loaded.connect() as admin:
        admin.execute("DELETE FROM erp_sales_lines WHERE txn_id = 'BAD'")
    check_against_reference(loaded)


def test_the_lock_table_holds_every_cron_job_claiming_a_full_batch(loaded):
    """Each running batch holds an advisory lock per key it claimed, and the
    lock table is shared: pg_cron's concurrent jobs, each claiming the batch
    run_scheduled asks for, must fit (else: out of shared memory)."""
    with loaded.connect("pipeline", autocommit=False) as run:
        keys = scalar(run, "SELECT keys_done FROM process_batch(1000)")
        # what a batch holds at its end: an advisory lock per key, and its
        # other locks (relations: tables, indexes, work tables; ~100 here)
        if CITUS:
            # the claim runs on the tenant's worker, and its locks are that
            # node's: the node holding this transaction's advisory locks
            rows = run.execute("SELECT nodeid, locktype, count(*) FROM citus_locks"
                               " WHERE global_pid = citus_backend_gpid() GROUP BY 1, 2").fetchall()
            node = max((r for r in rows if r[1] == "advisory"), key=lambda r: r[2], default=(None,))[0]
            held = {kind: n for nodeid, kind, n in rows if nodeid == node}
        else:
            held = dict(run.execute("SELECT locktype, count(*) FROM pg_locks WHERE pid = pg_backend_pid()"
                                    " GROUP BY locktype").fetchall())
        run.rollback()
    assert held["advisory"] == keys > 0
    others = sum(n for kind, n in held.items() if kind != "advisory")
    with loaded.connect() as conn:
        from pyloader import scheduler

        # CALL masterfile.dispatch(max seconds, slice seconds, batch size, trigger)
        batch = int(re.search(r"dispatch\([^,]+,[^,]+,\s*(\d+)", scheduler.DISPATCH_COMMAND).group(1))
        slots = scalar(conn, "SELECT current_setting('max_locks_per_transaction')::int"
                             " * (current_setting('max_connections')::int"
                             " + current_setting('max_prepared_transactions')::int)")
        jobs = scalar(conn, "SELECT current_setting('cron.max_running_jobs')::int")
    assert slots >= jobs * (batch + others)


def test_a_batch_takes_the_keys_of_the_oldest_marks(tenant):
    """A batch reads only the queue's oldest marks (its time and memory do
    not grow with the queue: bench/bench_claim.py), and still takes keys in
    queue order: a key queued again later keeps its first place, and a key
    whose first mark is late waits however many marks it has."""
    with tenant.connect() as owner:
        owner.execute("INSERT INTO _private_dirty_keys (product_id, location_id, from_week, scope)"
                      " SELECT 'Q' || lpad(i::text, 2, '0'), 'L1', NULL, 'features' FROM generate_series(1, 40) i")
        owner.execute("INSERT INTO _private_dirty_keys (product_id, location_id, from_week, scope)"
                      " SELECT 'Q01', 'L1', NULL, 'plan' FROM generate_series(1, 3)")
    with tenant.connect("pipeline", autocommit=False) as pipe:
        assert pipe.execute("SELECT keys_done FROM process_batch(5)").fetchone()[0] == 5
        pipe.commit()
        left = [r[0] for r in pipe.execute("SELECT DISTINCT product_id FROM _private_dirty_keys ORDER BY 1")]
    assert left == [f"Q{i:02d}" for i in range(6, 41)]


def test_pg_cron_processes_the_queue(make_tenant):
    """The real scheduler: the database's dispatcher jobs process the tenant's queue as its pipeline role."""
    t = make_tenant("cronned", schedule=True)
    with t.connect("loader") as conn:
        for table, rows in lines.generate(3, products=2, locations=2).items():
            lines.insert(conn, table, rows)
    with t.connect() as conn:
        wait_for_cron(lambda: bool(scalar(conn, "SELECT count(*) FROM runs WHERE trigger = 'cron'"
                                                 " AND status = 'succeeded'")) and queued_keys(conn) == 0,
                      t.url, t.schema)
        assert scalar(conn, "SELECT count(*) FROM runs WHERE trigger = 'cron'") >= 1
        assert queued_keys(conn) == 0
        assert scalar(conn, "SELECT count(*) FROM features") > 0
    from pyloader import scheduler

    cron, _ = scheduler.cron_connection(t.url)
    with cron:
        database = psycopg.conninfo.conninfo_to_dict(t.url)["dbname"]
        rows = cron.execute("SELECT jobname, username, active, command FROM cron.job WHERE database = %s"
                            " ORDER BY jobname", (database,)).fetchall()
    # a few dispatcher jobs per database, none per tenant, run as the authenticator
    assert [r[0] for r in rows] == [scheduler.dispatch_job_name(database, i)
                                    for i in range(1, scheduler.sessions() + 1)]
    assert {(r[1], r[2], r[3]) for r in rows} == {("masterfile_app", True, scheduler.DISPATCH_COMMAND)}


# --- the incremental result equals a from-scratch rebuild, whatever happens ---

KEYS = [("P0", "L0"), ("P0", "L1"), ("P1", "L0"), ("P2", "L1")]
day_offsets = st.integers(min_value=0, max_value=500)
ops = st.one_of(
    st.tuples(st.just("insert"), st.sampled_from(KEYS), day_offsets, st.integers(-3, 9)),
    st.tuples(st.just("update_qty"), st.integers(0, 10 ** 6), st.integers(-3, 9)),
    st.tuples(st.just("move"), st.integers(0, 10 ** 6), st.sampled_from(KEYS), day_offsets),
    st.tuples(st.just("tombstone"), st.integers(0, 10 ** 6)),
    st.tuples(st.just("delete"), st.integers(0, 10 ** 6)),
    st.tuples(st.just("receipt"), st.sampled_from(KEYS), day_offsets, st.integers(1, 30)),
    st.tuples(st.just("as_of"), st.integers(-10, 10)),
    st.tuples(st.just("process"),),
)
BASE = dt.date(2024, 6, 3)


def apply(t, op, state) -> None:
    kind = op[0]
    with t.connect() as admin, t.connect("loader") as conn:
        txns = [r[0] for r in admin.execute("SELECT txn_id FROM erp_sales_lines ORDER BY txn_id")]
        pick = (lambda n: txns[n % len(txns)]) if txns else None
        if kind == "insert":
            state["n"] += 1
            lines.insert(conn, "erp_sales_lines", [dict(
                txn_id=f"H{state['n']:05d}", line_no=1, product_id=op[1][0], location_id=op[1][1],
                business_date=BASE + dt.timedelta(days=op[2]), qty=op[3], net_amount=op[3] * 2.5)])
        elif kind == "receipt":
            state["n"] += 1
            lines.insert(conn, "erp_receipt_lines", [dict(
                receipt_id=f"R{state['n']:05d}", line_no=1, po_id=None, product_id=op[1][0], location_id=op[1][1],
                received_date=BASE + dt.timedelta(days=op[2]), qty_received=op[3])])
        elif kind == "update_qty" and pick:
            conn.execute("UPDATE erp_sales_lines SET qty = %s, net_amount = %s WHERE txn_id = %s",
                         (op[2], op[2] * 3, pick(op[1])))
        elif kind == "move" and pick:
            conn.execute("UPDATE erp_sales_lines SET product_id = %s, location_id = %s, business_date = %s "
                         "WHERE txn_id = %s", (op[2][0], op[2][1], BASE + dt.timedelta(days=op[3]), pick(op[1])))
        elif kind == "tombstone" and pick:
            conn.execute("UPDATE erp_sales_lines SET deleted = NOT deleted WHERE txn_id = %s", (pick(op[1]),))
        elif kind == "delete" and pick:
            admin.execute("DELETE FROM erp_sales_lines WHERE txn_id = %s", (pick(op[1]),))
        elif kind == "as_of":
            state["as_of"] = state["as_of"] + dt.timedelta(weeks=op[1])
            admin.execute("UPDATE settings SET as_of_date = %s", (state["as_of"],))
        elif kind == "process":
            process(t)


def stored_features(conn) -> list:
    return conn.execute("SELECT * FROM features ORDER BY product_id, location_id, week_start").fetchall()


def stored_tails(conn) -> list:
    return conn.execute("SELECT product_id, location_id, first_week, tail_week, sold_tail, revenue_tail"
                        " FROM _private_feature_keys ORDER BY product_id, location_id").fetchall()


def tails_of_rows(conn) -> list:
    """_private_feature_keys as its stored rows say it must be (migration t0010): the
    tails end at the key's last row, units_sold of up to 104 weeks and revenue
    of up to 51, oldest first, as float8send() values."""
    return conn.execute("""
        SELECT k.product_id, k.location_id, k.first_week, t.tail_week,
               string_agg(float8send(f.units_sold), ''::bytea ORDER BY f.week_start)
                   FILTER (WHERE f.week_start > t.tail_week - 7 * 104),
               string_agg(float8send(f.revenue), ''::bytea ORDER BY f.week_start)
                   FILTER (WHERE f.week_start > t.tail_week - 7 * 51)
        FROM _private_feature_keys k
        CROSS JOIN LATERAL (SELECT max(f.week_start) AS tail_week FROM features f
                            WHERE f.product_id = k.product_id AND f.location_id = k.location_id) t
        LEFT JOIN features f ON f.product_id = k.product_id AND f.location_id = k.location_id
        GROUP BY k.product_id, k.location_id, k.first_week, t.tail_week
        ORDER BY k.product_id, k.location_id""").fetchall()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(ops, min_size=1, max_size=12))
def test_incremental_equals_rebuild(tenant, steps):
    with tenant.connect() as admin:
        # as the owner: the truncation's trigger marks every key as the
        # owner, and Citus refuses a table touched by two roles in one transaction
        admin.execute(psycopg.sql.SQL("SET ROLE {}").format(psycopg.sql.Identifier(tenant.schema + "_owner")))
        admin.execute("TRUNCATE erp_sales_lines, erp_receipt_lines, features, _private_feature_keys, _private_dirty_keys, _private_failed_keys")
        admin.execute("UPDATE settings SET as_of_date = %s", (BASE + dt.timedelta(days=300),))
        admin.execute("UPDATE _private_pipeline_state SET end_week = NULL")
    state = {"n": 0, "as_of": BASE + dt.timedelta(days=300)}
    for op in steps:
        apply(tenant, op, state)
    process(tenant)
    with tenant.connect() as admin:
        incremental = stored_features(admin)
        # the tails appended to week by week are the stored rows' tails
        tails = stored_tails(admin)
        assert tails == tails_of_rows(admin)
        admin.execute("SELECT mark_all_keys(NULL, 'features')")
    process(tenant)  # every key from its first week, no seed: a rebuild
    with tenant.connect() as admin:
        rebuilt = stored_features(admin)
        written = scalar(admin, "SELECT feature_rows FROM runs ORDER BY run_id DESC LIMIT 1")
    # the same bits: windows are summed afresh and running values continue
    # from the stored seed, so the rebuild finds nothing to rewrite
    assert incremental == rebuilt
    assert written == 0
    with tenant.connect() as admin:
        assert stored_tails(admin) == tails
    check_against_reference(tenant, state["as_of"])


def test_calendar_rolls_append_to_the_tails(tenant):
    """Histories longer than the tails (104 weeks of units_sold, 51 of
    revenue): each roll starts the week after the tails and reads the stored
    weeks from them; the tails stay those of the rows, and the rows those of
    a rebuild and of the reference."""
    start = dt.date(2022, 1, 3)
    as_of = start + dt.timedelta(weeks=131)
    with tenant.connect() as admin:
        admin.execute("UPDATE settings SET as_of_date = %s", (as_of,))

    def sales(first_week: int, last_week: int) -> list[dict]:
        return [dict(txn_id=f"T{p}{w:04d}", line_no=1, product_id=p, location_id="L1",
                     business_date=start + dt.timedelta(weeks=w, days=w % 5), qty=(w * 7 + len(p)) % 9,
                     net_amount=((w * 7 + len(p)) % 9) * 1.25 + w / 100)
                for p, first in (("P1", 0), ("P22", 70)) for w in range(max(first, first_week), last_week + 1)]

    with tenant.connect("loader") as conn:
        lines.insert(conn, "erp_sales_lines", sales(0, 130))
    process(tenant)
    for weeks in (1, 1, 2, 1):
        with tenant.connect("loader") as conn:
            # the weeks the roll adds have sales too
            now = (as_of - start).days // 7
            lines.insert(conn, "erp_sales_lines", sales(now, now + weeks - 1))
        as_of += dt.timedelta(weeks=weeks)
        with tenant.connect() as admin:
            admin.execute("UPDATE settings SET as_of_date = %s", (as_of,))
        process(tenant)
        with tenant.connect() as admin:
            # each key computed only the weeks the roll added
            assert scalar(admin, "SELECT feature_rows FROM runs ORDER BY run_id DESC LIMIT 1") == 2 * weeks
            assert stored_tails(admin) == tails_of_rows(admin)
            incremental = stored_features(admin)
            tails = stored_tails(admin)
    with tenant.connect() as admin:
        assert {(p, len(s) // 8, len(r) // 8) for p, _, _, _, s, r in tails} == {("P1", 104, 51), ("P22", 66, 51)}
        admin.execute("SELECT mark_all_keys(NULL, 'features')")
    process(tenant)
    with tenant.connect() as admin:
        assert stored_features(admin) == incremental
        assert stored_tails(admin) == tails
    check_against_reference(tenant, as_of)


def test_run_records_the_time_of_features_and_of_plans(loaded):
    process(loaded)
    with loaded.connect() as conn:
        keys, features, plans, wall = conn.execute(
            "SELECT keys_done, feature_seconds, plan_seconds, extract(epoch FROM finished_at - started_at) "
            "FROM runs ORDER BY run_id DESC LIMIT 1").fetchone()
    assert keys > 0 and features > 0 and plans > 0
    assert features + plans <= wall
