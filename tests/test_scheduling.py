"""Many tenants on one node (issue 18): work hints, the dispatcher, the
bounded worker pool and the operator's switches, against real pg_cron."""
from __future__ import annotations

import json
import threading
import time

import psycopg
import pytest
from psycopg import sql

from pyloader import db, scheduler, worker
from pyloader.config import tenant_roles
from tests import lines
from tests.conftest import pyloader, scalar, wait_for_cron


def load(t, seed: int = 3, products: int = 2, locations: int = 2) -> None:
    with t.connect("loader") as conn:
        for table, rows in lines.generate(seed, products=products, locations=locations).items():
            lines.insert(conn, table, rows)


def queued(t) -> int:
    with t.connect() as conn:
        return scalar(conn, "SELECT count(*) FROM _private_dirty_keys")


def runs(t) -> int:
    with t.connect() as conn:
        return scalar(conn, "SELECT count(*) FROM runs")


def hints(url: str, schema: str | None = None) -> int:
    with psycopg.connect(url) as conn:
        return scalar(conn, "SELECT count(*) FROM masterfile.work_hints WHERE %s::text IS NULL OR schema_name = %s",
                      (schema, schema))


def dispatch(url: str, **kw) -> tuple:
    with db.open_app(url, autocommit=True) as conn:
        return conn.execute("CALL masterfile.dispatch(%(max)s, %(slice)s, 500, 'test', %(only)s)",
                            {"max": kw.get("max", 50), "slice": kw.get("slice", 5), "only": kw.get("only")}).fetchone()


def test_marks_leave_a_hint_and_a_dispatch_settles_it(make_tenant):
    a, b = make_tenant("acme"), make_tenant("bolt")
    load(a)
    assert hints(a.url, a.schema) >= 1 and hints(a.url, b.schema) == 0
    turns, keys, rows = dispatch(a.url)
    assert turns == 1 and keys > 0 and rows > 0
    assert queued(a) == 0 and hints(a.url) == 0
    assert runs(b) == 0


def test_an_idle_dispatch_writes_nothing(make_tenant):
    ts = [make_tenant(name) for name in ("acme", "bolt", "cafe")]
    load(ts[0])
    dispatch(ts[0].url)
    before = [runs(t) for t in ts]
    assert hints(ts[0].url) == 0
    assert dispatch(ts[0].url) == (0, 0, 0)
    assert [runs(t) for t in ts] == before
    assert hints(ts[0].url) == 0
    # a stale hint (its queue was emptied by `pyloader run`) costs one look and no run
    with ts[0].connect() as conn:
        conn.execute("INSERT INTO masterfile.work_hints (schema_name) VALUES (%s)", (ts[0].schema,))
    assert dispatch(ts[0].url) == (0, 0, 0)
    assert [runs(t) for t in ts] == before and hints(ts[0].url) == 0


def test_a_tenant_cannot_hint_for_another(make_tenant):
    a, b = make_tenant("acme"), make_tenant("bolt")
    with a.connect() as conn:
        conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(tenant_roles(a.schema)["owner"])))
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("INSERT INTO masterfile.work_hints (schema_name) VALUES (%s)", (b.schema,))


def test_a_dispatcher_killed_mid_run_loses_no_work(make_tenant):
    a = make_tenant("acme")
    load(a, products=6, locations=3)
    victim = db.open_app(a.url, autocommit=True)
    pid = victim.info.backend_pid
    thread = threading.Thread(target=lambda: _swallow(victim, "CALL masterfile.dispatch(600, 600, 1, 'doomed')"),
                              daemon=True)
    thread.start()
    with a.connect() as conn:
        deadline = time.monotonic() + 30
        while not scalar(conn, "SELECT count(*) FROM runs WHERE keys_done > 0") and time.monotonic() < deadline:
            time.sleep(0.02)
        left = scalar(conn, "SELECT count(*) FROM _private_dirty_keys")
        conn.execute("SELECT pg_terminate_backend(%s)", (pid,))
    thread.join(10)
    victim.close()
    assert left > 0 and hints(a.url, a.schema) >= 1  # the hint outlived its dispatcher
    turns, keys, _ = dispatch(a.url)
    assert turns >= 1 and keys > 0
    assert queued(a) == 0 and hints(a.url) == 0
    with a.connect() as conn:
        assert scalar(conn, "SELECT count(*) FROM runs WHERE status = 'running'") == 0
        assert scalar(conn, "SELECT count(*) FROM runs WHERE status = 'interrupted'") == 1


def _swallow(conn, query):
    try:
        conn.execute(query)
    except psycopg.Error:
        pass


def test_disable_and_enable_stop_and_resume_scheduling(make_tenant):
    a = make_tenant("acme")
    res = pyloader("tenant", "disable", "acme", url=a.url)
    assert res.returncode == 0, res.stderr
    load(a)
    assert dispatch(a.url) == (0, 0, 0)
    assert queued(a) > 0  # its data and its queue stay
    assert pyloader("tenant", "enable", "acme", url=a.url).returncode == 0
    assert dispatch(a.url)[0] == 1 and queued(a) == 0
    assert pyloader("tenant", "disable", "nobody", url=a.url).returncode == 1


def test_drop_refuses_without_yes_and_leaves_nothing(make_tenant):
    a, b = make_tenant("dropme"), make_tenant("keepme")
    load(a)
    res = pyloader("tenant", "drop", "dropme", url=a.url)
    assert res.returncode == 2 and "--yes" in res.stderr
    res = pyloader("tenant", "drop", "dropme", "--yes", "--json", url=a.url)
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert sorted(out["roles_dropped"]) == sorted(tenant_roles(a.schema).values()) and out["roles_kept"] == []
    with psycopg.connect(a.url) as conn:
        assert scalar(conn, "SELECT count(*) FROM pg_namespace WHERE nspname = %s", (a.schema,)) == 0
        assert scalar(conn, "SELECT count(*) FROM pg_roles WHERE rolname LIKE 't\\_dropme%%'") == 0
        assert scalar(conn, "SELECT count(*) FROM masterfile.tenants WHERE client_id = 'dropme'") == 0
        assert scalar(conn, "SELECT count(*) FROM masterfile.work_hints WHERE schema_name = %s", (a.schema,)) == 0
    assert runs(b) == 0 and pyloader("status", "keepme", url=a.url).returncode == 0


def test_the_worker_serves_many_tenants_through_a_bounded_pool(make_tenant):
    ts = [make_tenant(f"w{i}") for i in range(4)]
    for i, t in enumerate(ts):
        load(t, seed=i)
    w = worker.Worker(ts[0].url, poll_seconds=60, sessions=2)
    thread = threading.Thread(target=w.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 120
        while any(queued(t) for t in ts) and time.monotonic() < deadline:
            with psycopg.connect(ts[0].url) as conn:
                # the listener and two pool sessions, whatever the number of tenants
                assert scalar(conn, "SELECT count(*) FROM pg_stat_activity WHERE usename = 'masterfile_app'"
                                    " AND datname = current_database()") <= 3
            time.sleep(0.1)
        assert not any(queued(t) for t in ts)
        assert w.idle.wait(30)
    finally:
        w.stop()
        thread.join(30)
    assert not thread.is_alive()
    assert 1 <= w.peak_sessions <= 2 and w.totals["turns"] >= 4


def test_scheduling_again_writes_no_job(make_tenant):
    """pg_cron 1.4 can lose a write of cron.job that a large catalog change
    follows (docs/scheduling.md): a tenant created where the dispatchers
    exist writes no job, and a job that differs is written again."""
    a = make_tenant("acme", schedule=True)
    cron, database = scheduler.cron_connection(a.url)
    query = ("SELECT jobname, jobid, xmin::text FROM cron.job WHERE database = %s"
             " OR jobname = %s ORDER BY jobname")
    with cron:
        before = cron.execute(query, (database, scheduler.PURGE_JOB)).fetchall()
        assert len(before) == scheduler.sessions() + 1
        make_tenant("bolt", schedule=True)
        assert cron.execute(query, (database, scheduler.PURGE_JOB)).fetchall() == before
        name = scheduler.dispatch_job_name(database, 1)
        cron.execute("UPDATE cron.job SET schedule = '*/5 * * * *' WHERE jobname = %s", (name,))
        scheduler.schedule_database(a.url)
        assert scalar(cron, "SELECT schedule FROM cron.job WHERE jobname = %s", (name,)) == scheduler.PROCESS_SCHEDULE


def test_migrate_one_tenant_and_report_which_failed(make_tenant):
    a, b = make_tenant("acme"), make_tenant("bolt")
    res = pyloader("migrate", "--tenant", "acme", "--json", url=a.url)
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert [t["schema"] for t in doc["tenants"]] == [a.schema] and doc["failed"] == []
    # break one tenant: the other still migrates, the exit status and --json say which failed
    with b.connect() as conn:
        conn.execute("DROP TABLE _private_dirty_keys CASCADE")
    res = pyloader("migrate", "--json", url=a.url)
    assert res.returncode == 0  # nothing new for either tenant: neither is touched
    res = pyloader("migrate", "--json", "--reload", url=a.url)
    assert res.returncode == 1
    doc = json.loads(res.stdout)
    assert doc["failed"] == [b.schema]
    assert {t["schema"]: t["ok"] for t in doc["tenants"]} == {a.schema: True, b.schema: False}


def test_pg_cron_dispatchers_process_one_busy_tenant_among_idle_ones(make_tenant):
    """Real pg_cron: the database's dispatcher jobs alone empty the busy tenant's
    queue; the idle tenants get no run and no row anywhere."""
    busy = make_tenant("busy", schedule=True)
    idle = [make_tenant(f"idle{i}", schedule=True) for i in range(3)]
    load(busy)
    wait_for_cron(lambda: queued(busy) == 0, busy.url, busy.schema)
    with busy.connect() as conn:
        assert scalar(conn, "SELECT count(*) FROM runs WHERE trigger = 'cron' AND status = 'succeeded'") >= 1
    assert [runs(t) for t in idle] == [0, 0, 0]
    assert hints(busy.url) == 0
    cron, _ = scheduler.cron_connection(busy.url)
    with cron:
        assert scalar(cron, "SELECT current_setting('cron.log_run')") == "off"
        database = psycopg.conninfo.conninfo_to_dict(busy.url)["dbname"]
        assert scalar(cron, "SELECT count(*) FROM cron.job_run_details d JOIN cron.job j USING (jobid)"
                            " WHERE j.database = %s", (database,)) == 0


def test_a_dispatcher_turn_applies_the_tenants_retention(make_tenant):
    a = make_tenant("acme")
    with a.connect() as conn:
        conn.execute("INSERT INTO runs (trigger, started_at, finished_at, status)"
                     " VALUES ('old', now() - interval '400 days', now() - interval '400 days', 'succeeded'),"
                     "        ('recent', now() - interval '1 day', now() - interval '1 day', 'succeeded')")
    assert dispatch(a.url) == (0, 0, 0)  # an idle tick deletes nothing
    with a.connect() as conn:
        assert scalar(conn, "SELECT count(*) FROM runs WHERE trigger IN ('old', 'recent')") == 2
    load(a)
    assert dispatch(a.url)[0] == 1
    with a.connect() as conn:
        assert [r[0] for r in conn.execute("SELECT trigger FROM runs WHERE trigger IN ('old', 'recent')")] == ["recent"]
