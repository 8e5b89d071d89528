"""Tenant provisioning (issue 2): time to create N tenants and to migrate them
all when nothing is to do (`make migrate` on an up-to-date database).

    python -m bench.bench_tenants [--tenants 50] [--out FILE]
"""
from __future__ import annotations

import argparse
import pathlib
import sys
import time

from bench.common import machine
from pyloader.db import drop_database, scratch_database
from pyloader import migrate, tenants


def run(n: int) -> dict:
    dbname = "mf_bench_tenants"
    url = scratch_database(dbname)
    try:
        t0 = time.perf_counter()
        for k in range(n):
            tenants.create_tenant(f"BENCH-{k:04d}", url, schedule=False)
        created = time.perf_counter() - t0
        t0 = time.perf_counter()
        results = migrate.migrate_all(url)
        noop = time.perf_counter() - t0
        assert len(results) == n and all(r.ok for r in results)
    finally:
        drop_database(dbname)
    return {"tenants": n, "create_s": created, "migrate_s": noop}


def markdown(r: dict) -> str:
    n = r["tenants"]
    return f"""## Tenants (issue 2)

`python -m bench.bench_tenants --tenants {n}`, {machine()}: {n} tenants created one after
the other (schema, roles, tables at head, every `sql/` file, grants), then `make migrate`'s
work with nothing to upgrade (every `sql/` file re-applied to every tenant).

| step | total | per tenant |
|---|---:|---:|
| `tenant create` x {n} | {r['create_s']:.1f} s | {1000 * r['create_s'] / n:.0f} ms |
| no-op migrate of all {n} | {r['migrate_s']:.1f} s | {1000 * r['migrate_s'] / n:.0f} ms |
"""


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tenants", type=int, default=50)
    ap.add_argument("--out", type=pathlib.Path)
    args = ap.parse_args(argv)
    md = markdown(run(args.tenants))
    print(md)
    if args.out:
        args.out.write_text(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
