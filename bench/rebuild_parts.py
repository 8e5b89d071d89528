"""Where a full rebuild's time goes: the bench data's keys computed batch by
batch as `write_feature_rows` computes them, each step timed on its own.

    python -m bench.rebuild_parts [--products 1000 --locations 20] [--keep] [--out FILE]

On a scratch tenant of bench/bench_features.py's data, rebuilt once by the
pipeline, then in one session of the owner, for each batch of 1,000 keys in
key order (one transaction each, as a runner's batch):

1. `stage_feature_batch` over the batch (where each key starts, from its first week);
2. the lines aggregated into the kernel's arrays (the statement of
   `write_feature_rows` up to the kernel's call), counted;
3. the same with the kernel's call, its rows counted;
4. the same inserted into a copy of `features` with its key index.

Each step runs the ones before it again, so a step's cost is its time less
the previous one's. Then every row of `features` copied table to table
(logged with the key index, unlogged with it, logged without it), and the
WAL each logged copy wrote: what writing the rows costs whatever computes
them. Last, the eleven trailing windows of units_sold of 13 weeks or fewer
computed from the same row's units_sold and lags instead of stored (what
not storing them would cost): their largest difference from the stored
values, and the latest week of every key read with them (EXPLAIN ANALYZE's
execution, 3 runs each, alternating) against the stored columns.

The statement is the tenant's own, read from its `write_feature_rows` (the
kernel's declaration expanded), so this measures what is installed;
tests/test_bench_harness.py holds the probe's rows equal to the pipeline's.
"""
from __future__ import annotations

import argparse
import pathlib
import re
import sys
import time

from psycopg import sql

from bench import bench_features as bf
from pyloader.db import drop_database

BATCH = 1000


def statement(conn) -> tuple[str, str, list[str]]:
    """The rows statement of the tenant's write_feature_rows: (aggregation
    only, with the kernel, the kernel's column names)."""
    src = conn.execute("SELECT prosrc FROM pg_proc WHERE proname = 'write_feature_rows' "
                       "AND pronamespace = current_schema()::regnamespace").fetchone()[0]
    rows = src.split("$rows$")[1]
    lookback, sold_tail = conn.execute("SELECT masterfile.features_lookback_weeks(), "
                                       "masterfile.forecast_weeks()").fetchone()
    rows = rows.replace("$1", str(lookback)).replace("$2", str(sold_tail)).replace("$3", "masterfile.work_runner()")
    where = rows[rows.rindex("WHERE t.runner"):]
    agg = rows[:rows.index("CROSS JOIN LATERAL masterfile.features_kernel")].replace(
        "SELECT t.product_id, t.location_id, k.*", "SELECT t.product_id, t.location_id, s.*", 1)
    agg = agg[:agg.rindex("\n", 0, agg.rindex("-- the declaration"))] + "\n" + where
    names = re.findall(r"(\w+) (?:date|integer|double precision)", rows[rows.index("AS k(") + 5:])
    return agg, rows, names


def parts(url: str, schema: str) -> dict:
    """The four steps' seconds summed over the batches, the rows inserted and
    how many differ from the stored ones; then the table-to-table copies."""
    out = {"steps": [0.0, 0.0, 0.0, 0.0], "rows": 0, "batches": 0}
    with bf.connect(url, schema, None) as conn:
        agg, rows, names = statement(conn)
        keys = conn.execute("SELECT array_agg(product_id ORDER BY product_id, location_id), "
                            "array_agg(location_id ORDER BY product_id, location_id) FROM _private_feature_keys"
                            ).fetchone()
        conn.execute("DROP TABLE IF EXISTS bench_features_copy")
        conn.execute("CREATE TABLE bench_features_copy (LIKE features INCLUDING ALL)")
        insert = (f"INSERT INTO bench_features_copy (product_id, location_id, {', '.join(names)}) {rows}")
        steps = [
            "SELECT stage_feature_batch(%s::text[], %s::text[], %s::date[], end_week())",
            f"SELECT count(*) FROM ({agg}) x",
            f"SELECT count(*) FROM ({rows}) x",
            insert,
        ]
        conn.autocommit = False
        for lo in range(0, len(keys[0]), BATCH):
            p, l = keys[0][lo:lo + BATCH], keys[1][lo:lo + BATCH]
            for n, step in enumerate(steps):
                # every step stages the batch first (in its own transaction)
                started = time.perf_counter()
                conn.execute(steps[0], (p, l, [None] * len(p)))
                if n:
                    cur = conn.execute(step)
                    if n == 3:
                        out["rows"] += cur.rowcount
                out["steps"][n] += time.perf_counter() - started
                if n < 3:
                    conn.rollback()
            conn.execute("DELETE FROM _private_feature_batch WHERE runner = masterfile.work_runner()")
            conn.commit()
            out["batches"] += 1
        conn.autocommit = True
        # the probe computed what the pipeline stored, value for value
        out["differing"] = conn.execute(
            "SELECT count(*) FROM bench_features_copy c FULL JOIN features f USING (product_id, location_id, week_start) "
            "WHERE c IS DISTINCT FROM f").fetchone()[0]
        copies = {}
        for name, ddl in (("logged, with the key index", "CREATE TABLE {} (LIKE features INCLUDING ALL)"),
                          ("unlogged, with the key index", "CREATE UNLOGGED TABLE {} (LIKE features INCLUDING ALL)"),
                          ("logged, no index", "CREATE TABLE {} (LIKE features)")):
            conn.execute("DROP TABLE IF EXISTS bench_features_copy")
            conn.execute(sql.SQL(ddl).format(sql.Identifier("bench_features_copy")))
            conn.execute("CHECKPOINT")
            lsn = conn.execute("SELECT pg_current_wal_lsn()").fetchone()[0]
            started = time.perf_counter()
            n = conn.execute("INSERT INTO bench_features_copy SELECT * FROM features").rowcount
            seconds = time.perf_counter() - started
            wal = conn.execute("SELECT pg_current_wal_lsn() - %s::pg_lsn", (lsn,)).fetchone()[0]
            copies[name] = {"seconds": seconds, "rows": n, "wal_bytes": int(wal)}
        conn.execute("DROP TABLE bench_features_copy")
        out["copies"] = copies
    return out


# the windows of units_sold a row's own lags cover, as expressions over it
# (n: the weeks of the window from the key's first week on)
def _ys(w: int) -> list[str]:
    return ["f.units_sold"] + [f"f.sold_lag_{j}" for j in range(1, w)]


def _n(w: int) -> str:
    return f"least({w}, f.week_index + 1)::float8"


def _mean(w: int) -> str:
    return "(" + " + ".join([_ys(w)[0]] + [f"coalesce({y}, 0)" for y in _ys(w)[1:]]) + f") / {_n(w)}"


def _std(w: int) -> str:
    # shifted by the week's own value: exact 0 for a constant window
    d = [f"coalesce({y} - f.units_sold, 0)" for y in _ys(w)[1:]]
    s1, s2 = "(" + " + ".join(d) + ")", "(" + " + ".join(f"{x} * {x}" for x in d) + ")"
    return f"CASE WHEN f.week_index > 0 THEN sqrt(greatest(({s2} - {s1} * {s1} / {_n(w)}) / ({_n(w)} - 1), 0)) END"


def _slope(w: int) -> str:
    # x = -j for lag j, centred: sum((n-1)/2 - j) * y_j / (n(n^2-1)/12)
    t = " + ".join([f"({_n(w)} - 1) * 0.5::float8 * f.units_sold"]
                   + [f"coalesce((({_n(w)} - 1) * 0.5::float8 - {j}) * {y}, 0)" for j, y in enumerate(_ys(w)) if j])
    return f"CASE WHEN f.week_index > 0 THEN ({t}) * 12 / ({_n(w)} * ({_n(w)} * {_n(w)} - 1)) END"


WINDOWS = ({f"sold_mean_{w}": _mean(w) for w in (4, 8, 13)} | {f"sold_std_{w}": _std(w) for w in (4, 8, 13)}
           | {f"sold_slope_{w}": _slope(w) for w in (4, 8, 13)}
           | {"sold_max_13": "greatest(" + ", ".join(_ys(13)) + ")",
              "sold_zero_share_13": "(" + " + ".join(["(f.units_sold = 0)::integer"] + [
                  f"coalesce(({y} = 0)::integer, 0)" for y in _ys(13)[1:]]) + f")::float8 / {_n(13)}"})


def read_time_windows(url: str, schema: str) -> dict:
    """WINDOWS against the stored columns: the largest relative difference,
    the rows null on one side only, and the latest week read both ways."""
    with bf.connect(url, schema, None) as conn:
        diff = conn.execute("SELECT " + ", ".join(
            f"max(abs(({e}) - f.{k}) / greatest(1, abs(f.{k})))" for k, e in WINDOWS.items())
            + ", count(*) FILTER (WHERE " + " OR ".join(f"(({e}) IS NULL) <> (f.{k} IS NULL)" for k, e in WINDOWS.items())
            + ") FROM features f").fetchone()
        latest = conn.execute("SELECT max(week_start) FROM features").fetchone()[0]
        reads = {"stored": [], "derived": []}
        for _ in range(3):
            for name, cols in (("stored", ", ".join(f"f.{k}" for k in WINDOWS)),
                               ("derived", ", ".join(f"{e} AS {k}" for k, e in WINDOWS.items()))):
                plan = conn.execute(f"EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) SELECT {cols}, f.* "
                                    "FROM features f WHERE f.week_start = %s", (latest,)).fetchone()[0][0]
                reads[name].append(plan["Execution Time"])
    return {"max_relative_difference": max(diff[:-1]), "null_disagreements": diff[-1], "reads_ms": reads,
            "week": str(latest)}


def markdown(r: dict) -> str:
    s = r["parts"]["steps"]
    names = ["stage the batch (`stage_feature_batch`)", "aggregate the lines into the kernel's arrays",
             "the kernel (`features_kernel`)", "insert the rows (a copy of `features` with its key index)"]
    lines = [f"`python -m bench.rebuild_parts --products {r['products']} --locations {r['locations']}`, "
             f"{r['machine']}; {r['key_weeks']:,} key-weeks, the pipeline's rebuild {r['full']['seconds']:.1f} s "
             f"(features {r['full']['feature_seconds']:.1f} s), then {r['parts']['batches']} batches of "
             f"{BATCH:,} keys ({r['parts']['rows']:,} rows inserted, {r['parts']['differing']} of them not equal to "
             "the pipeline's), each step timed on its own:", "",
             "| step | seconds | of the four |", "|---|---:|---:|"]
    prev = 0.0
    for name, total in zip(names, s):
        lines.append(f"| {name} | {total - prev:.1f} | {(total - prev) / s[-1]:.0%} |")
        prev = total
    lines.append(f"| the four | {s[-1]:.1f} | |")
    lines += ["", "| every row of `features` copied, table to table | seconds | WAL |", "|---|---:|---:|"]
    for name, c in r["parts"]["copies"].items():
        wal = f"{c['wal_bytes'] / 2**20:,.0f} MiB" if not name.startswith("unlogged") else ""
        lines.append(f"| {name} ({c['rows']:,} rows) | {c['seconds']:.1f} | {wal} |")
    w = r["windows"]
    lines += ["", f"The {len(WINDOWS)} windows of units_sold of 13 weeks or fewer from the row's own lags: "
              f"largest relative difference from the stored {w['max_relative_difference']:.1e}, "
              f"{w['null_disagreements']} rows null on one side only; the latest week ({w['week']}) read, "
              "EXPLAIN ANALYZE's execution: stored "
              + ", ".join(f"{x:.0f}" for x in w["reads_ms"]["stored"]) + " ms; computed "
              + ", ".join(f"{x:.0f}" for x in w["reads_ms"]["derived"]) + " ms."]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--products", type=int, default=1000)
    ap.add_argument("--locations", type=int, default=20)
    ap.add_argument("--out", type=pathlib.Path, help="write the markdown here")
    ap.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = ap.parse_args(argv)
    dbname, url, schema, r = bf.bench_tenant(args.products, args.locations)
    try:
        bf.generate(url, schema, args.products, args.locations, r)
        r["full"] = bf.process(url, schema)
        bf.vacuum_rebuilt(url, schema)
        with bf.connect(url, schema, None) as conn:
            r["key_weeks"] = conn.execute("SELECT count(*) FROM features").fetchone()[0]
        r["parts"] = parts(url, schema)
        r["windows"] = read_time_windows(url, schema)
    finally:
        if not args.keep:
            drop_database(dbname)
    md = markdown(r)
    print(md)
    if args.out:
        args.out.write_text(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
