"""A thousand tenants on one node (issue 18): `make bench-tenants`, not part of `make bench`.

1. N tenants of a small fake-ERP size created and loaded (files), computed by
   the scheduler alone (pg_cron's dispatcher jobs);
2. a no-op `pyloader migrate` of all of them;
3. the scheduler's CPU over idle minutes: the pg_cron launcher's own CPU plus
   every backend the postmaster reaped meanwhile (the dispatcher sessions;
   an upper bound, since autovacuum workers are reaped there too), against
   the wall time;
4. M tenants made busy at once (one sales line each) and the time until
   every queue is empty, with the peak number of sessions doing pipeline
   work, pg_cron alone;
5. `pyloader tenant list` and `status --json` at N tenants;
6. a small tenant's freshness (UI edit to its recommendation) with the
   worker running while a large tenant rebuilds every key.

    python -m bench.bench_many_tenants [--tenants 1000] [--busy 100] [--idle-minutes 10]
                                       [--size 2x2x120] [--large 1000x20x730] [--edits 40] [--out FILE]
"""
from __future__ import annotations

import argparse
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import psycopg
from psycopg import sql

from bench.common import cpu_seconds, machine
from pyloader.db import drop_database, scratch_database
from pyloader import load, migrate, scheduler, tenants, worker
from pyloader.config import tenant_roles
from pyloader.fake_erp import Dataset, FakeErp, FakeErpServer, write_files
from pyloader.fake_erp.generator import DEFAULT_END_DATE

DB_NAME = "mf_bench_many"
PYLOADER = os.path.join(os.path.dirname(sys.executable), "pyloader")


def log(msg: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {msg}", file=sys.stderr, flush=True)


def queued_total(conn: psycopg.Connection, schemas: list[str]) -> int:
    """Tenants with anything queued (one query: a UNION over the schemas)."""
    parts = [sql.SQL("SELECT EXISTS (SELECT 1 FROM {}._private_dirty_keys)").format(sql.Identifier(s)) for s in schemas]
    total = 0
    for i in range(0, len(parts), 200):
        q = sql.SQL("SELECT count(*) FILTER (WHERE x) FROM ({}) q(x)").format(sql.SQL(" UNION ALL ").join(parts[i:i + 200]))
        total += conn.execute(q).fetchone()[0]
    return total


def pipeline_sessions(conn: psycopg.Connection) -> int:
    """Sessions now doing pipeline work (a tenant's pipeline role is current in them)."""
    return conn.execute("SELECT count(*) FROM pg_stat_activity WHERE usename = 'masterfile_app'"
                        " AND state = 'active' AND query LIKE 'CALL masterfile.dispatch%'"
                        " AND datname = current_database()").fetchone()[0]


def wait_empty(url: str, schemas: list[str], timeout: float) -> tuple[float, int]:
    """Seconds until no tenant has queued work, and the peak of pipeline sessions meanwhile."""
    started = time.monotonic()
    peak = 0
    with psycopg.connect(url, autocommit=True) as conn:
        while time.monotonic() - started < timeout:
            peak = max(peak, pipeline_sessions(conn))
            if queued_total(conn, schemas) == 0:
                return time.monotonic() - started, peak
            time.sleep(0.5)
    raise TimeoutError(f"queues not empty after {timeout}s")


def postmaster_pid(url: str) -> int:
    with psycopg.connect(url) as conn:
        datadir = conn.execute("SELECT current_setting('data_directory')").fetchone()[0]
    return int(pathlib.Path(datadir, "postmaster.pid").read_text().split()[0])


def cron_launcher_pid(url: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT pid FROM pg_stat_activity WHERE backend_type = 'pg_cron launcher'").fetchone()[0]


def idle_cpu(url: str, minutes: float) -> dict:
    pm, launcher = postmaster_pid(url), cron_launcher_pid(url)
    before = (cpu_seconds(pm, children=True), cpu_seconds(launcher, children=False), time.monotonic())
    time.sleep(minutes * 60)
    after = (cpu_seconds(pm, children=True), cpu_seconds(launcher, children=False), time.monotonic())
    wall = after[2] - before[2]
    reaped = after[0] - before[0]
    launcher_s = after[1] - before[1]
    return {"wall_s": wall, "reaped_cpu_s": reaped, "launcher_cpu_s": launcher_s,
            "share_of_one_core": (reaped + launcher_s) / wall}


def timed_cli(*args: str, url: str, repeats: int = 3) -> float:
    env = dict(os.environ, DATABASE_URL=url)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        res = subprocess.run([PYLOADER, *args], env=env, capture_output=True, text=True)
        times.append(time.perf_counter() - t0)
        if res.returncode != 0:
            raise RuntimeError(f"pyloader {' '.join(args)}: {res.stderr.strip()}")
    return statistics.median(times)


def freshness_beside_a_rebuild(url: str, small: str, large_size: str, edits: int) -> dict:
    """The worker serving a small tenant's UI edits while a large tenant rebuilds."""
    t = tenants.create_tenant("LARGE", url, schedule=False)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("UPDATE {}.settings SET as_of_date = %s").format(sql.Identifier(t.schema)),
                     (DEFAULT_END_DATE,))
    log(f"loading the large tenant ({large_size})")
    with FakeErpServer(FakeErp(1, large_size)).start() as server:
        results = load.load_api("LARGE", server.url, url=url)
    assert all(r.ok for r in results)
    small_schema = tenants.create_tenant(small, url, schedule=False).schema  # exists already
    w = worker.Worker(url, poll_seconds=10)
    thread = threading.Thread(target=w.run, daemon=True)
    thread.start()
    latencies = []
    try:
        # the large tenant's first computation is its full rebuild
        with psycopg.connect(url, autocommit=True) as conn:
            deadline = time.monotonic() + 120
            while not conn.execute(sql.SQL("SELECT count(*) FROM {}.runs").format(sql.Identifier(t.schema))).fetchone()[0]:
                if time.monotonic() > deadline:
                    raise TimeoutError("the large tenant's rebuild did not start")
                time.sleep(0.2)
        ui = psycopg.connect(url, autocommit=True)
        ui.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(tenant_roles(small_schema)["ui"])))
        reader = psycopg.connect(url, autocommit=True)
        # keys whose reason an un-assortment changes (discontinued wins over it)
        keys = reader.execute(sql.SQL("SELECT product_id, location_id FROM {}.recommendations"
                                      " WHERE reason IN ('reorder', 'sufficient_stock') ORDER BY 1, 2").format(
            sql.Identifier(small_schema))).fetchall()
        if not keys:
            raise RuntimeError(f"the small tenant has no key to edit at size {large_size}; use a larger --size")
        for i in range(edits):
            p, l = keys[i % len(keys)]
            assorted = (i // len(keys)) % 2 == 1
            ui.execute(sql.SQL("INSERT INTO {}.ui_assortments (product_id, location_id, assorted) VALUES (%s, %s, %s)"
                               " ON CONFLICT (product_id, location_id) DO UPDATE SET assorted = excluded.assorted"
                               ).format(sql.Identifier(small_schema)), (p, l, assorted))
            committed = time.perf_counter()
            want = "not_assorted" if not assorted else None
            while True:
                reason = reader.execute(sql.SQL("SELECT reason FROM {}.recommendations WHERE product_id = %s"
                                                " AND location_id = %s").format(sql.Identifier(small_schema)),
                                        (p, l)).fetchone()[0]
                if (reason == "not_assorted") == (want == "not_assorted"):
                    break
                if time.perf_counter() - committed > 60:
                    raise TimeoutError("edit not seen")
                time.sleep(0.002)
            latencies.append(time.perf_counter() - committed)
        with psycopg.connect(url, autocommit=True) as conn:
            rebuilding = conn.execute(sql.SQL("SELECT EXISTS (SELECT 1 FROM {}._private_dirty_keys)").format(
                sql.Identifier(t.schema))).fetchone()[0]
        ui.close()
        reader.close()
    finally:
        w.stop()
        thread.join(120)
    latencies.sort()
    return {"edits": edits, "median_ms": 1000 * statistics.median(latencies),
            "p95_ms": 1000 * latencies[int(0.95 * (len(latencies) - 1))],
            "max_ms": 1000 * latencies[-1], "large_still_rebuilding_at_end": rebuilding}


def run(args) -> dict:
    url = scratch_database(DB_NAME)
    out: dict = {"tenants": args.tenants, "busy": args.busy, "size": args.size, "large": args.large}
    try:
        migrate.migrate_control(url)
        ids = [f"T{k:04d}" for k in range(args.tenants)]
        t0 = time.perf_counter()
        schemas = [tenants.create_tenant(cid, url, schedule=False).schema for cid in ids]
        out["create_s"] = time.perf_counter() - t0
        log(f"created {args.tenants} tenants in {out['create_s']:.0f}s")
        with tempfile.TemporaryDirectory() as tmp:
            write_files(Dataset(7, args.size), tmp, "jsonl")
            t0 = time.perf_counter()
            for cid in ids:
                results = load.load_files(cid, tmp, url=url)
                assert all(r.ok for r in results), cid
            out["load_s"] = time.perf_counter() - t0
        log(f"loaded {args.tenants} tenants in {out['load_s']:.0f}s")
        with psycopg.connect(url, autocommit=True) as conn:
            for s in schemas:
                conn.execute(sql.SQL("UPDATE {}.settings SET as_of_date = %s").format(sql.Identifier(s)),
                             (DEFAULT_END_DATE,))
        scheduler.schedule_database(url)
        out["first_compute_s"], out["first_compute_peak"] = wait_empty(url, schemas, 3600)
        log(f"pg_cron computed every tenant in {out['first_compute_s']:.0f}s")

        t0 = time.perf_counter()
        results = migrate.migrate_all(url)
        out["migrate_noop_s"] = time.perf_counter() - t0
        assert len(results) == args.tenants and all(r.ok for r in results)
        out["migrate_cli_s"] = timed_cli("migrate", url=url, repeats=1)
        log(f"no-op migrate {out['migrate_noop_s']:.2f}s (CLI {out['migrate_cli_s']:.2f}s)")

        # settle: the last dispatcher ticks of the first computation are over
        time.sleep(65)
        out["idle"] = idle_cpu(url, args.idle_minutes)
        with psycopg.connect(url) as conn:
            out["idle_runs"] = sum(conn.execute(sql.SQL("SELECT count(*) FROM {}.runs WHERE started_at > now() - %s"
                                                         " * interval '1 minute'").format(sql.Identifier(s)),
                                                (args.idle_minutes,)).fetchone()[0] for s in schemas)
        log(f"idle: {out['idle']}")

        busy = schemas[:args.busy]
        with psycopg.connect(url, autocommit=True) as conn:
            for i, s in enumerate(busy):
                conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(tenant_roles(s)["loader"])))
                conn.execute(sql.SQL(
                    "UPDATE {}.erp_sales_lines SET qty = qty + 1 WHERE ctid = (SELECT ctid FROM {}.erp_sales_lines"
                    " WHERE NOT deleted LIMIT 1)").format(sql.Identifier(s), sql.Identifier(s)))
                conn.execute("RESET ROLE")
        out["busy_s"], out["busy_peak_sessions"] = wait_empty(url, busy, 600)
        out["sessions"] = scheduler.sessions()
        log(f"{args.busy} busy tenants emptied in {out['busy_s']:.0f}s, peak {out['busy_peak_sessions']} sessions")

        out["tenant_list_s"] = timed_cli("tenant", "list", "--json", url=url)
        out["status_s"] = timed_cli("status", ids[0], "--json", url=url)
        scheduler.unschedule_database(DB_NAME, url)
        out["freshness"] = freshness_beside_a_rebuild(url, ids[0], args.large, args.edits)
        log(f"freshness beside a rebuild: {out['freshness']}")
    finally:
        scheduler.unschedule_database(DB_NAME)
        drop_database(DB_NAME)
    return out


def markdown(r: dict, argv: list[str]) -> str:
    idle = r["idle"]
    f = r["freshness"]
    return f"""## A thousand tenants (issue 18)

`python -m bench.bench_many_tenants {' '.join(argv)}` (`make bench-tenants`), {machine()}:
{r['tenants']} tenants of fake-ERP size {r['size']} in one database, pg_cron with
{r['sessions']} dispatcher jobs (one per core).

| measure | figure | target |
|---|---:|---|
| `tenant create` x {r['tenants']} | {r['create_s']:.0f} s ({1000 * r['create_s'] / r['tenants']:.0f} ms each) | |
| load x {r['tenants']} (files) | {r['load_s']:.0f} s | |
| first computation of every tenant, pg_cron alone | {r['first_compute_s']:.0f} s, peak {r['first_compute_peak']} pipeline sessions | |
| no-op migrate of {r['tenants']} tenants | {r['migrate_noop_s']:.2f} s (the CLI: {r['migrate_cli_s']:.2f} s) | <= 60 s |
| scheduler CPU over {idle['wall_s'] / 60:.0f} idle minutes | launcher {idle['launcher_cpu_s']:.2f} s + reaped backends {idle['reaped_cpu_s']:.2f} s = **{100 * idle['share_of_one_core']:.2f}%** of one core (an upper bound: autovacuum's workers are reaped there too) | < 5% |
| rows written by idle ticks | {r['idle_runs']} `runs` rows; `cron.log_run = off` | 0 |
| {r['busy']} tenants busy at once, until every queue is empty | {r['busy_s']:.0f} s, peak **{r['busy_peak_sessions']}** pipeline sessions (of {r['sessions']} allowed) | < 120 s, <= {r['sessions']} |
| `pyloader tenant list --json` | {r['tenant_list_s']:.2f} s | fast |
| `pyloader status --json` | {r['status_s']:.2f} s | fast |
| a small tenant's UI edit to its recommendation, worker running, while a {r['large']} tenant rebuilds every key | median {f['median_ms']:.0f} ms, p95 **{f['p95_ms']:.0f} ms**, max {f['max_ms']:.0f} ms over {f['edits']} edits (large tenant still rebuilding at the end: {f['large_still_rebuilding_at_end']}) | p95 < 1 s |
"""


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tenants", type=int, default=1000)
    ap.add_argument("--busy", type=int, default=100)
    ap.add_argument("--idle-minutes", type=float, default=10)
    ap.add_argument("--size", default="3x2x120")
    ap.add_argument("--large", default="1000x20x730")
    ap.add_argument("--edits", type=int, default=40)
    ap.add_argument("--out", type=pathlib.Path)
    args = ap.parse_args(argv)
    shown = [a for i, a in enumerate(argv) if a != "--out" and (i == 0 or argv[i - 1] != "--out")]
    md = markdown(run(args), shown)
    print(md)
    if args.out:
        args.out.write_text(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
