"""The old batch pipeline, as a baseline: load every ERP line of one tenant into
memory and recompute the whole master file with pandas.

    python bench/pandas_baseline.py --schema t_acme [--end-week 2024-06-03]

prints one JSON document: rows, keys, lines read, load / compute / wall
seconds and peak RSS. Reads only; DATABASE_URL (or --dsn) names the cluster.
"""

from __future__ import annotations

import io
import sys
import time
from pathlib import Path

import pandas as pd

# Run as a script, the repository root is not on sys.path; the reference lives in tests/.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench import baselines  # noqa: E402
from tests.reference.features import compute_master_file  # noqa: E402


def read_table(buffer: io.BytesIO, columns: list[str], dates: list[str], texts: list[str]) -> pd.DataFrame:
    """One line table from baselines.copy_csv."""
    return pd.read_csv(
        buffer,
        dtype={c: str for c in texts} | {"line_no": "int64"},
        parse_dates=dates,
        true_values=["t"],
        false_values=["f"],
        keep_default_na=False,  # an id such as 'NA' stays text; only an empty field is null
        na_values=[""],
        float_precision="round_trip",  # numeric text to the nearest double, as float(Decimal) does
    )


def run_baseline(dsn: str, schema: str, end_week, timings: dict | None = None) -> pd.DataFrame:
    """The master file's 77 feature columns for every key of `schema`, the old
    way: all lines in memory, everything recomputed (baselines.run)."""
    return baselines.run(dsn, schema, end_week, read_table,
                         lambda lines, end: compute_master_file(end_week=end, **lines), timings)


def main(argv: list[str] | None = None) -> int:
    args = baselines.arguments(__doc__.splitlines()[0]).parse_args(argv)
    started = time.perf_counter()
    timings: dict = {"schema": args.schema}
    result = run_baseline(args.dsn, args.schema, args.end_week, timings)
    keys = int(result[["product_id", "location_id"]].drop_duplicates().shape[0])
    baselines.report(timings, started, rows=len(result), keys=keys)
    return 0


if __name__ == "__main__":
    sys.exit(main())
