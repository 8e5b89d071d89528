"""One batch's cost as the queue grows: `process_batch` on queues of each size.

A tenant with no lines gets a queue of one mark per key (as a calendar roll
or a full rebuild leaves it), then one pipeline session times
`process_batch(--batch)` several times, each in a transaction rolled back, so
the queue keeps its size. What a batch of keys with nothing to compute costs
is the claim, the marks' deletion and the bookkeeping: the part of a pass
that should not grow with the queue. Medians as JSON, and the ratio of the
largest queue's to the smallest's, and of the session's peak private memory.

    python -m bench.bench_claim [--sizes 20000,200000 --batch 1000 --samples 7]
"""
from __future__ import annotations

import argparse
import json
import statistics
import time

from bench import bench_features as bf
from bench.common import BackendMemory
from pyloader.db import drop_database


def fill_queue(url: str, schema: str, n: int) -> None:
    with bf.connect(url, schema, None) as conn:
        conn.execute("TRUNCATE _private_dirty_keys")
        conn.execute("INSERT INTO _private_dirty_keys (product_id, location_id, from_week, scope)"
                     " SELECT 'Q' || i, 'L1', NULL, 'features' FROM generate_series(1, %s) i", (n,))
        conn.execute("VACUUM ANALYZE _private_dirty_keys")


def time_batches(url: str, schema: str, batch: int, samples: int) -> dict:
    with bf.connect(url, schema, "pipeline") as conn, BackendMemory(conn.info.backend_pid) as mem:
        conn.autocommit = False
        times, rest = [], []
        for i in range(samples + 1):
            t0 = time.perf_counter()
            keys, _, _, _, fs, ps = conn.execute("SELECT * FROM process_batch(%s)", (batch,)).fetchone()
            elapsed = time.perf_counter() - t0
            conn.rollback()
            if i == 0:
                continue  # the session compiles and plans once
            assert keys == batch, f"a batch claimed {keys} keys of {batch}"
            times.append(elapsed)
            rest.append(elapsed - fs - ps)
    return {"batch_ms": round(statistics.median(times) * 1e3, 1),
            "peak_private_mb": round(mem.peak_private_kb / 1024, 1),
            "rest_ms": round(statistics.median(rest) * 1e3, 1),
            "samples_ms": [round(t * 1e3, 1) for t in times]}


def run(sizes: list[int], batch: int, samples: int) -> dict:
    dbname, url, schema, out = bf.bench_tenant(0, 0, dbname="mf_bench_claim")
    try:
        for n in sizes:
            fill_queue(url, schema, n)
            out[str(n)] = time_batches(url, schema, batch, samples)
    finally:
        drop_database(dbname)
    small, large = out[str(min(sizes))], out[str(max(sizes))]
    out["batch"] = batch
    out["ratio_batch"] = round(large["batch_ms"] / small["batch_ms"], 2)
    out["ratio_rest"] = round(large["rest_ms"] / small["rest_ms"], 2)
    out["ratio_memory"] = round(large["peak_private_mb"] / small["peak_private_mb"], 2)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="20000,200000")
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--samples", type=int, default=7)
    args = ap.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    print(json.dumps(run(sizes, args.batch, args.samples)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
