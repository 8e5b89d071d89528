"""Benchmark of the incremental master file (issue 5), side by side in one run:

- full rebuild in the database vs the pandas baseline (the old pipeline's way)
  on the same data: wall time and peak memory;
- one corrected sales line: time to an updated master file and feature rows
  written, and its ratio to the full rebuild;
- one product metadata correction: feature rows written;
- a one-week roll of as_of_date: time, against the full rebuild;
- the full rebuild with one runner vs a polars job of the same features on
  one thread (issue 17's yardstick, bench/polars_baseline.py);
- reads of `master_file`: one key (all weeks) and the latest week of every key.

    python -m bench.bench_features [--products 1000 --locations 20] [--out FILE]
    python -m bench.bench_features --only polars reads   # build, one rebuild, those two
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import threading
import pathlib
import sys

import psycopg
from psycopg import sql

from bench.common import BackendMemory, machine, measured, timer
from pyloader.db import drop_database, scratch_database
from pyloader import tenants

FIRST_DAY = dt.date(2023, 7, 3)  # a Monday; 104 weeks to END_WEEK
AS_OF = dt.date(2025, 7, 2)
END_WEEK = dt.date(2025, 6, 23)
ROLLS = 3  # calendar rolls timed one after the other
READ_KEYS = 20  # keys read one after the other, all weeks each
READ_LATEST = 3  # reads of the latest week of every key
ONE_KEY = "SELECT * FROM master_file WHERE product_id = %s AND location_id = %s"
LATEST_WEEK = "SELECT * FROM master_file WHERE week_start = %s"

# Deterministic lines for every key: ~2 sales lines a week (returns among
# them), a receipt, an order and an invoice every other week; keys start in
# the first 13 weeks so rows per key differ.
GENERATE = """
INSERT INTO erp_sales_lines (txn_id, line_no, product_id, location_id, business_date, qty, net_amount, updated_at)
SELECT 'S' || p || '-' || l || '-' || d, 1, 'P' || p, 'L' || l, %(first)s::date + d,
       CASE WHEN (p * 7 + l * 3 + d) %% 23 = 0 THEN -1 ELSE 1 + (p + d) %% 4 END,
       (CASE WHEN (p * 7 + l * 3 + d) %% 23 = 0 THEN -1 ELSE 1 + (p + d) %% 4 END) * (2.5 + p %% 10),
       timestamptz '2025-01-01'
FROM generate_series(0, %(products)s - 1) p, generate_series(0, %(locations)s - 1) l, generate_series(0, 727) d
WHERE (p + l + d) %% 7 IN (0, 3, 5) AND d >= (p + l) %% 91;

INSERT INTO erp_receipt_lines (receipt_id, line_no, po_id, product_id, location_id, received_date, qty_received, updated_at)
SELECT 'R' || p || '-' || l || '-' || w, 1, NULL, 'P' || p, 'L' || l, %(first)s::date + 7 * w + 2, 5 + (p + w) %% 9,
       timestamptz '2025-01-01'
FROM generate_series(0, %(products)s - 1) p, generate_series(0, %(locations)s - 1) l, generate_series(0, 103, 2) w
WHERE 7 * w >= (p + l) %% 91;

INSERT INTO erp_purchase_order_lines (po_id, line_no, supplier_id, product_id, location_id, order_date, expected_date,
                                      qty_ordered, unit_cost, status, updated_at)
SELECT 'O' || p || '-' || l || '-' || w, 1, 'SUP' || (p %% 50), 'P' || p, 'L' || l, %(first)s::date + 7 * w + 1,
       %(first)s::date + 7 * w + 15, 6 + (p + w) %% 7, 1.5,
       (ARRAY['open', 'closed', 'closed', 'cancelled'])[1 + (p + l + w) %% 4], timestamptz '2025-01-01'
FROM generate_series(0, %(products)s - 1) p, generate_series(0, %(locations)s - 1) l, generate_series(1, 103, 2) w
WHERE 7 * w >= (p + l) %% 91;

INSERT INTO erp_invoice_lines (invoice_id, line_no, po_id, product_id, location_id, invoice_date, qty_invoiced,
                               line_amount, updated_at)
SELECT 'I' || p || '-' || l || '-' || w, 1, NULL, 'P' || p, 'L' || l, %(first)s::date + 7 * w + 3, 6 + (p + w) %% 7,
       (6 + (p + w) %% 7) * (1.4 + (w %% 5) * 0.05), timestamptz '2025-01-01'
FROM generate_series(0, %(products)s - 1) p, generate_series(0, %(locations)s - 1) l, generate_series(1, 103, 2) w
WHERE 7 * w >= (p + l) %% 91;

INSERT INTO erp_products (product_id, name, category, brand, supplier_id, unit_cost, unit_price, status, updated_at)
SELECT 'P' || p, 'Product ' || p, 'C' || (p %% 12), 'B' || (p %% 30), 'SUP' || (p %% 50), 1.5, 2.5 + p %% 10,
       'active', timestamptz '2025-01-01'
FROM generate_series(0, %(products)s - 1) p;
"""


def connect(url: str, schema: str, role: str | None) -> psycopg.Connection:
    conn = psycopg.connect(url, autocommit=True)
    conn.execute(sql.SQL("SET search_path = {}, pg_catalog").format(sql.Identifier(schema)))
    if role:
        conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(f"{schema}_{role}")))
    return conn


def process(url: str, schema: str, runners: int = 1, sessions: list[psycopg.Connection] | None = None) -> dict:
    """CALL process_dirty as the pipeline (in `runners` sessions at once, as
    `pyloader run --runners` does, or on the given warm sessions); time, rows
    written, the largest backend's memory."""
    conns = sessions or [connect(url, schema, "pipeline") for _ in range(runners)]
    runners = len(conns)
    mems = [BackendMemory(c.info.backend_pid) for c in conns]
    errors = []

    def call(conn):
        try:
            conn.execute("CALL process_dirty(1000, 1e9, 'bench')")
        except Exception as exc:  # reported below
            errors.append(exc)

    with connect(url, schema, None) as conn:
        last_run = conn.execute("SELECT coalesce(max(run_id), 0) FROM runs").fetchone()[0]
    for m in mems:
        m.__enter__()
    with timer() as t:
        threads = [threading.Thread(target=call, args=(c,)) for c in conns]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
    for m in mems:
        m.__exit__(None, None, None)
    if not sessions:
        for c in conns:
            c.close()
    if errors:
        raise errors[0]
    with connect(url, schema, None) as conn:
        keys, feature_rows, plan_rows, feature_seconds, plan_seconds = conn.execute(
            "SELECT sum(keys_done), sum(feature_rows), sum(plan_rows), sum(feature_seconds), sum(plan_seconds) "
            "FROM runs WHERE run_id > %s", (last_run,)).fetchone()
    return {"seconds": t["seconds"], "keys": keys, "feature_rows": feature_rows, "plan_rows": plan_rows,
            # summed over runners: with two, more than the wall time
            "feature_seconds": feature_seconds, "plan_seconds": plan_seconds,
            "runners": runners, "peak_private_mb": max(m.peak_private_mb for m in mems),
            "backend_cpu_seconds": sum(m.cpu_seconds for m in mems),
            "peak_rss_mb": max(m.peak_rss_mb for m in mems)}


# What any database rebuild pays before computing a single feature: every
# line aggregated into weekly facts, and every feature row written once
# (logged, with its index). Same data, same session kind as the rebuild.
FLOOR_FACTS = """
CREATE TEMP TABLE floor_facts AS
SELECT product_id, location_id, date_trunc('week', business_date)::date AS week_start,
       sum(qty) FILTER (WHERE qty > 0) AS sold, -sum(qty) FILTER (WHERE qty < 0) AS returned,
       sum(net_amount) AS revenue
FROM erp_sales_lines WHERE NOT deleted GROUP BY 1, 2, 3
UNION ALL
SELECT product_id, location_id, date_trunc('week', received_date)::date, sum(qty_received), NULL, NULL
FROM erp_receipt_lines WHERE NOT deleted GROUP BY 1, 2, 3
UNION ALL
SELECT product_id, location_id, date_trunc('week', order_date)::date,
       sum(qty_ordered) FILTER (WHERE status IS DISTINCT FROM 'cancelled'), NULL, NULL
FROM erp_purchase_order_lines WHERE NOT deleted GROUP BY 1, 2, 3
UNION ALL
SELECT product_id, location_id, date_trunc('week', invoice_date)::date, sum(qty_invoiced), sum(line_amount), NULL
FROM erp_invoice_lines WHERE NOT deleted GROUP BY 1, 2, 3
"""


def floor(url: str, schema: str) -> dict:
    """Seconds to aggregate every line into weekly facts and to write every
    feature row once, in one session of the owner (after the rebuild)."""
    with connect(url, schema, None) as conn:
        conn.execute("SET jit = off")
        with timer() as t_facts:
            conn.execute(FLOOR_FACTS)
        conn.execute("CREATE TABLE floor_copy (LIKE features INCLUDING ALL)")
        try:
            with timer() as t_write:
                conn.execute("INSERT INTO floor_copy SELECT * FROM features")
        finally:
            conn.execute("DROP TABLE floor_copy")
    return {"facts_seconds": t_facts["seconds"], "write_seconds": t_write["seconds"]}


def baseline(script: str, url: str, schema: str, *args: str, cap_bytes: int | None = None) -> dict:
    """An in-memory baseline (bench/pandas_baseline.py, bench/polars_baseline.py)
    on the same data, in its own process: its JSON report, with "finished".

    With `cap_bytes` the process is killed when its resident memory passes
    the cap (common.measured); a run that fails so (or fails in any way under
    a cap: an allocation refused) reports finished false, how long it ran,
    its peak RSS until then and why, where without a cap a failure raises."""
    cmd = [sys.executable, f"bench/{script}", "--dsn", url, "--schema", schema, "--end-week", END_WEEK.isoformat(),
           *args]
    run = measured(cmd, cap_bytes=cap_bytes)
    if run.ok:
        return json.loads(run.stdout.strip().splitlines()[-1]) | {"finished": True}
    if cap_bytes is None:
        raise RuntimeError(f"{script} failed ({run.returncode}): {run.stderr.strip()[-2000:]}")
    return {"finished": False, "cap_gb": cap_bytes / 2**30, "wall_seconds": run.wall_seconds,
            "peak_rss_mb": run.peak_rss_mb, "returncode": run.returncode, "capped": run.capped, "error": run.error}


def timed_read(conn: psycopg.Connection, query: str, params: tuple) -> dict:
    """One read as a client makes it (execute and fetch every row), then the
    server's own time for it (EXPLAIN ANALYZE: planning and execution, without
    sending the rows)."""
    with timer() as t:
        rows = len(conn.execute(query, params).fetchall())
    plan = conn.execute("EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) " + query, params).fetchone()[0][0]
    return {"seconds": t["seconds"], "server_seconds": (plan["Planning Time"] + plan["Execution Time"]) / 1000,
            "rows": rows}


def reads(url: str, schema: str, products: int, locations: int) -> dict:
    """Reads of `master_file` as its readers make them, on one warm session
    of the tenant's reader role: ONE_KEY for READ_KEYS random keys and
    LATEST_WEEK READ_LATEST times, each kind after one untimed read; medians.
    Keys and weeks are named as a reader names them, whatever the storage."""
    keys = random.Random(17).sample([(f"P{p}", f"L{l}") for p in range(products) for l in range(locations)],
                                    READ_KEYS)
    with connect(url, schema, None) as conn:
        conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(schema)))
        out = {}
        for name, query, params in (("one_key", ONE_KEY, keys), ("latest_week", LATEST_WEEK, [(END_WEEK,)] * READ_LATEST)):
            timed_read(conn, query, params[0])
            runs = [timed_read(conn, query, p) for p in params]
            out[name] = {"seconds": statistics.median(r["seconds"] for r in runs),
                         "server_seconds": statistics.median(r["server_seconds"] for r in runs),
                         "runs": [round(r["seconds"], 4) for r in runs],
                         "rows": statistics.median(r["rows"] for r in runs)}
    return out


def correct_line(url: str, schema: str, product: str, location: str, nth: int = 300) -> dt.date:
    """Correct one sales line of a key (its nth by date), as the loader would;
    returns its week."""
    with connect(url, schema, "loader") as conn:
        txn, line, week = conn.execute(
            "SELECT txn_id, line_no, date_trunc('week', business_date)::date FROM erp_sales_lines "
            "WHERE product_id = %s AND location_id = %s ORDER BY business_date, txn_id, line_no OFFSET %s LIMIT 1",
            (product, location, nth)).fetchone()
        conn.execute("UPDATE erp_sales_lines SET qty = qty + 1, net_amount = net_amount + 2.5, "
                     "updated_at = updated_at + interval '1 day' WHERE txn_id = %s AND line_no = %s", (txn, line))
    return week


def generate(url: str, schema: str, products: int, locations: int, out: dict) -> None:
    """The bench data: as_of_date, the lines of every key, analysed; their
    counts and the time into `out`."""
    with connect(url, schema, None) as conn:
        conn.execute("UPDATE settings SET as_of_date = %s", (AS_OF,))
    with connect(url, schema, "loader") as conn, timer() as tg:
        for statement in GENERATE.split(";\n\n"):
            conn.execute(statement, {"first": FIRST_DAY, "products": products, "locations": locations})
    analysed_lines(url, schema, out)
    out["generate_seconds"] = tg["seconds"]


def analysed_lines(url: str, schema: str, out: dict) -> None:
    """The loaded lines analysed, as autovacuum leaves them before the first
    rebuild; their counts into out["lines"]."""
    with connect(url, schema, None) as conn:
        conn.execute("VACUUM ANALYZE")
        out["lines"] = {tb: conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(tb))).fetchone()[0]
                        for tb in ("erp_sales_lines", "erp_receipt_lines", "erp_purchase_order_lines",
                                   "erp_invoice_lines")}


def vacuum_rebuilt(url: str, schema: str) -> None:
    """The tables a rebuild rewrote, as autovacuum leaves them by the time
    the calendar moves on (or a reader comes)."""
    with connect(url, schema, None) as conn:
        for table in ("features", "_private_feature_keys", "recommendations", "_private_dirty_keys"):
            conn.execute(sql.SQL("VACUUM ANALYZE {}").format(sql.Identifier(table)))


def features_size(url: str, schema: str) -> dict:
    """The features table's bytes on disk (heap with TOAST, indexes) and its rows."""
    with connect(url, schema, None) as conn:
        heap, indexes, rows = conn.execute(
            "SELECT pg_table_size('features'), pg_indexes_size('features'), (SELECT count(*) FROM features)"
        ).fetchone()
    return {"heap": heap, "indexes": indexes, "rows": rows}


def size_line(size: dict) -> str:
    rows = size["rows"]
    return (f"`features` on disk, vacuumed: **{(size['heap'] + size['indexes']) / rows:.0f} B a key-week** "
            f"(heap {size['heap'] / rows:.0f} B, indexes {size['indexes'] / rows:.0f} B; "
            f"{(size['heap'] + size['indexes']) / 2**30:.2f} GiB for {rows:,} rows).")


def bench_tenant(products: int, locations: int, dbname: str | None = None):
    """A scratch database with the bench tenant: (dbname, url, schema, out)."""
    dbname = dbname or os.environ.get("MF_BENCH_DB", "mf_bench_features")
    url = scratch_database(dbname)
    t = tenants.create_tenant("bench", url, schedule=False)
    return dbname, url, t.schema, {"products": products, "locations": locations, "machine": machine()}


def run_only(products: int, locations: int, parts: list[str], keep: bool) -> dict:
    """The bench data, one full rebuild with one runner, then only `parts`:
    "polars" (the polars baseline, one thread), "reads" (reads())."""
    dbname, url, schema, out = bench_tenant(products, locations)
    try:
        generate(url, schema, products, locations, out)
        out["full"] = process(url, schema)
        with connect(url, schema, None) as conn:
            out["key_weeks"] = conn.execute("SELECT count(*) FROM features").fetchone()[0]
        vacuum_rebuilt(url, schema)
        out["size"] = features_size(url, schema)
        if "polars" in parts:
            out["polars"] = baseline("polars_baseline.py", url, schema, "--threads", "1")
        if "reads" in parts:
            out["reads"] = reads(url, schema, products, locations)
    finally:
        if not keep:
            drop_database(dbname)
    return out


def run(products: int, locations: int, keep: bool) -> dict:
    dbname, url, schema, out = bench_tenant(products, locations)
    try:
        generate(url, schema, products, locations, out)

        out["full"] = process(url, schema)
        with connect(url, schema, None) as conn:
            out["key_weeks"] = conn.execute("SELECT count(*) FROM features").fetchone()[0]
            conn.execute("VACUUM ANALYZE features")
            # the same rebuild again with two runners side by side (2 cores),
            # as `pyloader run --runners 2` does
            conn.execute("SELECT mark_all_keys(NULL, 'features')")
            conn.execute("TRUNCATE features")
            conn.execute("DELETE FROM recommendations")
            # as before the first rebuild: the keys' tails said where their
            # rows ended, and a key with rows to replace takes the upsert
            conn.execute("UPDATE _private_feature_keys SET tail_week = NULL, sold_tail = NULL, revenue_tail = NULL")
            conn.execute("VACUUM ANALYZE _private_feature_keys")
        out["full_2"] = process(url, schema, runners=2)
        vacuum_rebuilt(url, schema)

        out["floor"] = floor(url, schema)

        # the old pipeline's way, and a polars job on one thread (issue 17's
        # yardstick), on the same data, each in its own process
        out["pandas"] = baseline("pandas_baseline.py", url, schema)
        out["polars"] = baseline("polars_baseline.py", url, schema, "--threads", "1")

        # the master file as its readers see it, before any incremental change
        out["reads"] = reads(url, schema, products, locations)

        # the incremental cases run on one warm pipeline session, as the worker
        # keeps: it has done a pass before (a cold session first compiles the
        # functions and loads numpy, and plans the statements)
        warm = connect(url, schema, "pipeline")
        warm_2 = connect(url, schema, "pipeline")
        for session, (p, l) in ((warm, ("P18", "L4")), (warm_2, ("P16", "L2"))):
            correct_line(url, schema, p, l)
            process(url, schema, sessions=[session])

        # one corrected sales line, in the middle of a key's history
        week = correct_line(url, schema, "P17", "L3")
        out["one_line"] = process(url, schema, sessions=[warm])
        out["one_line"]["weeks_from_change"] = (END_WEEK - week).days // 7 + 1

        # a product's metadata (name, price, category): attributes are joined, not stored
        with connect(url, schema, "loader") as conn:
            conn.execute("UPDATE erp_products SET name = 'Renamed', unit_price = unit_price + 1, category = 'C99', "
                         "updated_at = updated_at + interval '1 day' WHERE product_id = 'P17'")
        out["metadata"] = process(url, schema, sessions=[warm])

        # the calendar moves on by one week, three times with one runner and
        # three with two, alternating (one roll is a few seconds on a noisy
        # machine): the medians are reported, and every roll
        rolls = {1: [], 2: []}
        for _ in range(ROLLS):
            for n, sessions in ((1, [warm]), (2, [warm, warm_2])):
                with connect(url, schema, None) as conn:
                    conn.execute("UPDATE settings SET as_of_date = as_of_date + 7")
                rolls[n].append(process(url, schema, sessions=sessions))
        for n, key in ((1, "roll"), (2, "roll_2")):
            out[key + "s"] = [r["seconds"] for r in rolls[n]]
            out[key] = sorted(rolls[n], key=lambda r: r["seconds"])[len(rolls[n]) // 2]
        warm.close()
        warm_2.close()
    finally:
        if not keep:
            drop_database(dbname)
    return out


def polars_table(r: dict) -> str:
    """Issue 17's yardstick: the full rebuild with one runner against the
    polars baseline on one thread, measured in the same run."""
    full, pl_ = r["full"], r["polars"]
    return f"""| measure | database, one runner | polars, 1 thread | ratio | target (issue 17) |
|---|---:|---:|---:|---|
| full rebuild, wall time: full rebuild one runner / polars 1 thread | {full['seconds']:.1f} s (features {full['feature_seconds']:.1f} s) | {pl_['wall_seconds']:.1f} s (load {pl_['load_seconds']:.1f} s + compute {pl_['compute_seconds']:.1f} s) | {full['seconds'] / pl_['wall_seconds']:.2f} | <= 1.0 |
| full rebuild, peak memory | {full['peak_private_mb']:.0f} MB private, the backend | {pl_['peak_rss_mb']:.0f} MB RSS | | |
"""


def reads_table(r: dict) -> str:
    """Reads of master_file (reads())."""
    one, latest = r["reads"]["one_key"], r["reads"]["latest_week"]
    return f"""| read of `master_file` (the reader role, one warm session) | rows | client: execute and fetch, median | server: plan and execute, median | runs (client) |
|---|---:|---:|---:|---|
| one key, all weeks: `{ONE_KEY}`, {len(one['runs'])} random keys | {one['rows']:.0f} | {one['seconds'] * 1000:.1f} ms | {one['server_seconds'] * 1000:.1f} ms | {min(one['runs']) * 1000:.1f} - {max(one['runs']) * 1000:.1f} ms |
| latest week of every key: `{LATEST_WEEK}` (week {END_WEEK}), {len(latest['runs'])} runs | {latest['rows']:,.0f} | {latest['seconds'] * 1000:.0f} ms | {latest['server_seconds'] * 1000:.0f} ms | {', '.join(f'{x * 1000:.0f}' for x in latest['runs'])} ms |
"""


def markdown_only(r: dict, parts: list[str]) -> str:
    lines = sum(r["lines"].values())
    return "\n".join([f"""## Master file: {' and '.join(parts)} (issue 17)

`python -m bench.bench_features --only {' '.join(parts)} --products {r['products']} --locations {r['locations']}`,
{r['machine']}; {r['products']:,} products x {r['locations']} locations, {r['key_weeks']:,} key-weeks from
{lines:,} ERP lines, after one full rebuild with one runner ({r['full']['seconds']:.1f} s), all measured in one run.

{size_line(r['size'])}
"""] + ([polars_table(r)] if "polars" in parts else []) + ([reads_table(r)] if "reads" in parts else []))


def markdown(r: dict) -> str:
    full, pd_, one, meta, roll = r["full"], r["pandas"], r["one_line"], r["metadata"], r["roll"]
    full2, roll2 = r["full_2"], r["roll_2"]
    peak = {m: max(full[m], full2[m]) for m in ("peak_private_mb", "peak_rss_mb")}
    fl = r["floor"]
    lines = sum(r["lines"].values())
    return f"""## Master file (issue 5)

`make bench` (or `python -m bench.bench_features --products {r['products']} --locations {r['locations']}`),
{r['machine']}; {r['products']:,} products x {r['locations']} locations, {r['key_weeks']:,} key-weeks from
{lines:,} ERP lines ({r['lines']['erp_sales_lines']:,} sales lines), all measured in one run.

| measure | database | pandas (old pipeline) | ratio | target |
|---|---:|---:|---:|---|
| full rebuild, wall time, two runners (`pyloader run --runners 2`, 2 cores) | {full2['seconds']:.1f} s | {pd_['wall_seconds']:.1f} s (load {pd_.get('load_seconds', 0):.1f} s + compute {pd_.get('compute_seconds', 0):.1f} s) | {full2['seconds'] / pd_['wall_seconds']:.2f} | database <= pandas |
| full rebuild, wall time, one runner (as pg_cron runs a tenant) | {full['seconds']:.1f} s | | {full['seconds'] / pd_['wall_seconds']:.2f} | |
| of which the features (pandas' scope), one runner | {full['feature_seconds']:.1f} s | | {full['feature_seconds'] / pd_['wall_seconds']:.2f} | |
| of which forecasts and recommendations, one runner | {full['plan_seconds']:.1f} s | | | |
| full rebuild, peak memory | {peak['peak_private_mb']:.0f} MB private ({peak['peak_rss_mb']:.0f} MB RSS with shared buffers touched), the largest backend | {pd_['peak_rss_mb']:.0f} MB RSS | {peak['peak_rss_mb'] / pd_['peak_rss_mb']:.2f} | backend <= 0.25 x pandas |

{polars_table(r)}

Incremental changes are timed on warm pipeline sessions, as the worker keeps
one; a cold session (a pg_cron tick) adds the compilation of the functions and
the import of numpy by PL/Python, a few hundred milliseconds. A roll is
compared with the full rebuild done by as many runners.

| change | time to updated master file | feature rows written | keys | vs full rebuild | target |
|---|---:|---:|---:|---:|---|
| one corrected sales line | {one['seconds'] * 1000:.0f} ms | {one['feature_rows']} (the key has {one['weeks_from_change']} weeks from the changed one on) | {one['keys']} | {full2['seconds'] / one['seconds']:,.0f}x faster than two runners' ({full['seconds'] / one['seconds']:,.0f}x one runner's) | < 100 ms, only that key's affected weeks, > 1,000x |
| one product's metadata (name, price, category) | {meta['seconds'] * 1000:.0f} ms | {meta['feature_rows']} | {meta['keys']} | | 0 rows |
| as_of_date rolls one week, two runners (median of {len(r['roll_2s'])}: {', '.join(f'{x:.1f}' for x in r['roll_2s'])} s) | {roll2['seconds']:.1f} s | {roll2['feature_rows']:,} | {roll2['keys']:,} | {100 * roll2['seconds'] / full2['seconds']:.1f}% of full | < 10% of full |
| as_of_date rolls one week, one runner (median of {len(r['rolls'])}: {', '.join(f'{x:.1f}' for x in r['rolls'])} s) | {roll['seconds']:.1f} s | {roll['feature_rows']:,} | {roll['keys']:,} | {100 * roll['seconds'] / full['seconds']:.1f}% of full | |
| the one-runner roll's features only (vs the full rebuild's features) | {roll['feature_seconds']:.1f} s | | | {100 * roll['feature_seconds'] / full['feature_seconds']:.1f}% | |
| the one-runner roll's plans only (vs the full rebuild's plans) | {roll['plan_seconds']:.1f} s | | | {100 * roll['plan_seconds'] / full['plan_seconds']:.1f}% | |

What every database rebuild pays before computing a feature, on the same
data (`floor()` in `bench/bench_features.py`): aggregating every line into
weekly facts took {fl['facts_seconds']:.1f} s, writing every feature row once (logged, with
its index) {fl['write_seconds']:.1f} s; together {fl['facts_seconds'] + fl['write_seconds']:.1f} s, or {(fl['facts_seconds'] + fl['write_seconds']) / pd_['wall_seconds']:.2f} of pandas' whole run, in one
session (two runners share that work between two cores).

Feature rows written counts inserts, replacements and deletions of `features`
rows; plan rows (recommendations; forecasts are a view over them) are
counted apart ({full['plan_rows']:,} in the full rebuild). The full-rebuild time includes the forecasts and
recommendations of every key; the pandas and polars times cover the features only.

Reads of the master file, after the rebuilds and before any incremental change:

{reads_table(r)}"""


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--products", type=int, default=1000)
    ap.add_argument("--locations", type=int, default=20)
    ap.add_argument("--out", type=pathlib.Path, help="write the markdown section here")
    ap.add_argument("--json", type=pathlib.Path, help="write the raw figures here")
    ap.add_argument("--keep", action="store_true", help="keep the scratch database")
    ap.add_argument("--only", nargs="+", choices=("polars", "reads"),
                    help="build the data, rebuild once with one runner, then measure only these")
    args = ap.parse_args(argv)
    if args.only:
        parts = sorted(set(args.only), key=args.only.index)
        r = run_only(args.products, args.locations, parts, args.keep)
        md = markdown_only(r, parts)
    else:
        r = run(args.products, args.locations, args.keep)
        md = markdown(r)
    print(md)
    if args.out:
        args.out.write_text(md)
    if args.json:
        args.json.write_text(json.dumps(r, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
