"""Benchmark of the closed loop (issue 6): how soon a UI edit reaches its
recommendations, and what a pass costs.

- Freshness: the time from a UI edit's commit to its updated recommendation,
  seen from a second connection polling `recommendations`, over many edits,
  with `pyloader worker` listening, and with pg_cron alone (whose finest
  schedule is a minute, so only a few edits are timed).
- A pass after a UI edit touching 1 key, and after one touching every key
  at a location (1,000 keys at the default size), in a warm pipeline session.
- The per-key forecast work through the PL/Python kernel against the same
  work written in plain SQL, on the same 1,000 keys (the issue's "let the
  benchmark decide").

    python -m bench.bench_freshness [--size 1000x20x730] [--edits 100] [--cron-edits 3]
                                    [--out FILE] [--reuse]

The tenant is loaded from the bundled fake ERP through its API, in a scratch
database (`mf_bench_freshness`, dropped at the end unless --keep); --reuse
keeps a database left by --keep and skips the load.
"""
from __future__ import annotations

import argparse
import datetime as dt
import pathlib
import random
import statistics
import sys
import threading
import time

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from bench.common import machine
from pyloader.db import drop_database, scratch_database
from pyloader import load, run, scheduler, tenants, worker
from pyloader.config import database_url, tenant_roles
from pyloader.fake_erp import FakeErp, FakeErpServer
from pyloader.fake_erp.generator import DEFAULT_END_DATE

DB_NAME = "mf_bench_freshness"
CLIENT = "BENCH"
AS_OF = DEFAULT_END_DATE + dt.timedelta(days=1)
POLL_STEP = 0.002  # seconds between two looks at the recommendation

# --- named SQL -------------------------------------------------------------------

SET_SEARCH_PATH = "SET search_path = {s}, pg_catalog"
TOGGLE_ASSORTMENT = (
    "INSERT INTO ui_assortments (product_id, location_id, assorted) VALUES (%(p)s, %(l)s, %(assorted)s)"
    " ON CONFLICT (product_id, location_id) DO UPDATE SET assorted = excluded.assorted"
)
REASON_OF = "SELECT reason FROM recommendations WHERE product_id = %(p)s AND location_id = %(l)s"
TOGGLE_LOCATION = (
    "INSERT INTO ui_location_settings (location_id, enabled) VALUES (%(l)s, %(enabled)s)"
    " ON CONFLICT (location_id) DO UPDATE SET enabled = excluded.enabled"
)
PROCESS = "CALL process_dirty(500, 600, 'bench')"
LAST_RUN = "SELECT keys_done, plan_rows, feature_rows FROM runs ORDER BY run_id DESC LIMIT 1"
QUEUED = "SELECT count(*) FROM _private_dirty_keys"
UNSCHEDULE = "SELECT cron.unschedule(jobid) FROM cron.job WHERE jobname LIKE %(prefix)s"

# the series of a location's keys, as refresh_plans reads them
SERIES = """
SELECT string_agg(y.weeks, ''::bytea ORDER BY k.product_id, k.location_id),
       array_agg(y.n ORDER BY k.product_id, k.location_id)
FROM _private_feature_keys k
CROSS JOIN LATERAL (
    SELECT count(*)::integer AS n, string_agg(float8send(f.units_sold), ''::bytea ORDER BY f.week_start) AS weeks
    FROM features f
    WHERE f.product_id = k.product_id AND f.location_id = k.location_id
      AND f.week_start > end_week() - 7 * 104 AND f.week_start <= end_week()) y
WHERE k.location_id = %(l)s AND y.n > 0
"""
KERNEL = """
SELECT r.demand_class, r.forecast_per_week
FROM ({series}) s(y_flat, lengths)
CROSS JOIN LATERAL (SELECT array_fill(0::float8, ARRAY[cardinality(s.lengths)]) AS zeros,
                           array_fill(1::float8, ARRAY[cardinality(s.lengths)]) AS ones,
                           array_fill(false, ARRAY[cardinality(s.lengths)]) AS no,
                           array_fill(true, ARRAY[cardinality(s.lengths)]) AS yes) a
CROSS JOIN LATERAL masterfile.forecast_batch(s.y_flat, s.lengths, a.zeros, a.zeros, a.zeros, a.ones, a.ones,
                                             array_fill(0.95::float8, ARRAY[cardinality(s.lengths)]),
                                             a.ones, a.ones, a.no, a.yes, a.yes) r
""".format(series=SERIES)
# The same class and forecast in plain SQL: SES levels in closed form,
# level = 0.9^(m-1) x_0 + sum_{j>=1} 0.1 * 0.9^(m-1-j) x_j over a series of m values.
PLAIN_SQL = """
WITH y AS (
    SELECT f.product_id, f.location_id, f.units_sold AS v,
           row_number() OVER w - 1 AS t, count(*) OVER (PARTITION BY f.product_id, f.location_id) AS n
    FROM _private_feature_keys k
    JOIN features f ON f.product_id = k.product_id AND f.location_id = k.location_id
    WHERE k.location_id = %(l)s AND f.week_start > end_week() - 7 * 104 AND f.week_start <= end_week()
    WINDOW w AS (PARTITION BY f.product_id, f.location_id ORDER BY f.week_start)
),
sales AS (
    SELECT s.*, row_number() OVER w - 1 AS j, count(*) OVER (PARTITION BY s.product_id, s.location_id) AS k,
           (s.t + 1) - coalesce(lag(s.t + 1) OVER w, 0) AS gap
    FROM y s WHERE s.v > 0
    WINDOW w AS (PARTITION BY s.product_id, s.location_id ORDER BY s.t)
),
sizes AS (
    SELECT product_id, location_id, avg(gap) AS adi,
           coalesce((stddev_samp(v) / avg(v)) ^ 2, 0) AS cv2,
           sum(v * CASE WHEN j = 0 THEN 0.9 ^ (k - 1) ELSE 0.1 * 0.9 ^ (k - 1 - j) END) AS z,
           sum(gap * CASE WHEN j = 0 THEN 0.9 ^ (k - 1) ELSE 0.1 * 0.9 ^ (k - 1 - j) END) AS p
    FROM sales GROUP BY 1, 2
),
levels AS (
    SELECT product_id, location_id,
           sum(v * CASE WHEN t = 0 THEN 0.9 ^ (n - 1) ELSE 0.1 * 0.9 ^ (n - 1 - t) END) AS level
    FROM y GROUP BY 1, 2
)
SELECT CASE WHEN s.adi IS NULL THEN 'no_demand'
            WHEN s.adi < 1.32 AND s.cv2 < 0.49 THEN 'smooth' WHEN s.adi < 1.32 THEN 'erratic'
            WHEN s.cv2 < 0.49 THEN 'intermittent' ELSE 'lumpy' END,
       CASE WHEN s.adi IS NULL THEN 0 WHEN s.adi < 1.32 THEN l.level ELSE 0.95 * s.z / s.p END
FROM levels l LEFT JOIN sizes s USING (product_id, location_id)
ORDER BY l.product_id, l.location_id
"""


# --- setup -----------------------------------------------------------------------


def bench_url() -> str:
    params = conninfo_to_dict(database_url())
    params["dbname"] = DB_NAME
    return make_conninfo(**params)


def prepare(size: str, reuse: bool, log) -> tuple[str, str, dict]:
    """The scratch database with the tenant loaded and computed: (url, schema, timings)."""
    url = bench_url()
    if reuse:
        try:
            with psycopg.connect(url) as conn:
                schema = conn.execute("SELECT schema_name FROM masterfile.tenants WHERE client_id = %s",
                                      (CLIENT,)).fetchone()[0]
                keys = conn.execute(sql.SQL("SELECT count(*) FROM {}.recommendations").format(
                    sql.Identifier(schema))).fetchone()[0]
            if keys:
                log(f"reusing {DB_NAME}: {keys:,} keys")
                return url, schema, {"reused": True}
        except (psycopg.Error, TypeError):
            pass
    url = scratch_database(DB_NAME)
    from pyloader import migrate

    migrate.migrate_control(url)
    t = tenants.create_tenant(CLIENT, url, schedule=False)  # pg_cron is switched on for its own measurement
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("UPDATE {}.settings SET as_of_date = %s").format(sql.Identifier(t.schema)), (AS_OF,))
    timings = {}
    started = time.monotonic()
    with FakeErpServer(FakeErp(1, size)).start() as server:
        results = load.load_api(CLIENT, server.url, url=url, progress=load.Progress())
    if not all(r.ok for r in results):
        raise RuntimeError("load failed: " + "; ".join(r.message or r.entity for r in results if not r.ok))
    timings["load_s"] = time.monotonic() - started
    timings["lines"] = sum(r.counts.read for r in results)
    log(f"loaded {timings['lines']:,} records in {timings['load_s']:.0f}s")
    result = run.run_until_empty(CLIENT, url)
    if result["keys_failed"]:
        raise RuntimeError(f"{result['keys_failed']} keys failed to compute (see {DB_NAME}'s _private_failed_keys)")
    timings["compute_s"] = result["seconds"]
    log(f"computed {result['keys_done']:,} keys in {result['seconds']:.0f}s")
    return url, t.schema, timings


def unschedule() -> None:
    """Remove the scratch database's pg_cron jobs (by id: they belong to the tenant's role)."""
    conn, _ = scheduler.cron_connection(database_url())
    with conn:
        conn.execute(UNSCHEDULE, {"prefix": f"masterfile:{DB_NAME}:".replace("_", "\\_") + "%"})


def connect(url: str, schema: str, role: str | None = None) -> psycopg.Connection:
    conn = psycopg.connect(url, autocommit=True)
    conn.execute(sql.SQL(SET_SEARCH_PATH).format(s=sql.Identifier(schema)))
    if role:
        conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(tenant_roles(schema)[role])))
    return conn


# --- measurements ------------------------------------------------------------------


class Editor:
    """UI edits on random keys, each undone by the next edit of the same key."""

    def __init__(self, url: str, schema: str, seed: int = 7):
        self.ui = connect(url, schema, "ui")
        self.reader = connect(url, schema)
        self.keys = self.reader.execute(
            # keys whose reason an un-assortment changes (discontinued wins over it)
            "SELECT product_id, location_id FROM recommendations WHERE reason IN ('reorder', 'sufficient_stock')"
            " ORDER BY 1, 2").fetchall()
        random.Random(seed).shuffle(self.keys)
        self.n = 0

    def edit_and_wait(self, timeout: float) -> float:
        """Un-assort one key; seconds from the commit until its recommendation says so."""
        p, l = self.keys[self.n % len(self.keys)]
        self.n += 1
        params = {"p": p, "l": l}
        self.ui.execute(TOGGLE_ASSORTMENT, params | {"assorted": False})  # autocommit: returns after COMMIT
        committed = time.perf_counter()
        deadline = committed + timeout
        while time.perf_counter() < deadline:
            if self.reader.execute(REASON_OF, params).fetchone()[0] == "not_assorted":
                return time.perf_counter() - committed
            time.sleep(POLL_STEP)
        raise TimeoutError(f"({p}, {l}) not updated within {timeout}s")

    def restore(self) -> None:
        self.ui.execute("DELETE FROM ui_assortments")

    def close(self) -> None:
        self.ui.close()
        self.reader.close()


def wait_until_settled(url: str, schema: str, timeout: float = 600) -> None:
    with connect(url, schema) as conn:
        deadline = time.monotonic() + timeout
        while conn.execute(QUEUED).fetchone()[0] and time.monotonic() < deadline:
            time.sleep(0.05)


def freshness_with_worker(url: str, schema: str, edits: int, log) -> list[float]:
    w = worker.Worker(url, CLIENT, poll_seconds=10)
    thread = threading.Thread(target=w.run, daemon=True)
    thread.start()
    editor = Editor(url, schema)
    try:
        if not w.idle.wait(600):
            raise RuntimeError("the worker did not settle")
        latencies = []
        for i in range(edits):
            latencies.append(editor.edit_and_wait(30))
            if (i + 1) % 25 == 0:
                log(f"worker: {i + 1} edits, median {statistics.median(latencies) * 1000:.0f} ms")
        editor.restore()
        wait_until_settled(url, schema)
        return latencies
    finally:
        editor.close()
        w.stop()
        thread.join(30)


def freshness_with_cron(url: str, schema: str, edits: int, log) -> list[float]:
    scheduler.schedule_database(url)
    editor = Editor(url, schema, seed=8)
    try:
        latencies = []
        for _ in range(edits):
            latencies.append(editor.edit_and_wait(150))
            log(f"pg_cron: edit seen after {latencies[-1]:.1f}s")
        editor.restore()
        wait_until_settled(url, schema)
        return latencies
    finally:
        editor.close()
        unschedule()


def pass_times(url: str, schema: str, repeats: int, log) -> dict:
    """A pass (CALL process_dirty) after a 1-key edit and after a location-wide edit."""
    out = {"one_key": [], "location": [], "location_keys": 0, "cold_first_pass": None}
    with connect(url, schema, "ui") as ui, connect(url, schema) as reader:
        location = reader.execute("SELECT location_id FROM _private_feature_keys GROUP BY 1 ORDER BY count(*) DESC, 1"
                                  " LIMIT 1").fetchone()[0]
        keys = reader.execute("SELECT product_id, location_id FROM _private_feature_keys ORDER BY 1, 2 LIMIT %s",
                              (repeats,)).fetchall()
        # a fresh session pays for loading PL/Python, numpy and the kernel once
        with connect(url, schema, "pipeline") as cold:
            ui.execute(TOGGLE_ASSORTMENT, {"p": keys[0][0], "l": keys[0][1], "assorted": False})
            started = time.perf_counter()
            cold.execute(PROCESS)
            out["cold_first_pass"] = time.perf_counter() - started
        with connect(url, schema, "pipeline") as pipe:
            pipe.execute(PROCESS)  # warm
            for assorted in (None, False):
                for p, l in keys:
                    ui.execute(TOGGLE_ASSORTMENT, {"p": p, "l": l, "assorted": assorted})
                    started = time.perf_counter()
                    pipe.execute(PROCESS)
                    out["one_key"].append(time.perf_counter() - started)
            for i in range(repeats):
                ui.execute(TOGGLE_LOCATION, {"l": location, "enabled": i % 2 == 1})
                out["location_keys"] = reader.execute("SELECT count(DISTINCT (product_id, location_id))"
                                                      " FROM _private_dirty_keys").fetchone()[0]
                started = time.perf_counter()
                pipe.execute(PROCESS)
                out["location"].append(time.perf_counter() - started)
                out["location_run"] = pipe.execute(LAST_RUN).fetchone()
        ui.execute("DELETE FROM ui_assortments")
        ui.execute("DELETE FROM ui_location_settings")
    wait_and_process(url, schema)
    out["location_id"] = location
    log(f"pass: 1 key {statistics.median(out['one_key']) * 1000:.0f} ms, "
        f"{out['location_keys']} keys {statistics.median(out['location']) * 1000:.0f} ms")
    return out


def wait_and_process(url: str, schema: str) -> None:
    with connect(url, schema, "pipeline") as pipe:
        pipe.execute(PROCESS)


def kernel_vs_sql(url: str, schema: str, location: str, repeats: int) -> dict:
    out = {"series": [], "kernel": [], "plain_sql": []}
    with connect(url, schema, "pipeline") as conn:
        params = {"l": location}
        conn.execute(KERNEL, params).fetchall()  # load the kernel once
        for _ in range(repeats):
            started = time.perf_counter()
            conn.execute(SERIES, params).fetchall()
            out["series"].append(time.perf_counter() - started)
            started = time.perf_counter()
            got_kernel = conn.execute(KERNEL, params).fetchone()
            out["kernel"].append(time.perf_counter() - started)
            started = time.perf_counter()
            got_sql = conn.execute(PLAIN_SQL, params).fetchall()
            out["plain_sql"].append(time.perf_counter() - started)
    classes, forecasts = got_kernel
    out["keys"] = len(classes)
    out["class_mismatches"] = sum(1 for a, (b, _) in zip(classes, got_sql) if a != b)
    out["max_rel_diff"] = max((abs(a - b) / max(abs(a), abs(b)) for a, (_, b) in zip(forecasts, got_sql)
                               if a or b), default=0.0)
    return out


# --- report --------------------------------------------------------------------


def ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:,.0f} ms"


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def report(args, setup: dict, fresh: list[float], cron: list[float], passes: dict, kernel: dict, keys: int) -> str:
    lines = [
        "## Freshness: a UI edit to its recommendation (issue 6)",
        "",
        f"Tenant: fake ERP `{args.size}` (products x locations x days), {keys:,} keys, loaded through the API"
        + (f" ({setup['lines']:,} records in {setup['load_s']:.0f} s, computed in {setup['compute_s']:.0f} s)"
           if "lines" in setup else "") + f". Machine: {machine()}.",
        "",
        "Each edit un-assorts one random key as the UI role (`ui_assortments`, autocommit); the clock starts when "
        "the COMMIT returns and stops when a second connection, polling every 2 ms, reads the key's new reason.",
        "",
        "| runner | edits | median | p95 | max |",
        "|---|---:|---:|---:|---:|",
        f"| `pyloader worker` (LISTEN) | {len(fresh)} | {ms(fresh)} | {p95(fresh) * 1000:,.0f} ms "
        f"| {max(fresh) * 1000:,.0f} ms |",
    ]
    if cron:
        lines.append(f"| pg_cron alone (every minute) | {len(cron)} | {statistics.median(cron):.1f} s "
                     f"| {p95(cron):.1f} s | {max(cron):.1f} s |")
    lines += [
        "",
        f"pg_cron's finest schedule is one minute, so an edit waits for the next tick: up to ~60 s plus the pass; "
        f"only {len(cron)} edits are timed there (the worker's figure is over {len(fresh)}).",
        "",
        "### A pass after one edit",
        "",
        "`CALL process_dirty()` as the pipeline role in a warm session (PL/Python and the kernel loaded), "
        "right after the edit committed:",
        "",
        "| edit | keys recomputed | median | runs |",
        "|---|---:|---:|---:|",
        f"| one key's assortment | 1 | {ms(passes['one_key'])} | {len(passes['one_key'])} |",
        f"| location {passes['location_id']} disabled / enabled | {passes['location_keys']:,} "
        f"| {ms(passes['location'])} | {len(passes['location'])} |",
        "",
        f"A fresh session's first pass (1 key) took {passes['cold_first_pass'] * 1000:,.0f} ms: it loads "
        "PL/Python, numpy and the kernel once. pg_cron starts a session per run and pays this every time; "
        "the worker keeps its session.",
        "",
        "### The forecast work: PL/Python kernel vs plain SQL",
        "",
        f"Demand class and forecast per week of the {kernel['keys']:,} keys of location {passes['location_id']} "
        "(104 weeks each), medians:",
        "",
        "| step | time |",
        "|---|---:|",
        f"| read the series (features -> bytea, as refresh_plans does when a key has no tail) | {ms(kernel['series'])} |",
        f"| series + `masterfile.forecast_batch` (PL/Python + numpy) | {ms(kernel['kernel'])} |",
        f"| the same class and forecast in plain SQL (window functions, closed-form SES) | {ms(kernel['plain_sql'])} |",
        "",
        f"Plain SQL agrees on {kernel['keys'] - kernel['class_mismatches']:,} of {kernel['keys']:,} classes; its "
        f"forecasts differ by up to {kernel['max_rel_diff']:.1e} relative (closed-form sums round differently, and "
        "the CV2 = 0.49 tie is not decided exactly). The kernel also gives the inverse normal CDF, which "
        "PostgreSQL lacks.",
        "",
    ]
    verdict = ("The kernel is faster than plain SQL for this work, so the pipeline calls it."
               if statistics.median(kernel["kernel"]) <= statistics.median(kernel["plain_sql"])
               else "Plain SQL is faster than the kernel for this work on this machine; see the numbers above.")
    lines += [verdict, ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_freshness", description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="large", help="fake ERP size (default large = 1000x20x730)")
    parser.add_argument("--edits", type=int, default=100, help="edits timed with the worker (default 100)")
    parser.add_argument("--cron-edits", type=int, default=3, help="edits timed with pg_cron alone (default 3; 0 skips)")
    parser.add_argument("--repeats", type=int, default=5, help="passes timed per kind (default 5)")
    parser.add_argument("--out", help="write the markdown section here (default: stdout)")
    parser.add_argument("--reuse", action="store_true", help="reuse a database kept by --keep")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args(argv)

    def log(msg: str) -> None:
        print(f"bench_freshness: {msg}", file=sys.stderr, flush=True)

    url, schema, setup = prepare(args.size, args.reuse, log)
    try:
        with connect(url, schema) as conn:
            keys = conn.execute("SELECT count(*) FROM _private_feature_keys").fetchone()[0]
        fresh = freshness_with_worker(url, schema, args.edits, log)
        log(f"worker: median {ms(fresh)}, p95 {p95(fresh) * 1000:.0f} ms")
        passes = pass_times(url, schema, args.repeats, log)
        kernel = kernel_vs_sql(url, schema, passes["location_id"], args.repeats)
        cron = freshness_with_cron(url, schema, args.cron_edits, log) if args.cron_edits else []
    finally:
        unschedule()
        if not args.keep:
            drop_database(DB_NAME)
    text = report(args, setup, fresh, cron, passes, kernel, keys)
    if args.out:
        pathlib.Path(args.out).write_text(text)
        log(f"wrote {args.out}")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
