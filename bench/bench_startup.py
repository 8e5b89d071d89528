"""Benchmark of start-up (issue 21): what a command costs before it does its work.

- `pyloader --help` against `python -c "import argparse"` (the same
  interpreter), run alternately, each as a new process; the target is a ratio
  of at most 3.
- An idle `pyloader run CLIENT_ID` (the tenant's queue is empty) as a new
  process, against its database work: the same `run.run_until_empty()` called
  in this process, whose imports are already done, plus the interpreter's own
  start (`python -c "import argparse"`); the target is a ratio of at most 2.
  The same against the work plus an interpreter that imports the database
  driver (`python -c "import argparse, psycopg"`) says how much of the rest
  is the driver's import rather than pyloader's.

    python -m bench.bench_startup [--repeat 15] [--out FILE]

Each figure is the median of --repeat runs, the pairs interleaved so the
machine's load falls on both alike. The tenant lives in a scratch database
(`mf_bench_startup`), dropped at the end.
"""
from __future__ import annotations

import argparse
import os
import pathlib
import statistics
import subprocess
import sys
import time

from bench.common import machine
from pyloader.db import drop_database, scratch_database

DB = "mf_bench_startup"
CLIENT = "BENCH-START"


def _timed(cmd: list[str], env: dict | None = None) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    return time.perf_counter() - started


def _pyloader() -> str:
    return os.path.join(os.path.dirname(sys.executable), "pyloader")


def measure(repeat: int) -> dict:
    from pyloader import run, tenants

    python = [sys.executable, "-c", "import argparse"]
    driver = [sys.executable, "-c", "import argparse, psycopg"]  # the interpreter and the database driver
    help_cmd = [_pyloader(), "--help"]
    url = scratch_database(DB)
    try:
        tenants.create_tenant(CLIENT, url, schedule=False)
        run.run_until_empty(CLIENT, url, progress=False)  # the queue is empty from here on
        env = dict(os.environ, DATABASE_URL=url)
        run_cmd = [_pyloader(), "run", CLIENT]
        for cmd in (python, driver, help_cmd, run_cmd):  # warm the page cache
            _timed(cmd, env)
        base, drivers, helps, runs, works = [], [], [], [], []
        for _ in range(repeat):
            base.append(_timed(python))
            drivers.append(_timed(driver))
            helps.append(_timed(help_cmd))
            runs.append(_timed(run_cmd, env))
            started = time.perf_counter()
            run.run_until_empty(CLIENT, url, progress=False)
            works.append(time.perf_counter() - started)
    finally:
        drop_database(DB)
    med = {k: statistics.median(v) for k, v in
           {"python": base, "driver": drivers, "help": helps, "run": runs, "work": works}.items()}
    med["help_ratio"] = med["help"] / med["python"]
    med["run_ratio"] = med["run"] / (med["work"] + med["python"])
    med["run_driver_ratio"] = med["run"] / (med["work"] + med["driver"])
    return med


def report(m: dict, repeat: int) -> str:
    ms = lambda s: f"{s * 1000:.0f} ms"  # noqa: E731
    return "\n".join([
        "## Start-up (issue 21)",
        "",
        f"`python -m bench.bench_startup --repeat {repeat}` (or `make bench` with `startup`), on {machine()}; "
        "medians of interleaved runs, each command a new process.",
        "",
        "| what | median | ratio | target |",
        "|---|---:|---:|---:|",
        f"| `python -c \"import argparse\"` | {ms(m['python'])} | 1 | |",
        f"| `pyloader --help` | {ms(m['help'])} | {m['help_ratio']:.2f} | at most 3 |",
        f"| idle `run` in-process (its database work) | {ms(m['work'])} | | |",
        f"| `python -c \"import argparse, psycopg\"` | {ms(m['driver'])} | | |",
        f"| idle `pyloader run` | {ms(m['run'])} | {m['run_ratio']:.2f} of work + python | at most 2 |",
        f"| idle `pyloader run` | | {m['run_driver_ratio']:.2f} of work + python with psycopg | |",
    ])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_startup", description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--out", help="write the markdown section here (default: stdout)")
    args = parser.parse_args(argv)
    text = report(measure(args.repeat), args.repeat)
    if args.out:
        pathlib.Path(args.out).write_text(text + "\n")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
