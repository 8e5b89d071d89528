"""A polars batch job, as a baseline: load every ERP line of one tenant into
memory and recompute the whole master file with polars (bench/polars_features.py).

    python bench/polars_baseline.py --schema t_acme [--threads 1] [--end-week 2024-06-03] [--out mf.parquet]

prints one JSON document, as bench/pandas_baseline.py does (rows, keys, lines
read, load / compute / wall seconds, peak RSS), and the threads polars ran
with. Reads only; DATABASE_URL (or --dsn) names the cluster.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

# Run as a script, the repository root is not on sys.path.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench import baselines  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = baselines.arguments(__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1,
                        help="polars' thread pool (POLARS_MAX_THREADS); default 1")
    parser.add_argument("--out", type=Path, help="also write the master file here, as Parquet")
    args = parser.parse_args(argv)

    # polars sizes its thread pool once, on import: the variable must be set first
    os.environ["POLARS_MAX_THREADS"] = str(args.threads)
    import polars as pl

    from bench import polars_features

    started = time.perf_counter()
    timings: dict = {"schema": args.schema, "threads": pl.thread_pool_size()}
    result = baselines.run(args.dsn, args.schema, args.end_week, polars_features.read_table,
                           lambda lines, end: polars_features.compute_master_file(end_week=end, **lines), timings)
    keys = result.select(polars_features.KEY).n_unique()
    baselines.report(timings, started, rows=result.height, keys=keys)
    if args.out:
        result.write_parquet(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
