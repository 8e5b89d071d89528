"""Benchmark of ERP ingestion (issue 3): the fake ERP at two sizes ~10x apart,
loaded through both paths, each load a `pyloader load` process of its own.

- files: `pyloader load T --files DIR` over the JSON Lines the fake ERP writes;
- API:   `pyloader load T --api URL` against `pyloader fake-erp` running as
  a separate process on loopback.

For each: records/s over the whole process, sales lines/s over the sales
entity's load (from the `loads` table), and the loader's peak RSS as
`/usr/bin/time -v` reports it. Memory is flat when the larger size's peak is
within 1.25x of the smaller's.

    python -m bench.bench_load [--sizes 100x20x365,1000x20x365] [--out FILE]
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
from psycopg import sql

from bench.common import Measured, machine, measured
from pyloader.db import drop_database, scratch_database
from pyloader import tenants
from pyloader.config import schema_for
from pyloader.fake_erp import Dataset, write_files

DEFAULT_SIZES = ("100x20x365", "1000x20x365")  # ~0.18 and ~1.8 million sales lines
TARGET_FILES = 50_000  # sales lines/s
TARGET_API = 25_000
FLAT = 1.25
TOKEN = "bench-token"
BIN = Path(sys.executable).parent / "pyloader"


def timed(cmd: list[str], env: dict) -> tuple[float, int, Measured]:
    """Wall seconds and peak RSS (KiB) of a command that must succeed (common.measured)."""
    run = measured(cmd, env)
    if not run.ok:
        raise RuntimeError(f"{' '.join(cmd)} failed ({run.returncode}): {run.stderr.strip()[-2000:]}")
    return run.wall_seconds, run.peak_rss_kb, run


def load_stats(url: str, client_id: str) -> tuple[int, int, float]:
    """(records read, sales lines read, seconds of the sales load) from the tenant's loads."""
    schema = schema_for(client_id)
    with psycopg.connect(url) as conn:
        total = conn.execute(sql.SQL("SELECT sum(read_count) FROM {}.loads").format(sql.Identifier(schema))).fetchone()[0]
        sales, secs = conn.execute(
            sql.SQL(
                "SELECT read_count, extract(epoch FROM finished_at - started_at)::float8 FROM {}.loads "
                "WHERE entity = 'sales_lines' AND status = 'succeeded' ORDER BY load_id DESC LIMIT 1"
            ).format(sql.Identifier(schema))
        ).fetchone()
    return int(total), int(sales), float(secs)


def _serve(seed: int, size: str) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [str(BIN), "fake-erp", "--seed", str(seed), "--size", size, "--port", "0", "--token", TOKEN],
        stdout=subprocess.PIPE, text=True,
    )
    url = proc.stdout.readline().strip()
    if not url.startswith("http"):
        proc.kill()
        raise RuntimeError("the fake ERP did not start")
    return proc, url


def run(sizes: list[str], seed: int = 1, keep_files: bool = False) -> list[dict]:
    dbname = f"mf_bench_load_{os.getpid()}"
    url = scratch_database(dbname)
    workdir = Path(tempfile.mkdtemp(prefix="bench_load_"))
    rows = []
    try:
        env = dict(os.environ, DATABASE_URL=url, MASTERFILE_ERP_TOKEN=TOKEN)
        for i, size in enumerate(sizes):
            ds = Dataset(seed, size)
            counts = ds.counts()
            print(f"[{size}] {sum(counts.values()):,} records, {counts['sales_lines']:,} sales lines", file=sys.stderr)

            files = workdir / size
            t0 = time.perf_counter()
            write_files(ds, files, "jsonl")
            print(f"[{size}] files written in {time.perf_counter() - t0:.0f}s", file=sys.stderr)
            client = f"bench-files-{i}"
            tenants.create_tenant(client, url, schedule=False)
            wall, rss, _ = timed([str(BIN), "load", client, "--files", str(files)], env)
            total, sales, secs = load_stats(url, client)
            rows.append(dict(size=size, path="files (jsonl)", records=total, sales=sales, wall=wall,
                             rate=total / wall, sales_rate=sales / secs, rss_kb=rss, load=os.getloadavg()[0]))
            print(f"[{size}] files: {rows[-1]['sales_rate']:,.0f} sales lines/s, {rss / 1024:.0f} MiB", file=sys.stderr)
            if not keep_files:
                shutil.rmtree(files)

            server, api = _serve(seed, size)
            try:
                client = f"bench-api-{i}"
                tenants.create_tenant(client, url, schedule=False)
                wall, rss, _ = timed([str(BIN), "load", client, "--api", api], env)
            finally:
                server.terminate()
                server.wait(timeout=10)
            total, sales, secs = load_stats(url, client)
            rows.append(dict(size=size, path="API (loopback)", records=total, sales=sales, wall=wall,
                             rate=total / wall, sales_rate=sales / secs, rss_kb=rss, load=os.getloadavg()[0]))
            print(f"[{size}] API: {rows[-1]['sales_rate']:,.0f} sales lines/s, {rss / 1024:.0f} MiB", file=sys.stderr)
    finally:
        drop_database(dbname)
        if not keep_files:
            shutil.rmtree(workdir, ignore_errors=True)
    return rows


def report(rows: list[dict]) -> str:
    out = [
        "## ERP ingestion (`pyloader load`)",
        "",
        f"Machine: {machine()}. Fake ERP data (seed 1) at two sizes; each load is a fresh tenant, run as its own",
        "process under `/usr/bin/time -v`; the API is `pyloader fake-erp` in a separate process on loopback.",
        "",
        "The last column is the machine's 1-minute load average when the load ended (2 cores: above 2, other",
        "processes were competing for the CPU).",
        "",
        "| size (PxLxD) | path | records | sales lines | wall s | records/s | sales lines/s | peak RSS MiB | load avg |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        out.append(
            f"| {r['size']} | {r['path']} | {r['records']:,} | {r['sales']:,} | {r['wall']:.1f} | {r['rate']:,.0f} | "
            f"{r['sales_rate']:,.0f} | {r['rss_kb'] / 1024:.0f} | {r['load']:.1f} |"
        )
    out.append("")
    for path, target in (("files (jsonl)", TARGET_FILES), ("API (loopback)", TARGET_API)):
        sel = [r for r in rows if r["path"] == path]
        if len(sel) >= 2:
            small, large = sel[0], sel[-1]
            ratio = large["rss_kb"] / max(small["rss_kb"], 1)
            worst = min(r["sales_rate"] for r in sel)
            out.append(
                f"- {path}: peak RSS {large['rss_kb'] / 1024:.0f} MiB at {large['sales']:,} sales lines vs "
                f"{small['rss_kb'] / 1024:.0f} MiB at {small['sales']:,}: x{ratio:.2f} "
                f"({'flat' if ratio <= FLAT else 'NOT flat'}, limit x{FLAT}); slowest {worst:,.0f} sales lines/s "
                f"(target {target:,}: {'met' if worst >= target else 'missed'})"
            )
    return "\n".join(out) + "\n"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default=",".join(DEFAULT_SIZES), help="comma-separated PxLxD or named sizes")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", help="also write the markdown table here")
    p.add_argument("--keep-files", action="store_true")
    args = p.parse_args(argv)
    text = report(run(args.sizes.split(","), args.seed, args.keep_files))
    print(text)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
