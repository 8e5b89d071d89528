"""Benchmark of `pyloader export` (issue 16), side by side in one run.

On the bench tenant (1,000 products x 20 locations, the lines of
bench_features computed by the pipeline) and on one a tenth of it (100 x 20):

- the bare `COPY (SELECT * FROM master_file) TO STDOUT` of the same rows,
  read by a client that keeps nothing (the floor any export pays);
- `pyloader export T --to F.parquet` and `--to F.csv`, each a process of its
  own, its wall time and peak RSS (`/usr/bin/time -v`).

The three are interleaved, ROUNDS times, and the medians compared.

    python -m bench.bench_export [--products 1000 --locations 20] [--rounds 3] [--reuse] [--out FILE]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import resource
import pathlib
import statistics
import sys
import tempfile
import time

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from bench.bench_features import AS_OF, FIRST_DAY, GENERATE, connect, process
from bench.bench_load import timed
from bench.common import Sampler, cpu_seconds, machine
from pyloader.db import drop_database, scratch_database
from pyloader import db, tenants
from pyloader.config import app_role, database_url, schema_for

DB_NAME = "mf_bench_export"
BIN = pathlib.Path(sys.executable).parent / "pyloader"
TARGET_TIME = 1.25  # Parquet export / bare COPY
FLAT = 1.25  # peak RSS, large / small


def prepare(url: str, client_id: str, products: int, locations: int, log) -> dict:
    """A tenant with bench_features' lines at this size, computed; its row count."""
    t = tenants.create_tenant(client_id, url, schedule=False)
    with connect(url, t.schema, None) as conn:
        conn.execute("UPDATE settings SET as_of_date = %s", (AS_OF,))
    with connect(url, t.schema, "loader") as conn:
        for statement in GENERATE.split(";\n\n"):
            conn.execute(statement, {"first": FIRST_DAY, "products": products, "locations": locations})
    with connect(url, t.schema, None) as conn:
        conn.execute("VACUUM ANALYZE")
    started = time.perf_counter()
    process(url, t.schema, runners=2)
    with connect(url, t.schema, None) as conn:
        conn.execute("VACUUM ANALYZE")
    log(f"{client_id}: computed in {time.perf_counter() - started:.0f}s")
    return {"client_id": client_id, "products": products, "locations": locations}


def rows_of(url: str, client_id: str) -> int:
    with connect(url, schema_for(client_id), None) as conn:
        return conn.execute("SELECT count(*) FROM master_file").fetchone()[0]


def _own_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


class ServerCpu(Sampler):
    """CPU seconds of the authenticator's backends in one database while a
    command runs: sampled every 100 ms, each backend's last sample summed."""

    every = 0.1

    def __init__(self, url: str):
        super().__init__()
        self.url = url
        self.seen: dict[int, float] = {}
        self._conn = None

    def sample(self) -> bool:
        if self._conn is None:
            self._conn = psycopg.connect(self.url, autocommit=True)
        for (pid,) in self._conn.execute("SELECT pid FROM pg_stat_activity WHERE usename = %s"
                                         " AND datname = current_database()", (app_role(),)).fetchall():
            try:
                self.seen[pid] = cpu_seconds(pid)
            except OSError:  # the backend ended between the two reads
                pass
        return True

    def __exit__(self, *exc):
        super().__exit__(*exc)
        if self._conn is not None:
            self._conn.close()

    @property
    def seconds(self) -> float:
        return sum(self.seen.values())


def bare_copy(url: str, client_id: str, *, jit: bool = True) -> dict:
    """The floor: COPY of the view to a client that counts the bytes and drops them,
    in a tenant session like the exporter's (which runs without JIT)."""
    with db.tenant_session(client_id, "reader", url) as (conn, _), conn.cursor() as cur:
        if not jit:
            conn.execute("SET jit = off")
        size = 0
        server, client = cpu_seconds(conn.info.backend_pid), _own_cpu()
        started = time.perf_counter()
        with cur.copy("COPY (SELECT * FROM master_file) TO STDOUT") as copy:
            for chunk in copy:
                size += len(chunk)
        return {"seconds": time.perf_counter() - started, "bytes": size, "rows": cur.rowcount,
                "server_cpu": cpu_seconds(conn.info.backend_pid) - server, "client_cpu": _own_cpu() - client}


def exported(url: str, client_id: str, path: str) -> dict:
    """One `pyloader export` process: wall seconds, peak RSS, its JSON summary."""
    env = dict(os.environ, DATABASE_URL=url)
    with ServerCpu(url) as server:
        wall, rss_kb, proc = timed([str(BIN), "export", client_id, "--to", path, "--overwrite", "--json"], env)
    summary = json.loads(proc.stdout)
    os.unlink(path)
    client = sum(float(m) for m in re.findall(r"(?:User|System) time \(seconds\): ([\d.]+)", proc.stderr))
    return {"seconds": wall, "rss_mb": rss_kb / 1024, "bytes": summary["bytes"], "rows": summary["rows"],
            "server_cpu": server.seconds, "client_cpu": client}


def measure(url: str, client_id: str, rounds: int, folder: str, log) -> dict:
    runs = {"copy": [], "copy_nojit": [], "parquet": [], "csv": []}
    for i in range(rounds):
        runs["copy"].append(bare_copy(url, client_id))
        runs["copy_nojit"].append(bare_copy(url, client_id, jit=False))
        runs["parquet"].append(exported(url, client_id, os.path.join(folder, "x.parquet")))
        runs["csv"].append(exported(url, client_id, os.path.join(folder, "x.csv")))
        log(f"{client_id} round {i + 1}: " + ", ".join(f"{k} {v[-1]['seconds']:.1f}s" for k, v in runs.items()))
    out = {}
    for kind, rs in runs.items():
        out[kind] = {"seconds": statistics.median(r["seconds"] for r in rs), "all": [r["seconds"] for r in rs],
                     "bytes": rs[-1]["bytes"], "rows": rs[-1]["rows"],
                     "server_cpu": statistics.median(r["server_cpu"] for r in rs),
                     "client_cpu": statistics.median(r["client_cpu"] for r in rs)}
        if not kind.startswith("copy"):
            out[kind]["rss_mb"] = max(r["rss_mb"] for r in rs)
    return out


def run(products: int, locations: int, rounds: int, reuse: bool, keep: bool, log) -> dict:
    large, small = "export-large", "export-small"
    sizes = {large: (products, locations), small: (max(products // 10, 1), locations)}
    url = None
    if reuse:
        params = conninfo_to_dict(database_url())
        params["dbname"] = DB_NAME
        url = make_conninfo(**params)
        try:
            counts = {c: rows_of(url, c) for c in sizes}
            log(f"reusing {DB_NAME}: " + ", ".join(f"{c} {n:,} rows" for c, n in counts.items()))
        except psycopg.Error:
            url = None
    if url is None:
        url = scratch_database(DB_NAME)
        for client_id, (p, l) in sizes.items():
            prepare(url, client_id, p, l, log)
    out: dict = {"machine": machine(), "rounds": rounds, "sizes": sizes}
    try:
        with tempfile.TemporaryDirectory() as folder:
            for client_id in (small, large):
                out[client_id] = {"rows": rows_of(url, client_id), **measure(url, client_id, rounds, folder, log)}
    finally:
        if not keep:
            drop_database(DB_NAME)
    return out


def markdown(r: dict) -> str:
    large, small = r["export-large"], r["export-small"]
    (lp, ll), (sp, sl) = r["sizes"]["export-large"], r["sizes"]["export-small"]

    def row(label, m, base):
        secs = ", ".join(f"{s:.1f}" for s in m["all"])
        return (f"| {label} | {m['seconds']:.1f} s ({secs}) | {m['rows'] / m['seconds']:,.0f} | "
                f"{m['bytes'] / 2**20:,.0f} MiB | {m['seconds'] / base:.2f} | {m['server_cpu']:.1f} s | "
                f"{m['client_cpu']:.1f} s |")

    lines = [
        "## Export (issue 16)",
        "",
        f"`make bench` (or `python -m bench.bench_export --products {lp} --locations {ll}`), {r['machine']}.",
        f"The bench tenant ({lp:,} x {ll}: {large['rows']:,} master-file rows of 92 columns) and one a",
        f"tenth of it ({sp:,} x {sl}: {small['rows']:,} rows), the lines of bench_features computed by the",
        f"pipeline. The bare COPY and the two exports were interleaved {r['rounds']} times in one run;",
        "medians, every run in brackets. Each export is a `pyloader export` process of its own. CPU",
        "seconds (medians) are the backends' (from /proc, sampled) and the client process's (user + system):",
        "on a machine shared with other work they say more than the wall times.",
        "",
        "| bench tenant | time | rows/s | output | vs bare COPY | server CPU | client CPU |",
        "|---|---:|---:|---:|---:|---:|---:|",
        row("`COPY (SELECT * FROM master_file) TO STDOUT`, bytes dropped", large["copy"], large["copy"]["seconds"]),
        row("the same COPY with `SET jit = off` (as the export runs)", large["copy_nojit"], large["copy"]["seconds"]),
        row("`pyloader export --to F.parquet` (zstd)", large["parquet"], large["copy"]["seconds"]),
        row("`pyloader export --to F.csv`", large["csv"], large["copy"]["seconds"]),
        "",
        "| peak RSS of `pyloader export` | a tenth | bench tenant | ratio | target |",
        "|---|---:|---:|---:|---|",
        f"| Parquet | {small['parquet']['rss_mb']:.0f} MB | {large['parquet']['rss_mb']:.0f} MB | "
        f"{large['parquet']['rss_mb'] / small['parquet']['rss_mb']:.2f} | <= {FLAT} |",
        f"| CSV | {small['csv']['rss_mb']:.0f} MB | {large['csv']['rss_mb']:.0f} MB | "
        f"{large['csv']['rss_mb'] / small['csv']['rss_mb']:.2f} | <= {FLAT} |",
        "",
        f"Target: Parquet export <= {TARGET_TIME} x the bare COPY: "
        f"{large['parquet']['seconds'] / large['copy']['seconds']:.2f} "
        f"({'met' if large['parquet']['seconds'] <= TARGET_TIME * large['copy']['seconds'] else 'missed'}); "
        f"against the COPY without JIT {large['parquet']['seconds'] / large['copy_nojit']['seconds']:.2f}; "
        f"at a tenth {small['parquet']['seconds'] / small['copy']['seconds']:.2f} "
        f"(bare COPY {small['copy']['seconds']:.1f} s, Parquet {small['parquet']['seconds']:.1f} s, "
        f"CSV {small['csv']['seconds']:.1f} s: a process's start and imports weigh more there).",
    ]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--products", type=int, default=1000)
    ap.add_argument("--locations", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--reuse", action="store_true", help="use the scratch database a --keep run left")
    ap.add_argument("--keep", action="store_true", help="keep the scratch database")
    ap.add_argument("--out", type=pathlib.Path, help="write the markdown section here")
    ap.add_argument("--json", type=pathlib.Path, help="write the raw figures here")
    args = ap.parse_args(argv)

    def log(msg):
        print(f"bench_export: {msg}", file=sys.stderr, flush=True)

    r = run(args.products, args.locations, args.rounds, args.reuse, args.keep, log)
    md = markdown(r)
    print(md)
    if args.out:
        args.out.write_text(md)
    if args.json:
        args.json.write_text(json.dumps(r, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
