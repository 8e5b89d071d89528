"""The master file at 10x (issue 17, item 4): `make bench-scale`, not part of `make bench`.

At each scale, in one run and one after the other (1x: 1,000 products x 20
locations x 104 weeks; 10x: 10,000 x 20 x 104, about 20M key-weeks), a fresh
tenant and:

1. load: the fake ERP's lines for that many keys and weeks, written as JSON
   Lines and loaded by `pyloader load --files` in its own process (wall time,
   the loader's peak RSS);
2. full rebuild with one runner (bench_features.process: time, the largest
   backend's private memory), then the tenant's size on disk;
3. one corrected sales line in the middle of a key's history, on a warm
   pipeline session, as the worker keeps one;
4. one-week rolls of as_of_date on that session (the median is reported);
5. the pandas baseline and the polars job on one thread on the same data,
   each in its own process, killed if its resident memory passes a cap
   (common.measured): their peak RSS, or that they did not finish under it.

Times are compared per key-week (every key has the same 104 weeks, so this is
per key too), memory as it is. `--doc` records the section in
docs/benchmarks.md (`make bench` keeps it).

    python -m bench.bench_scale [--scales 1,10] [--products 1000 --locations 20 --weeks 104]
                                [--cap-gb 12] [--rolls 3] [--doc] [--json FILE] [--out FILE]
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import pathlib
import shutil
import sys
import tempfile
import time

from bench import bench_features as bf
from bench.bench_load import BIN, FLAT, load_stats, timed
from bench.common import machine, record_section, timer
from pyloader.db import drop_database
from pyloader.fake_erp import Dataset, write_files

DB_NAME = "mf_bench_scale"
PER_KEY_WEEK = 1.2  # targets (issue 17): time per key-week at 10x over 1x
BACKEND_MEMORY = 1.25  # the largest backend's private memory, 10x over 1x
LOG_STARTED = time.monotonic()


def log(msg: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} [{time.monotonic() - LOG_STARTED:6.0f}s] {msg}", file=sys.stderr, flush=True)


def tenant_size(url: str, schema: str) -> dict:
    """Bytes on disk of the tenant's tables (heap, indexes, TOAST): the ERP's
    tables, `features`, and the rest the pipeline and loader keep."""
    with bf.connect(url, schema, None) as conn:
        rows = conn.execute(
            "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relkind IN ('r', 'p', 'm')", (schema,)).fetchall()
    sizes = dict(rows)
    erp = sum(v for k, v in sizes.items() if k.startswith("erp_"))
    features = sizes.get("features", 0)
    total = sum(sizes.values())
    return {"total": total, "erp": erp, "features": features, "other": total - erp - features,
            "largest": sorted(sizes.items(), key=lambda kv: -kv[1])[:6]}


def busy_key(url: str, schema: str, product: str) -> tuple[str, str, int]:
    """The location of `product` with the most sales lines, and their count."""
    with bf.connect(url, schema, None) as conn:
        location, n = conn.execute(
            "SELECT location_id, count(*) FROM erp_sales_lines WHERE product_id = %s "
            "GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1", (product,)).fetchone()
    return product, location, n


def load(url: str, products: int, locations: int, weeks: int, out: dict) -> None:
    """The fake ERP (seed 1) for these keys and weeks, as JSON Lines loaded by
    `pyloader load --files`; its lines end where the bench's weeks do (END_WEEK)."""
    ds = Dataset(1, f"{products}x{locations}x{7 * weeks}")
    folder = pathlib.Path(tempfile.mkdtemp(prefix="bench_scale_", dir=os.environ.get("MF_BENCH_TMP")))
    try:
        with timer() as tw:
            write_files(ds, folder, "jsonl")
        out["files"] = {"seconds": tw["seconds"], "bytes": sum(f.stat().st_size for f in folder.iterdir())}
        log(f"files written: {out['files']['bytes'] / 2**30:.1f} GiB in {tw['seconds']:.0f} s")
        env = dict(os.environ, DATABASE_URL=url)
        wall, rss_kb, _ = timed([str(BIN), "load", "bench", "--files", str(folder)], env)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    records, sales, sales_seconds = load_stats(url, "bench")
    out["load"] = {"seconds": wall, "records": records, "sales_lines": sales, "sales_seconds": sales_seconds,
                   "peak_rss_mb": rss_kb / 1024, "loadavg": os.getloadavg()[0]}


def run_scale(scale: float, args) -> dict:
    products = max(1, round(args.products * scale))
    log(f"scale {scale:g}: {products} products x {args.locations} locations x {args.weeks} weeks")
    dbname, url, schema, out = bf.bench_tenant(products, args.locations, DB_NAME)
    out |= {"scale": scale, "weeks": args.weeks}
    try:
        with bf.connect(url, schema, None) as conn:
            conn.execute("UPDATE settings SET as_of_date = %s", (bf.AS_OF,))
            out["server_version"] = conn.execute("SHOW server_version").fetchone()[0]
        load(url, products, args.locations, args.weeks, out)
        log(f"loaded {out['load']['records']:,} records in {out['load']['seconds']:.0f} s, "
            f"peak RSS {out['load']['peak_rss_mb']:.0f} MiB")
        bf.analysed_lines(url, schema, out)

        out["full"] = bf.process(url, schema)
        out["full"]["loadavg"] = os.getloadavg()[0]
        with bf.connect(url, schema, None) as conn:
            out["key_weeks"] = conn.execute("SELECT count(*) FROM features").fetchone()[0]
        log(f"full rebuild {out['full']['seconds']:.0f} s, {out['key_weeks']:,} key-weeks, "
            f"backend {out['full']['peak_private_mb']:.0f} MB private")
        bf.vacuum_rebuilt(url, schema)
        out["size"] = tenant_size(url, schema)
        log(f"tenant {out['size']['total'] / 2**30:.2f} GiB")

        # one corrected line on a warm pipeline session: it has corrected
        # another key first (a cold session compiles the functions, loads numpy)
        warm = bf.connect(url, schema, "pipeline")
        p, l, n = busy_key(url, schema, f"P{min(products, 18):05d}")
        bf.correct_line(url, schema, p, l, nth=n // 2)
        bf.process(url, schema, sessions=[warm])
        p, l, n = busy_key(url, schema, f"P{min(products, 17):05d}")
        week = bf.correct_line(url, schema, p, l, nth=n // 2)
        out["one_line"] = bf.process(url, schema, sessions=[warm])
        out["one_line"]["weeks_from_change"] = (bf.END_WEEK - week).days // 7 + 1
        log(f"one line {out['one_line']['seconds'] * 1000:.0f} ms, {out['one_line']['feature_rows']} rows")

        rolls = []
        for _ in range(args.rolls):
            with bf.connect(url, schema, None) as conn:
                conn.execute("UPDATE settings SET as_of_date = as_of_date + 7")
            rolls.append(bf.process(url, schema, sessions=[warm]))
            log(f"roll {rolls[-1]['seconds']:.1f} s")
        warm.close()
        out["rolls"] = [r["seconds"] for r in rolls]
        out["roll"] = sorted(rolls, key=lambda r: r["seconds"])[len(rolls) // 2]
        out["roll_peak_private_mb"] = max(r["peak_private_mb"] for r in rolls)

        cap = int(args.cap_gb * 2**30)
        for name, script, extra in (("pandas", "pandas_baseline.py", ()),
                                    ("polars", "polars_baseline.py", ("--threads", "1"))):
            out[name] = bf.baseline(script, url, schema, *extra, cap_bytes=cap)
            r = out[name]
            log(f"{name}: {'finished' if r['finished'] else 'did not finish'} in {r['wall_seconds']:.0f} s, "
                f"peak RSS {r['peak_rss_mb']:.0f} MB")
    finally:
        drop_database(dbname)
    return out


CPU_NOTE = """ The backend's CPU (user and
system, from /proc) is what the wall time would be on a machine of its own:
other processes lengthen the wall time, much less the CPU."""


def _us(seconds: float, key_weeks: int) -> float:
    return 1e6 * seconds / key_weeks


def _baseline_cell(r: dict) -> str:
    if r["finished"]:
        return f"{r['wall_seconds']:.0f} s, peak RSS {r['peak_rss_mb'] / 1024:.1f} GiB"
    why = "killed at the cap" if r.get("capped") else f"`{r['error'] or 'exit ' + str(r['returncode'])}`"
    return (f"**did not finish under {r['cap_gb']:g} GiB**: {why} after {r['wall_seconds']:.0f} s, "
            f"peak RSS {r['peak_rss_mb'] / 1024:.1f} GiB")


def markdown(runs: list[dict], args, started: str, finished: str) -> str:
    small, large = runs[0], runs[-1]
    scales = " and ".join(f"{r['scale']:g}x" for r in runs)

    def row(label: str, cell, ratio=None, target: str = "") -> str:
        cells = " | ".join(cell(r) for r in runs)
        verdict = ""
        if ratio is not None:
            value, limit = ratio
            verdict = f"**{value:.2f}**" + (f" ({'met' if value <= limit else 'missed'})" if limit else "")
        return f"| {label} | {cells} | {verdict} | {target} |"

    def ratio(f, limit=None):
        return f(large) / f(small), limit

    rebuild = lambda r: _us(r["full"]["seconds"], r["key_weeks"])  # noqa: E731
    roll = lambda r: _us(r["roll"]["seconds"], r["key_weeks"])  # noqa: E731
    rebuild_cpu = lambda r: _us(r["full"]["backend_cpu_seconds"], r["key_weeks"])  # noqa: E731
    roll_cpu = lambda r: _us(r["roll"]["backend_cpu_seconds"], r["key_weeks"])  # noqa: E731
    backend = lambda r: max(r["full"]["peak_private_mb"], r["roll_peak_private_mb"])  # noqa: E731
    def phases(label: str, key: str) -> list[str]:
        """Where a pass's time went, per key-week: refresh_features, refresh_plans
        (as the runs table times them) and the rest (claiming keys from the
        queue, the marks' deletion, commits)."""
        features = lambda r: _us(r[key]["feature_seconds"], r["key_weeks"])  # noqa: E731
        plans = lambda r: _us(r[key]["plan_seconds"], r["key_weeks"])  # noqa: E731
        rest = lambda r: _us(r[key]["seconds"] - r[key]["feature_seconds"] - r[key]["plan_seconds"],  # noqa: E731
                             r["key_weeks"])
        return [row(f"{label}: features, per key-week", lambda r: f"{features(r):.2f} µs", ratio(features)),
                row(f"{label}: plans, per key-week", lambda r: f"{plans(r):.2f} µs", ratio(plans)),
                row(f"{label}: the rest (claims from the queue, deletions, commits), per key-week",
                    lambda r: f"{rest(r):.2f} µs", ratio(rest))]

    cpu = all("backend_cpu_seconds" in r["full"] for r in runs)
    head = " | ".join(f"{r['scale']:g}x: {r['products']:,} x {r['locations']} x {r['weeks']}" for r in runs)
    lines = [
        f"| measure | {head} | {large['scale']:g}x / {small['scale']:g}x | target (issue 17) |",
        "|---|" + "---:|" * len(runs) + "---:|---|",
        row("key-weeks (`features` rows)", lambda r: f"{r['key_weeks']:,}", ratio(lambda r: r["key_weeks"])),
        row("ERP records loaded (of which sales lines)",
            lambda r: f"{r['load']['records']:,} ({r['load']['sales_lines']:,})"),
        row("load: `pyloader load --files`, wall", lambda r: f"{r['load']['seconds']:.0f} s "
            f"({r['load']['records'] / r['load']['seconds']:,.0f} records/s)", ratio(lambda r: r["load"]["seconds"])),
        row("the loader's peak RSS", lambda r: f"{r['load']['peak_rss_mb']:.0f} MiB",
            ratio(lambda r: r["load"]["peak_rss_mb"], FLAT), f"flat (<= {FLAT})"),
        row("full rebuild, one runner", lambda r: f"{r['full']['seconds']:.0f} s "
            f"(features {r['full']['feature_seconds']:.0f} s, plans {r['full']['plan_seconds']:.0f} s)"),
        row("full rebuild per key-week", lambda r: f"{rebuild(r):.1f} µs", ratio(rebuild, PER_KEY_WEEK),
            f"<= {PER_KEY_WEEK}"),
        *phases("full rebuild", "full"),
        row(f"one-week roll, one runner (median of {len(large['rolls'])})", lambda r: f"{r['roll']['seconds']:.1f} s "
            f"({', '.join(f'{x:.1f}' for x in r['rolls'])})"),
        row("one-week roll per key-week", lambda r: f"{roll(r):.2f} µs", ratio(roll, PER_KEY_WEEK),
            f"<= {PER_KEY_WEEK}"),
        *phases("the roll", "roll"),
        *([row("full rebuild, the backend's CPU per key-week", lambda r: f"{rebuild_cpu(r):.1f} µs "
                f"({r['full']['backend_cpu_seconds']:.0f} s)", ratio(rebuild_cpu, PER_KEY_WEEK), f"<= {PER_KEY_WEEK}"),
            row("one-week roll, the backend's CPU per key-week", lambda r: f"{roll_cpu(r):.2f} µs",
                ratio(roll_cpu, PER_KEY_WEEK), f"<= {PER_KEY_WEEK}")]
          if cpu else []),
        row("the largest backend's private memory (rebuild, rolls)",
            lambda r: f"{r['full']['peak_private_mb']:.0f} MB, {r['roll_peak_private_mb']:.0f} MB",
            ratio(backend, BACKEND_MEMORY), f"<= {BACKEND_MEMORY}"),
        row("one corrected sales line, warm session", lambda r: f"{r['one_line']['seconds'] * 1000:.0f} ms, "
            f"{r['one_line']['feature_rows']} feature rows ({r['one_line']['weeks_from_change']} weeks from it on)",
            target="< 100 ms, only its key's affected weeks"),
        row("tenant on disk (tables, indexes, TOAST)", lambda r: f"{r['size']['total'] / 2**30:.2f} GiB",
            ratio(lambda r: r["size"]["total"])),
        row("of which the ERP's tables", lambda r: f"{r['size']['erp'] / 2**30:.2f} GiB "
            f"({r['size']['erp'] / sum(r['lines'].values()):.0f} B a line)"),
        row("of which `features`", lambda r: f"{r['size']['features'] / 2**30:.2f} GiB "
            f"({r['size']['features'] / r['key_weeks']:.0f} B a key-week)"),
        row("everything else (plans, queue, bookkeeping)", lambda r: f"{r['size']['other'] / 2**20:.0f} MiB "
            f"({r['size']['other'] / r['key_weeks']:.0f} B a key-week)"),
        row("pandas baseline (the old pipeline)", lambda r: _baseline_cell(r["pandas"])),
        row("polars, 1 thread (bench/polars_features.py)", lambda r: _baseline_cell(r["polars"])),
    ]
    command = f"--scales {','.join(format(r['scale'], 'g') for r in runs)} --products {args.products} --cap-gb {args.cap_gb:g}"
    return f"""## Master file at 10x (issue 17)

`make bench-scale` (`python -m bench.bench_scale {command}`), run {started} - {finished}
on {large['machine']}, Debian 12, PostgreSQL {large['server_version']}; shared with other sessions' test runs
(1-minute load average at the end of the {large['scale']:g}x load {large['load']['loadavg']:.1f}, of its rebuild
{large['full']['loadavg']:.1f}; at {small['scale']:g}x {small['load']['loadavg']:.1f} and {small['full']['loadavg']:.1f}).
{scales} in the same run, each a fresh tenant: the fake ERP (seed 1) over {large['weeks']} weeks written as
JSON Lines and loaded by `pyloader load --files` in its own process (its peak RSS by `/usr/bin/time -v`; the
files took {small['files']['seconds']:.0f} s and {large['files']['seconds']:.0f} s to write, not counted),
one full rebuild with one runner, the tenant's size after it (vacuumed), one corrected sales line and
one-week rolls ({len(large['rolls'])}) on a warm pipeline session, then the two in-memory baselines, each in its own
process, killed if its resident memory passes {args.cap_gb:g} GiB (`common.RssCap`, sampled every 20 ms), so
that it cannot make the machine swap or the kernel kill the database.

{chr(10).join(lines)}

Per key-week figures divide by the tenant's `features` rows; every key has the
same weeks at both scales, so they are per key too.{CPU_NOTE if cpu else ""} Memory is the
backend's anonymous memory (`RssAnon`, sampled every 20 ms), shared buffers
not counted.
"""


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scales", default="1,10", help="comma-separated multiples of --products, smallest first")
    ap.add_argument("--products", type=int, default=1000)
    ap.add_argument("--locations", type=int, default=20)
    ap.add_argument("--weeks", type=int, default=104)
    ap.add_argument("--rolls", type=int, default=bf.ROLLS)
    ap.add_argument("--cap-gb", type=float, default=12, help="the baselines' resident memory, GiB")
    ap.add_argument("--doc", action="store_true", help="record the section in docs/benchmarks.md")
    ap.add_argument("--out", type=pathlib.Path, help="write the markdown section here")
    ap.add_argument("--json", type=pathlib.Path, help="write the raw figures here")
    ap.add_argument("--from-json", type=pathlib.Path,
                    help="write the section again from the raw figures of an earlier run (--json), measuring nothing")
    args = ap.parse_args(argv)
    if args.from_json:
        raw = json.loads(args.from_json.read_text())
        runs, started, finished = raw["runs"], raw["started"], raw["finished"]
    else:
        started = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        runs = []
        for scale in sorted(float(s) for s in args.scales.split(",")):
            runs.append(run_scale(scale, args))
            finished = dt.datetime.now(dt.timezone.utc).strftime("%H:%M UTC")
            if args.json:  # what finished is kept if a later scale fails
                args.json.parent.mkdir(parents=True, exist_ok=True)
                args.json.write_text(json.dumps({"started": started, "finished": finished, "runs": runs},
                                                indent=2, default=str))
    md = markdown(runs, args, started, finished)
    print(md)
    if args.out:
        args.out.write_text(md)
    if args.doc:
        record_section(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
